-- id: new_user_created
-- title: User account created
-- severity: low
-- section: baseline
-- attack: T1136 Create Account
-- rationale: New accounts are a classic persistence step; each one should match a joiner.
-- group_by: [actor]
-- group_message: '{actor} created {count:,} users between {first} and {last} UTC (sample: {sample})'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} created user {}', actor_label, coalesce(target_label, object_item_name)) AS message,
       [id] AS record_ids,
       coalesce(target_label, object_item_name) AS target,
       object_item_name AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'user created'
  AND object_type = 'USER'
