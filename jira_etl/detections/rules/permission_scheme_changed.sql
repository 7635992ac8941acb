-- id: permission_scheme_changed
-- title: Permission scheme changed
-- severity: medium
-- section: baseline
-- attack: T1222 File and Directory Permissions Modification
-- rationale: Permission schemes decide who can see and change every issue of the projects using them.
-- group_message: '{actor} changed permission scheme {object_name} {count:,} times between {first} and {last} UTC ({sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{}: {} by {}{}', summary, coalesce(object_item_name, '(unnamed scheme)'), actor_label,
              coalesce(' (project ' || list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name || ')', '')) AS message,
       [id] AS record_ids,
       summary || coalesce(' (project ' || list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name || ')', '') AS target,
       coalesce(object_item_name, '(unnamed scheme)') AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action IN ('permission scheme updated', 'permission scheme deleted', 'permission scheme added to project')
