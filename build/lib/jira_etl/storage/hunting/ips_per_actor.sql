-- title: IPs per actor
-- description: Every source address of each actor, its class and country where known, first and last use.
SELECT connector, actor_account_id, any_value(actor_label) AS actor, remote_address,
       any_value(ip_kind) AS ip_kind, any_value(ip_country) AS country, any_value(ip_network) AS network,
       min(created) AS first_seen, max(created) AS last_seen, count(*) AS events
FROM audit_events
GROUP BY connector, actor_account_id, remote_address
