-- id: dormant_actor_returns
-- title: Dormant actor returns with admin changes
-- severity: medium
-- section: behavioural
-- attack: T1078 Valid Accounts
-- rationale: Forgotten admin accounts are prime targets; one that wakes up after a month of silence may no longer be its owner.
-- description: >
--   Fires on an actor's first change of the day when its previous change is at least
--   dormant_days older, or when it has no earlier change at all while the connector has
--   been collected for at least dormant_days (accounts created or re-activated within
--   that period are not dormant). Every audit record is an administrative change.
-- parameters:
--   dormant_days: 30
WITH today AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND actor_account_id IS NOT NULL
),
firsts AS (
    SELECT actor_account_id, min(created) AS first_t FROM today GROUP BY actor_account_id
),
previous AS (
    SELECT f.actor_account_id, f.first_t,
           (SELECT max(a.created) FROM audit_events a
            WHERE a.connector = $connector AND a.actor_account_id = f.actor_account_id
              AND a.created < f.first_t) AS last_before
    FROM firsts f
),
coverage AS (
    SELECT count(*) AS days FROM collected_partitions
    WHERE connector = $connector
      AND day >= CAST($window_start AS DATE) - $dormant_days AND day < CAST($window_start AS DATE)
),
fresh_accounts AS (
    SELECT DISTINCT target_account_id AS account_id FROM audit_events
    WHERE connector = $connector AND target_account_id IS NOT NULL
      AND (action = 'user created' OR is_user_activation)
      AND created >= $window_start - ($dormant_days * INTERVAL 1 DAY) AND created < $window_end
),
dormant AS (
    SELECT p.* FROM previous p
    WHERE (p.last_before IS NOT NULL AND p.last_before <= p.first_t - ($dormant_days * INTERVAL 1 DAY))
       OR (p.last_before IS NULL AND (SELECT days FROM coverage) >= $dormant_days
           AND p.actor_account_id NOT IN (SELECT account_id FROM fresh_accounts))
)
SELECT t.actor_account_id,
       min(t.created) AS first_seen,
       max(t.created) AS last_seen,
       CASE WHEN count(DISTINCT t.object) = 1 THEN any_value(t.object)
            ELSE format('{} objects', count(DISTINCT t.object)) END AS object,
       string_agg(DISTINCT t.remote_address, ', ') AS remote_address,
       format('{} made {} change(s) after {} ({})', any_value(t.actor_label), count(*),
              CASE WHEN any_value(d.last_before) IS NULL THEN format('no activity in at least {} days', $dormant_days)
                   ELSE format('{} days of silence', date_diff('day', any_value(d.last_before), any_value(d.first_t))) END,
              string_agg(DISTINCT t.summary, ', ')[:200]) AS message,
       list(t.id ORDER BY t.id) AS record_ids
FROM today t
JOIN dormant d ON d.actor_account_id = t.actor_account_id
GROUP BY t.actor_account_id
