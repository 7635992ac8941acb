-- title: Status changes to or from Blocked
-- description: Changes that move something to or from the status "Blocked", or change the status itself.
SELECT connector, created, actor_label AS actor, summary, object_type, object_item_name AS object_name,
       list_filter(changed_values, lambda c: lower(c.changed_to) = 'blocked' OR lower(c.changed_from) = 'blocked') AS blocked_changes,
       remote_address, id
FROM audit_events
WHERE (object_type = 'STATUS' AND lower(object_item_name) = 'blocked')
   OR len(list_filter(changed_values, lambda c: lower(c.changed_to) = 'blocked' OR lower(c.changed_from) = 'blocked')) > 0
