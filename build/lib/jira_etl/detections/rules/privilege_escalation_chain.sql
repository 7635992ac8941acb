-- id: privilege_escalation_chain
-- title: New or re-activated account made admin
-- severity: critical
-- section: behavioural
-- attack: T1136 Create Account, T1098.007 Additional Local or Domain Groups
-- rationale: Creating (or waking up) an account and putting it in an admin group within the hour is the shape of a planted backdoor admin.
-- parameters:
--   admin_groups: [site-admins, jira-administrators, administrators, org-admins]
--   window_minutes: 60
WITH born AS (
    SELECT * FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
      AND target_account_id IS NOT NULL
      AND ((action = 'user created' AND coalesce(object_type, 'USER') = 'USER') OR is_user_activation)
),
promoted AS (
    SELECT * FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
      AND action = 'user added to group'
      AND list_contains($admin_groups, lower(object_item_name))
      AND target_account_id IS NOT NULL
),
pairs AS (
    SELECT b.target_account_id, b.id AS born_id, p.id AS promoted_id,
           least(b.created, p.created) AS t0, greatest(b.created, p.created) AS t1,
           b.summary AS born_summary, b.actor_account_id AS born_actor,
           p.actor_account_id AS promoted_actor, p.remote_address AS promoted_ip,
           p.object_item_name AS grp, p.object AS object, p.target_label, b.actor_label AS born_label,
           p.actor_label AS promoted_label
    FROM born b
    JOIN promoted p ON p.target_account_id = b.target_account_id
                   AND abs(epoch(p.created) - epoch(b.created)) <= $window_minutes * 60
)
SELECT promoted_actor AS actor_account_id,
       min(t0) AS first_seen,
       max(t1) AS last_seen,
       any_value(object) AS object,
       promoted_ip AS remote_address,
       format('{} ({} by {}) was added to admin group {} by {} within {} minutes',
              any_value(target_label), lower(any_value(born_summary)), any_value(born_label), any_value(grp),
              any_value(promoted_label), $window_minutes) AS message,
       list_distinct(list(born_id) || list(promoted_id)) AS record_ids
FROM pairs
-- the pair belongs to the day of its later event
WHERE t1 >= $window_start
GROUP BY target_account_id, promoted_id, promoted_actor, promoted_ip
