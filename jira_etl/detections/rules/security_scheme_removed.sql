-- id: security_scheme_removed
-- title: Issue security or permission scheme removed
-- severity: high
-- section: behavioural
-- attack: T1562 Impair Defenses
-- rationale: Deleting or detaching an issue security scheme exposes restricted issues; deleting a permission scheme drops access control.
-- parameters: {}
SELECT actor_account_id,
       created AS first_seen,
       created AS last_seen,
       object,
       remote_address,
       format('{}: {} by {}{}', summary, coalesce(object_item_name, '(unnamed scheme)'), actor_label,
              coalesce(' (project ' || list_filter(associated_items, lambda x: upper(x.type_name) = 'PROJECT')[1].name || ')', '')) AS message,
       [id] AS record_ids
FROM audit_events
WHERE connector = $connector AND created >= $window_start AND created < $window_end
  AND (action = 'issue security scheme deleted'
       OR (action LIKE 'issue security scheme%' AND action LIKE '%removed%')
       OR action = 'permission scheme deleted')
