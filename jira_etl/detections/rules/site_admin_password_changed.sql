-- id: site_admin_password_changed
-- title: Password of a new admin changed
-- severity: high
-- section: baseline
-- attack: T1098 Account Manipulation
-- rationale: A password change shortly after a user became admin is how a taken-over or freshly planted admin account is secured by an attacker.
-- parameters:
--   admin_groups: [site-admins, jira-administrators, administrators, org-admins]
--   lookback_days: 14
WITH pw AS (
    SELECT * FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND action = 'user''s password changed'
),
added AS (
    SELECT * FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($lookback_days * INTERVAL 1 DAY) AND created < $window_end
      AND action = 'user added to group'
      AND list_contains($admin_groups, lower(object_item_name))
      AND target_account_id IS NOT NULL
)
SELECT pw.actor_account_id,
       min(a.created) AS first_seen,
       pw.created AS last_seen,
       any_value(pw.object) AS object,
       pw.remote_address,
       format('password of {} changed by {}, {} day(s) after being added to {}',
              any_value(pw.target_label), any_value(pw.actor_label),
              date_diff('day', max(a.created), pw.created), string_agg(DISTINCT a.object_item_name, ', ' ORDER BY a.object_item_name)) AS message,
       list_distinct(list(a.id) || [pw.id]) AS record_ids
FROM pw
JOIN added a ON a.target_account_id = pw.target_account_id
            AND a.created <= pw.created
            AND a.created >= pw.created - ($lookback_days * INTERVAL 1 DAY)
GROUP BY pw.id, pw.created, pw.actor_account_id, pw.remote_address
