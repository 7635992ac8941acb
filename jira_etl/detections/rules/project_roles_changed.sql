-- id: project_roles_changed
-- title: Project role membership changed
-- severity: medium
-- section: baseline
-- attack: T1098 Account Manipulation
-- rationale: Project roles grant project permissions (administer project, browse, edit); changes move access.
-- group_by: [actor, object_name]
-- group_message: '{actor} changed project roles of {object_name} {count:,} times between {first} and {last} UTC (roles: {sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} changed project roles of {}', actor_label,
              coalesce(object_item_parent_name, object_item_name, '(unknown project)')) AS message,
       [id] AS record_ids,
       object_item_name AS target,
       coalesce(object_item_parent_name, object_item_name, '(unknown project)') AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'project roles changed'
