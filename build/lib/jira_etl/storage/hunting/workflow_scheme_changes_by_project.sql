-- title: Workflow and scheme changes by project
-- description: Workflow, status and scheme events, with the project they concern when the record names one.
SELECT connector, created, actor_label AS actor, summary, object_type, object_item_name AS object_name,
       coalesce(list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name,
                CASE WHEN object_type = 'PROJECT' THEN object_item_name END) AS project,
       remote_address, id
FROM audit_events
WHERE category = 'workflows' OR action LIKE '%scheme%'
