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
    -- Only what the rolling count needs: labels and objects are read for the events
    -- of the bursts at the end (computing them for every change of the day cost more than the rule).
    -- slice: see `hot` below, slices are window_minutes long (at least a microsecond).
    -- Look-back: three windows, not a day. A burst belongs to the day its first trigger
    -- falls in. One still going at the window start has a trigger in the last window
    -- before it, whose count needs the window before that, and the hot test of its slice
    -- needs the slice before that: 3 x window_minutes decides it exactly (a whole day of
    -- look-back doubled the rows the rolling count sorted).
    SELECT actor_account_id, id, created,
           epoch_us(created) // greatest(CAST(ceil($window_minutes * 60000000.0) AS BIGINT), 1) AS slice
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - (3 * $window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
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
-- The rolling count runs only where it can exceed the limit. Cut time into slices of
-- window_minutes: the changes of the window ending at a change lie in its slice or the
-- one before. The limit is never below min_threshold, so a change can only exceed it
-- where its slice and the previous one together hold more than min_threshold. There,
-- both slices are kept and the count is exact. (Sorting every change of the day by
-- actor and time was most of the cost of the rule.)
slices AS (
    SELECT actor_account_id, slice, count(*) AS n FROM ev GROUP BY ALL
),
hot AS (
    SELECT s.actor_account_id, s.slice
    FROM slices s
    LEFT JOIN slices p ON p.actor_account_id = s.actor_account_id AND p.slice = s.slice - 1
    WHERE s.n + coalesce(p.n, 0) > $min_threshold
),
kept AS (
    SELECT actor_account_id, slice FROM hot
    UNION
    SELECT actor_account_id, slice - 1 FROM hot
),
counted AS (
    SELECT ev.actor_account_id, ev.id, ev.created,
           count(*) OVER (PARTITION BY ev.actor_account_id ORDER BY ev.created
                          RANGE BETWEEN ($window_minutes * INTERVAL 1 MINUTE) PRECEDING AND CURRENT ROW) AS n,
           greatest($min_threshold, coalesce(s.mean + $sd_factor * s.sd, 0)) AS limit_n
    FROM ev
    JOIN kept k ON k.actor_account_id = ev.actor_account_id AND k.slice = ev.slice
    LEFT JOIN stats s ON s.actor_account_id = ev.actor_account_id
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
),
-- materialized: the join back below must start from these few ids, not from every change
burst_changes AS MATERIALIZED (
    SELECT b.actor_account_id, b.island, b.peak, b.limit_n, e.id
    FROM bursts b
    JOIN ev e ON e.actor_account_id = b.actor_account_id
             AND e.created >= b.first_trigger - ($window_minutes * INTERVAL 1 MINUTE)
             AND e.created <= b.last_trigger
)
SELECT c.actor_account_id,
       min(e.created) AS first_seen,
       max(e.created) AS last_seen,
       CASE WHEN count(DISTINCT e.object) = 1 THEN any_value(e.object)
            ELSE format('{} objects', count(DISTINCT e.object)) END AS object,
       string_agg(DISTINCT e.remote_address, ', ') AS remote_address,
       format('{} made up to {} configuration changes in {} minutes (limit {}, from the actor''s baseline); {} changes between {} and {} UTC',
              any_value(e.actor_label), any_value(c.peak), $window_minutes, round(any_value(c.limit_n), 1),
              count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M')) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM burst_changes c
-- by id: the join hands the few ids down to the table scan
JOIN audit_events e ON e.connector = $connector AND e.id = c.id
                   AND e.created >= $window_start - INTERVAL 1 DAY AND e.created < $window_end
GROUP BY c.actor_account_id, c.island
