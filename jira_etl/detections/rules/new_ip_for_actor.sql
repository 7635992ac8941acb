-- id: new_ip_for_actor
-- title: Admin action from an IP new for the actor
-- severity: medium
-- section: behavioural
-- attack: T1078 Valid Accounts
-- rationale: Admins work from a few known addresses; a change from an address the actor never used in a month may be a stolen session or token.
-- description: >
--   Every audit record is an administrative change. Actors in their learning period
--   (fewer than learning_days active days, days with any record, in the previous
--   history_days) are skipped: nothing is "new for the actor" before it has a history.
--   Private and public addresses both count. Events without an author are the actor
--   "(system)".
-- parameters:
--   history_days: 30
--   learning_days: 7
WITH hist AS (
    -- one row per (actor, address) of the look-back: the rule needs no more of history
    SELECT coalesce(actor_account_id, '(system)') AS actor_account_id, remote_address, count(*) AS n
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND remote_address IS NOT NULL
    GROUP BY ALL
),
known AS (
    SELECT actor_account_id, string_agg(remote_address, ', ' ORDER BY remote_address) AS ips
    FROM hist GROUP BY actor_account_id
),
new_pairs AS MATERIALIZED (
    -- The changes of the window from an address new for an actor with known addresses,
    -- found on (id, actor, address) alone: labels and objects are computed for these only.
    SELECT t.id, k.actor_account_id AS actor
    FROM audit_events t
    JOIN known k ON k.actor_account_id = coalesce(t.actor_account_id, '(system)')
    WHERE t.connector = $connector AND t.created >= $window_start AND t.created < $window_end
      AND t.remote_address IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM hist h
                      WHERE h.actor_account_id = k.actor_account_id AND h.remote_address = t.remote_address)
),
active AS (
    -- active days (any record) of the actors with a new address only
    SELECT coalesce(actor_account_id, '(system)') AS actor, count(DISTINCT CAST(created AS DATE)) AS days
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor FROM new_pairs)
    GROUP BY ALL
)
SELECT x.actor AS actor_account_id,
       min(t.created) AS first_seen,
       max(t.created) AS last_seen,
       CASE WHEN count(DISTINCT t.object) = 1 THEN any_value(t.object)
            ELSE format('{} objects', count(DISTINCT t.object)) END AS object,
       t.remote_address,
       format('{} acted from {} IP {} not used in the previous {} days ({} change(s), first: {}); known: {}',
              any_value(t.actor_label), coalesce(any_value(t.ip_kind), 'unclassified'), t.remote_address, $history_days,
              count(*), arg_min(t.summary, t.created), any_value(k.ips)[:200]) AS message,
       list(t.id ORDER BY t.id) AS record_ids
FROM new_pairs x
-- by id: the join hands the ids down to the table scan
JOIN audit_events t ON t.connector = $connector AND t.id = x.id
                   AND t.created >= $window_start AND t.created < $window_end
JOIN known k ON k.actor_account_id = x.actor
JOIN active a ON a.actor = x.actor AND a.days >= $learning_days
GROUP BY x.actor, t.remote_address
