-- id: global_permission_added
-- title: Global permission granted
-- severity: medium
-- section: baseline
-- attack: T1098 Account Manipulation
-- rationale: Global permissions (Administer Jira, Browse users, Bulk change...) apply to the whole site; granting one widens someone's reach everywhere.
-- group_message: '{actor} granted global permission {object_name} {count:,} times between {first} and {last} UTC (to: {sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} granted global permission {}{}', actor_label,
              coalesce(object_item_name, '(unnamed)'),
              coalesce(' to ' || coalesce(target_label,
                  list_filter(associated_items, lambda x: upper(x.type_name) = 'GROUP')[1].name), '')) AS message,
       [id] AS record_ids,
       coalesce(target_label, list_filter(associated_items, lambda x: upper(x.type_name) = 'GROUP')[1].name) AS target,
       coalesce(object_item_name, '(unnamed)') AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'global permission added'
