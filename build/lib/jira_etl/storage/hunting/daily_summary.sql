-- title: Daily summary per connector
-- description: Per connector and UTC day, records, actors, addresses, admin-category events and findings by severity.
WITH ev AS (
    SELECT connector, CAST(timezone('UTC', created) AS DATE) AS day, count(*) AS records,
           count(DISTINCT actor_account_id) AS actors, count(DISTINCT remote_address) AS ips,
           count(*) FILTER (WHERE category IN ('permissions', 'group management', 'user management')) AS admin_events
    FROM audit_events GROUP BY ALL
),
f AS (
    SELECT connector, day, count(*) AS findings,
           count(*) FILTER (WHERE severity = 'critical') AS critical,
           count(*) FILTER (WHERE severity = 'high') AS high,
           count(*) FILTER (WHERE severity = 'medium') AS medium,
           count(*) FILTER (WHERE severity = 'low') AS low
    FROM findings GROUP BY ALL
)
SELECT coalesce(ev.connector, f.connector) AS connector, coalesce(ev.day, f.day) AS day,
       coalesce(ev.records, 0) AS records, coalesce(ev.actors, 0) AS actors, coalesce(ev.ips, 0) AS ips,
       coalesce(ev.admin_events, 0) AS admin_events, coalesce(f.findings, 0) AS findings,
       coalesce(f.critical, 0) AS critical, coalesce(f.high, 0) AS high,
       coalesce(f.medium, 0) AS medium, coalesce(f.low, 0) AS low
FROM ev FULL OUTER JOIN f ON f.connector = ev.connector AND f.day = ev.day
