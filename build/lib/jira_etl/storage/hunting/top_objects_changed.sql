-- title: Top objects changed
-- description: Objects by number of changes, with how many actors changed them and when last.
SELECT connector, object_type, object_item_name AS object_name, count(*) AS changes,
       count(DISTINCT actor_account_id) AS actors, min(created) AS first_changed, max(created) AS last_changed
FROM audit_events
GROUP BY connector, object_type, object_item_name
ORDER BY changes DESC
