-- id: config_change_burst
-- title: Burst of configuration changes
-- severity: medium
-- section: behavioural
-- attack: T1578 Modify Cloud Compute Infrastructure
-- rationale: Far more configuration changes in an hour than the actor's own baseline suggests scripted or hostile reconfiguration.
-- description: >
--   Fires when an actor's configuration changes (every category except user and group
--   management) in a rolling hour exceed max(min_threshold, mean + sd_factor * sd) of
--   that actor's hourly counts over the baseline days (every hour counted, idle hours as 0).
-- parameters:
--   min_threshold: 20
--   sd_factor: 4.0
--   baseline_days: 14
--   window_minutes: 60
--   exclude_categories: [user management, group management]
WITH ev AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - INTERVAL 1 DAY AND created < $window_end
      AND NOT list_contains($exclude_categories, category)
),
hourly AS (
    SELECT actor_account_id, date_trunc('hour', created) AS hour_start, count(*) AS n
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - ($baseline_days * INTERVAL 1 DAY) AND created < $window_start
      AND NOT list_contains($exclude_categories, category)
    GROUP BY ALL
),
stats AS (
    SELECT actor_account_id,
           sum(n) / (24.0 * $baseline_days) AS mean,
           sqrt(greatest(sum(n * n) / (24.0 * $baseline_days) - pow(sum(n) / (24.0 * $baseline_days), 2), 0)) AS sd
    FROM hourly GROUP BY actor_account_id
),
counted AS (
    SELECT ev.actor_account_id, ev.id, ev.created,
           count(*) OVER (PARTITION BY ev.actor_account_id ORDER BY ev.created
                          RANGE BETWEEN ($window_minutes * INTERVAL 1 MINUTE) PRECEDING AND CURRENT ROW) AS n,
           greatest($min_threshold, coalesce(s.mean + $sd_factor * s.sd, 0)) AS limit_n
    FROM ev LEFT JOIN stats s ON s.actor_account_id = ev.actor_account_id
),
triggers AS (
    SELECT actor_account_id, id, created, n, limit_n,
           lag(created) OVER (PARTITION BY actor_account_id ORDER BY created, id) AS prev
    FROM counted WHERE n > limit_n
),
islands AS (
    SELECT *, sum(CASE WHEN prev IS NULL OR created - prev > ($window_minutes * INTERVAL 1 MINUTE) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY actor_account_id ORDER BY created, id) AS island
    FROM triggers
),
bursts AS (
    SELECT actor_account_id, island, min(created) AS first_trigger, max(created) AS last_trigger,
           max(n) AS peak, any_value(limit_n) AS limit_n
    FROM islands GROUP BY actor_account_id, island
    HAVING min(created) >= $window_start
)
SELECT b.actor_account_id,
       min(e.created) AS first_seen,
       max(e.created) AS last_seen,
       CASE WHEN count(DISTINCT e.object) = 1 THEN any_value(e.object)
            ELSE format('{} objects', count(DISTINCT e.object)) END AS object,
       string_agg(DISTINCT e.remote_address, ', ') AS remote_address,
       format('{} made up to {} configuration changes in {} minutes (limit {}, from the actor''s baseline); {} changes between {} and {} UTC',
              any_value(e.actor_label), any_value(b.peak), $window_minutes, round(any_value(b.limit_n), 1),
              count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M')) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM bursts b
JOIN ev e ON e.actor_account_id = b.actor_account_id
         AND e.created >= b.first_trigger - ($window_minutes * INTERVAL 1 MINUTE)
         AND e.created <= b.last_trigger
GROUP BY b.actor_account_id, b.island
