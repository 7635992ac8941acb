-- id: workflow_scheme_copied
-- title: Workflow scheme copied
-- severity: low
-- section: baseline
-- rationale: Copying a scheme is a common first step to swapping a project's workflow (and its approval steps) quietly.
-- group_message: '{actor} copied workflow scheme {object_name} {count:,} times between {first} and {last} UTC'
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{} copied workflow scheme {}', actor_label, coalesce(object_item_name, '(unnamed)')) AS message,
       [id] AS record_ids,
       coalesce(object_item_name, '(unnamed)') AS object_name
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND action = 'workflow scheme copied'
