-- id: new_ip_for_actor
-- title: Admin action from an IP new for the actor
-- severity: medium
-- section: behavioural
-- attack: T1078 Valid Accounts
-- rationale: Admins work from a few known addresses; a change from an address the actor never used in a month may be a stolen session or token.
-- description: >
--   Every audit record is an administrative change. Actors with no history in the
--   previous history_days are skipped; private and public addresses both count.
-- parameters:
--   history_days: 30
--   min_history_events: 1
WITH hist AS (
    -- one row per (actor, address) of the look-back: the rule needs no more of history
    SELECT actor_account_id, remote_address, count(*) AS n
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND actor_account_id IS NOT NULL AND remote_address IS NOT NULL
    GROUP BY actor_account_id, remote_address
),
known AS (
    SELECT actor_account_id, sum(n) AS n, string_agg(remote_address, ', ' ORDER BY remote_address) AS ips
    FROM hist GROUP BY actor_account_id
),
new_pairs AS MATERIALIZED (
    -- The changes of the window from an address new for an actor with history, found on
    -- (id, actor, address) alone: labels and objects are computed for these only.
    SELECT t.id
    FROM audit_events t
    JOIN known k ON k.actor_account_id = t.actor_account_id AND k.n >= $min_history_events
    WHERE t.connector = $connector AND t.created >= $window_start AND t.created < $window_end
      AND t.actor_account_id IS NOT NULL AND t.remote_address IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM hist h
                      WHERE h.actor_account_id = t.actor_account_id AND h.remote_address = t.remote_address)
)
SELECT t.actor_account_id,
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
JOIN known k ON k.actor_account_id = t.actor_account_id
GROUP BY t.actor_account_id, t.remote_address
