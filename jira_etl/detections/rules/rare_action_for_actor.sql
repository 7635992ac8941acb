-- id: rare_action_for_actor
-- title: Sensitive action the actor never performed before
-- severity: medium
-- section: behavioural
-- attack: T1098 Account Manipulation
-- rationale: An actor suddenly touching permissions, global permissions, admin groups, security schemes or audit settings for the first time in a month deserves a look.
-- description: >
--   Sensitive: category permissions, summaries about permissions, issue security or the
--   audit log, and removals from admin groups (kept apart from ordinary groups). An
--   addition to an admin group is not repeated here: new_site_admin (high) reports every
--   one, whoever makes it, and a second, behavioural finding on the same record added
--   nothing but noise when a new admin joins. Actors in their learning period (fewer than learning_days active days, days
--   with any record, in the previous history_days) are skipped: nothing is "never
--   performed before" without a history. Events without an author are the actor "(system)".
-- parameters:
--   admin_groups: [site-admins, jira-administrators, administrators, org-admins]
--   history_days: 30
--   learning_days: 7
WITH hist AS (
    -- One row per (actor, action key) of the look-back: history is only ever compared by
    -- key (the whole look-back with every column cost more than the rule).
    SELECT coalesce(actor_account_id, '(system)') AS actor,
           action || CASE WHEN object_type = 'GROUP' AND list_contains($admin_groups, lower(object_item_name))
                          THEN ' [admin group]' ELSE '' END AS action_key,
           count(*) AS n,
           -- the UTC days of the look-back as bits (day number mod 63: distinct over the
           -- at most 62 days of history the runner provides), for the active days below
           bit_or(CAST(1 AS BIGINT) << CAST((epoch_us(created) // 86400000000) % 63 AS INTEGER)) AS days
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
    GROUP BY ALL
),
keyed AS (
    SELECT *, coalesce(actor_account_id, '(system)') AS actor,
           action || CASE WHEN object_type = 'GROUP' AND list_contains($admin_groups, lower(object_item_name))
                          THEN ' [admin group]' ELSE '' END AS action_key
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start AND created < $window_end
),
sensitive AS (
    SELECT * FROM keyed
    WHERE category = 'permissions' OR action LIKE '%permission%' OR action LIKE '%security%'
       OR action LIKE '%audit%' OR action_key LIKE '% [admin group]'
),
reportable AS (
    -- additions to admin groups are new_site_admin findings already
    SELECT * FROM sensitive WHERE NOT (action = 'user added to group' AND action_key LIKE '% [admin group]')
),
fresh AS (
    -- sensitive changes of the day by a key the actor did not use in the look-back (the
    -- columns the finding needs only)
    SELECT s.id, s.actor, s.action_key, s.created, s.object, s.remote_address, s.actor_label, s.summary
    FROM reportable s
    WHERE NOT EXISTS (SELECT 1 FROM hist h WHERE h.actor = s.actor AND h.action_key = s.action_key)
),
actors AS (
    -- active days (any record) from the look-back read once, above
    SELECT actor, bit_count(bit_or(days)) AS days FROM hist GROUP BY actor
)
SELECT s.actor AS actor_account_id,
       min(s.created) AS first_seen,
       max(s.created) AS last_seen,
       CASE WHEN count(DISTINCT s.object) = 1 THEN any_value(s.object)
            ELSE format('{} objects', count(DISTINCT s.object)) END AS object,
       string_agg(DISTINCT s.remote_address, ', ' ORDER BY s.remote_address) AS remote_address,
       format('{} performed "{}" ({} time(s)), never seen from this actor in the previous {} days',
              any_value(s.actor_label), any_value(s.summary) || CASE WHEN s.action_key LIKE '% [admin group]' THEN ' (admin group)' ELSE '' END,
              count(*), $history_days) AS message,
       list(s.id ORDER BY s.id) AS record_ids
FROM fresh s
JOIN actors a ON a.actor = s.actor AND a.days >= $learning_days
GROUP BY s.actor, s.action_key
