-- id: user_removed_from_project
-- title: User removed from a project
-- severity: low
-- section: baseline
-- attack: T1531 Account Access Removal
-- rationale: Removing people from projects cuts their access; unexpected removals disrupt work.
-- group_by: [actor, object_name]
-- group_message: '{actor} removed {count:,} users from project {object_name} between {first} and {last} UTC (sample: {sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} removed {} from project {}', actor_label, coalesce(target_label, 'a user'),
              coalesce(list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name,
                       CASE WHEN object_type <> 'USER' THEN coalesce(object_item_parent_name, object_item_name) END,
                       '(unknown project)')) AS message,
       [id] AS record_ids,
       coalesce(target_label, 'a user') AS target,
       coalesce(list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name,
                CASE WHEN object_type <> 'USER' THEN coalesce(object_item_parent_name, object_item_name) END,
                '(unknown project)') AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'user removed from project'
