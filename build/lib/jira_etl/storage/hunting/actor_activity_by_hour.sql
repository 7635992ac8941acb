-- title: Actor activity by hour
-- description: Events per actor per UTC hour, with the categories touched.
SELECT connector, actor_account_id, any_value(actor_label) AS actor,
       date_trunc('hour', created) AS hour_start, hour(timezone('UTC', created)) AS hour_of_day,
       count(*) AS events, string_agg(DISTINCT category, ', ') AS categories
FROM audit_events
GROUP BY connector, actor_account_id, date_trunc('hour', created), hour(timezone('UTC', created))
