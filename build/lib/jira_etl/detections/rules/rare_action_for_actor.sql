-- id: rare_action_for_actor
-- title: Sensitive action the actor never performed before
-- severity: medium
-- section: behavioural
-- attack: T1098 Account Manipulation
-- rationale: An actor suddenly touching permissions, global permissions, admin groups, security schemes or audit settings for the first time in a month deserves a look.
-- description: >
--   Sensitive: category permissions, summaries about permissions, issue security or the
--   audit log, and group membership changes of admin groups (kept apart from ordinary
--   groups). Actors with fewer than min_history_events in history_days are skipped.
-- parameters:
--   admin_groups: [site-admins, jira-administrators, administrators, org-admins]
--   history_days: 30
--   min_history_events: 1
WITH hist AS (
    -- One row per (actor, action key) of the look-back: history is only ever compared by
    -- key (the whole look-back with every column cost more than the rule).
    SELECT actor_account_id,
           action || CASE WHEN object_type = 'GROUP' AND list_contains($admin_groups, lower(object_item_name))
                          THEN ' [admin group]' ELSE '' END AS action_key,
           count(*) AS n
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
    GROUP BY ALL
),
actors AS (
    SELECT actor_account_id, sum(n) AS n FROM hist GROUP BY actor_account_id
),
keyed AS (
    SELECT *,
           action || CASE WHEN object_type = 'GROUP' AND list_contains($admin_groups, lower(object_item_name))
                          THEN ' [admin group]' ELSE '' END AS action_key
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start AND created < $window_end
),
sensitive AS (
    SELECT * FROM keyed
    WHERE category = 'permissions' OR action LIKE '%permission%' OR action LIKE '%security%'
       OR action LIKE '%audit%' OR action_key LIKE '% [admin group]'
)
SELECT s.actor_account_id,
       min(s.created) AS first_seen,
       max(s.created) AS last_seen,
       CASE WHEN count(DISTINCT s.object) = 1 THEN any_value(s.object)
            ELSE format('{} objects', count(DISTINCT s.object)) END AS object,
       string_agg(DISTINCT s.remote_address, ', ') AS remote_address,
       format('{} performed "{}" ({} time(s)), never seen from this actor in the previous {} days',
              any_value(s.actor_label), any_value(s.summary) || CASE WHEN s.action_key LIKE '% [admin group]' THEN ' (admin group)' ELSE '' END,
              count(*), $history_days) AS message,
       list(s.id ORDER BY s.id) AS record_ids
FROM sensitive s
JOIN actors a ON a.actor_account_id = s.actor_account_id AND a.n >= $min_history_events
WHERE NOT EXISTS (SELECT 1 FROM hist h WHERE h.actor_account_id = s.actor_account_id AND h.action_key = s.action_key)
GROUP BY s.actor_account_id, s.action_key
