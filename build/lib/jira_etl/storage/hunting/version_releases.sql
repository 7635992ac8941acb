-- title: Project version releases
-- description: Versions released, by project and by whom.
SELECT connector, created, coalesce(object_item_parent_name,
           list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name) AS project,
       object_item_name AS version, actor_label AS released_by, remote_address, id
FROM audit_events
WHERE action = 'project version released'
