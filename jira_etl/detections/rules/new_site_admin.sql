-- id: new_site_admin
-- title: User added to an admin group
-- severity: high
-- section: baseline
-- attack: T1098.007 Account Manipulation - Additional Local or Domain Groups
-- rationale: Membership of an administrators group is full control of the site; every addition should be expected.
-- group_message: '{actor} added {count:,} users to admin group {object_name} between {first} and {last} UTC (sample: {sample})'
-- parameters:
--   admin_groups: [site-admins, jira-administrators, administrators, org-admins]
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} added {} to admin group {}', actor_label, coalesce(target_label, 'a user'), object_item_name) AS message,
       [id] AS record_ids,
       coalesce(target_label, 'a user') AS target,
       object_item_name AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'user added to group'
  AND list_contains($admin_groups, lower(object_item_name))
