-- id: user_removed_from_group
-- title: User removed from a group
-- severity: low
-- section: baseline
-- attack: T1531 Account Access Removal
-- rationale: Removing memberships locks people out (or hides an attacker's traces after use).
-- group_message: '{actor} removed {count:,} users from group {object_name} between {first} and {last} UTC (sample: {sample})'
-- description: >
--   Removals with no author (the system: a directory or SCIM sync mirroring the identity
--   provider, typically hundreds of memberships every night) are skipped unless
--   include_system is true: the change was made, and is audited, in the identity
--   provider, and Jira's record names no account to look at. A person or an API token
--   always has an author. Measured on the realistic background (30 days, the nightly
--   sync of ~100 removals): 240 findings (8 a night) before, the admins' own removals after.
-- parameters:
--   include_system: false
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
  AND (actor_account_id IS NOT NULL OR $include_system)
