-- title: New users
-- description: Accounts created, who created them and from where.
SELECT connector, created, target_account_id AS account_id, target_label AS user_name,
       actor_label AS created_by, remote_address, id
FROM audit_events
WHERE action = 'user created'
