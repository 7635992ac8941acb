-- id: user_removed_from_group
-- title: User removed from a group
-- severity: low
-- section: baseline
-- attack: T1531 Account Access Removal
-- rationale: Removing memberships locks people out (or hides an attacker's traces after use).
-- group_message: '{actor} removed {count:,} users from group {object_name} between {first} and {last} UTC (sample: {sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} removed {} from group {}', actor_label, coalesce(target_label, 'a user'), object_item_name) AS message,
       [id] AS record_ids,
       coalesce(target_label, 'a user') AS target,
       object_item_name AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'user removed from group'
