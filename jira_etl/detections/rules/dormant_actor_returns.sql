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
WITH firsts AS (
    -- The first change of each actor in the window, from (actor, time) alone: labels
    -- and objects are computed for the changes of dormant actors only, at the end.
    SELECT actor_account_id, min(created) AS first_t
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND actor_account_id IS NOT NULL
    GROUP BY actor_account_id
),
last_before AS (
    -- The change of the actor before first_t: none lies between the window start and
    -- first_t, so it is the last change of the actor before the window: one grouped scan of
    -- history (a subquery per actor, ranging over all history, cost seconds).
    SELECT actor_account_id, max(created) AS last_before
    FROM audit_events
    WHERE connector = $connector AND created < $window_start AND actor_account_id IS NOT NULL
    GROUP BY actor_account_id
),
previous AS (
    SELECT f.actor_account_id, f.first_t, l.last_before
    FROM firsts f
    LEFT JOIN last_before l ON l.actor_account_id = f.actor_account_id
),
coverage AS (
    SELECT count(*) AS days FROM collected_partitions
    WHERE connector = $connector
      AND day >= CAST($window_start AS DATE) - $dormant_days AND day < CAST($window_start AS DATE)
),
unseen AS MATERIALIZED (
    -- actors with no earlier change at all: dormant only if the connector was collected
    -- long enough (and then not if freshly created or re-activated)
    SELECT actor_account_id FROM previous
    WHERE last_before IS NULL AND (SELECT days FROM coverage) >= $dormant_days
),
fresh_accounts AS (
    -- Only the accounts of unseen actors are looked for: with none (the usual case, or a
    -- connector collected for less than dormant_days) the scan is skipped.
    SELECT DISTINCT target_account_id AS account_id FROM audit_events
    WHERE connector = $connector AND target_account_id IS NOT NULL
      AND (action = 'user created' OR is_user_activation)
      AND created >= $window_start - ($dormant_days * INTERVAL 1 DAY) AND created < $window_end
      AND target_account_id IN (SELECT actor_account_id FROM unseen)
),
dormant AS MATERIALIZED (
    SELECT p.* FROM previous p
    WHERE (p.last_before IS NOT NULL AND p.last_before <= p.first_t - ($dormant_days * INTERVAL 1 DAY))
       OR (p.actor_account_id IN (SELECT actor_account_id FROM unseen)
           AND p.actor_account_id NOT IN (SELECT account_id FROM fresh_accounts))
),
today AS MATERIALIZED (
    -- the changes of dormant actors in the window, by id (the ids reach the table scan)
    SELECT e.id
    FROM audit_events e
    JOIN dormant d ON d.actor_account_id = e.actor_account_id
    WHERE e.connector = $connector AND e.created >= $window_start AND e.created < $window_end
)
SELECT t.actor_account_id,
       min(t.created) AS first_seen,
       max(t.created) AS last_seen,
       CASE WHEN count(DISTINCT t.object) = 1 THEN any_value(t.object)
            ELSE format('{} objects', count(DISTINCT t.object)) END AS object,
       string_agg(DISTINCT t.remote_address, ', ' ORDER BY t.remote_address) AS remote_address,
       format('{} made {} change(s) after {} ({})', any_value(t.actor_label), count(*),
              CASE WHEN any_value(d.last_before) IS NULL THEN format('no activity in at least {} days', $dormant_days)
                   ELSE format('{} days of silence', date_diff('day', any_value(d.last_before), any_value(d.first_t))) END,
              -- a sorted sample of whole actions (was an unordered string cut at 200 characters)
              array_to_string(list_sort(list_distinct(list(t.summary)))[:5], ', ')
                  || CASE WHEN count(DISTINCT t.summary) > 5 THEN ', ...' ELSE '' END) AS message,
       list(t.id ORDER BY t.id) AS record_ids
FROM today x
JOIN audit_events t ON t.connector = $connector AND t.id = x.id
                   AND t.created >= $window_start AND t.created < $window_end
JOIN dormant d ON d.actor_account_id = t.actor_account_id
GROUP BY t.actor_account_id
