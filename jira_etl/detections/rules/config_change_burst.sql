-- id: config_change_burst
-- title: Burst of configuration changes
-- severity: medium
-- section: behavioural
-- attack: T1578 Modify Cloud Compute Infrastructure
-- rationale: Far more configuration changes in an hour than the actor's own usual peak suggests scripted or hostile reconfiguration.
-- description: >
--   Fires when an actor's configuration changes (every category except user and group
--   management) in a rolling window_minutes exceed a limit. The actor's daily peak is the
--   largest count of one window on each of its active days (days with any record) of the
--   last history_days, 0 on active days without configuration changes. With at least
--   learning_days active days the limit is max(min_threshold, q95 of the daily peaks *
--   peak_margin, median + mad_factor * MAD of the daily peaks): a routine repeated every
--   day (or every week) never fires, a one-off burst in the history does not raise it.
--   While learning (fewer active days, or none) only an absolute limit applies,
--   learning_threshold, raised to peak_margin * the largest daily peak already seen (so
--   the same routine on day 2 of a new admin does not fire); it is never lowered by the
--   history. Events without an author count as the actor "(system)", judged from its own
--   history only, once it has system_min_days active days (its automation is its baseline).
-- parameters:
--   min_threshold: 20
--   learning_threshold: 50
--   history_days: 30
--   learning_days: 7
--   peak_margin: 1.25
--   mad_factor: 5.0
--   window_minutes: 60
--   system_min_days: 1
--   exclude_categories: [user management, group management]
WITH ev AS (
    -- Only what the rolling count needs: labels and objects are read for the events
    -- of the bursts at the end (computing them for every change of the day cost more than the rule).
    -- slice: see `slices` below, slices are window_minutes long (at least a microsecond).
    -- Look-back: three windows, not a day. A burst belongs to the day its first trigger
    -- falls in. One still going at the window start has a trigger in the last window
    -- before it, whose count needs the window before that, and the hot test of its slice
    -- needs the slice before that: 3 x window_minutes decides it exactly (a whole day of
    -- look-back doubled the rows the rolling count sorted).
    SELECT coalesce(actor_account_id, '(system)') AS actor_account_id, id, created,
           epoch_us(created) // greatest(CAST(ceil($window_minutes * 60000000.0) AS BIGINT), 1) AS slice
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - (3 * $window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
      AND NOT list_contains($exclude_categories, category)
),
-- The rolling count runs only where it can exceed the limit. Cut time into slices of
-- window_minutes: the changes of the window ending at a change lie in its slice or the
-- one before. The limit is never below least(min_threshold, learning_threshold), so a
-- change can only exceed it where its slice and the previous one together hold more.
-- There, both slices are kept and the count is exact. (Sorting every change of the day
-- by actor and time was most of the cost of the rule.)
slices AS (
    SELECT actor_account_id, slice, count(*) AS n FROM ev GROUP BY ALL
),
warm AS (
    SELECT s.actor_account_id, s.slice, s.n + coalesce(p.n, 0) AS n
    FROM slices s
    LEFT JOIN slices p ON p.actor_account_id = s.actor_account_id AND p.slice = s.slice - 1
    WHERE s.n + coalesce(p.n, 0) > least($min_threshold, $learning_threshold)
),
-- Only these actors can fire: the history below is read for them alone (usually few or
-- none: then the look-back is not scanned at all).
candidates AS (
    SELECT DISTINCT actor_account_id FROM warm
),
-- Daily peaks from quarter-window slices of the look-back, read once: every record
-- counts for the active days (a day with a slice: a day of user management only is a day
-- at work with a configuration peak of 0), the configuration changes for the peaks. The
-- largest sum of 4 consecutive quarters is the count of a real window (a lower bound of
-- the rolling peak of the day, short of it by at most the changes of one quarter, which
-- peak_margin covers), without sorting every change of 30 days.
quarters AS (
    SELECT coalesce(actor_account_id, '(system)') AS actor_account_id,
           epoch_us(created) // greatest(CAST(ceil($window_minutes * 15000000.0) AS BIGINT), 1) AS q,
           count(*) FILTER (WHERE NOT list_contains($exclude_categories, category)) AS n
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor_account_id FROM candidates)
    GROUP BY ALL
),
rolled AS (
    SELECT actor_account_id,
           CAST(make_timestamptz(q * greatest(CAST(ceil($window_minutes * 15000000.0) AS BIGINT), 1)) AS DATE) AS day,
           sum(n) OVER (PARTITION BY actor_account_id ORDER BY q RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS n
    FROM quarters
),
peaks AS (
    SELECT actor_account_id, day, max(n) AS peak FROM rolled GROUP BY ALL
),
stats AS (
    SELECT actor_account_id, count(*) AS active_days,
           quantile_disc(peak, 0.95) AS q95, median(peak) AS med, mad(peak) AS mad, max(peak) AS top
    FROM peaks GROUP BY actor_account_id
),
limits AS (
    SELECT actor_account_id, active_days >= $learning_days AS own_baseline, active_days,
           CASE WHEN active_days >= $learning_days
                THEN greatest($min_threshold, q95 * $peak_margin, med + $mad_factor * mad)
                ELSE greatest($learning_threshold, top * $peak_margin) END AS limit_n
    FROM stats
),
hot AS (
    -- the warm slices above the own limit of the actor
    SELECT w.actor_account_id, w.slice
    FROM warm w
    LEFT JOIN limits l ON l.actor_account_id = w.actor_account_id
    WHERE w.n > coalesce(l.limit_n, $learning_threshold)
      -- (the system actor without the history it is judged by is not counted at all)
      AND (w.actor_account_id <> '(system)' OR coalesce(l.active_days, 0) >= $system_min_days)
),
kept AS (
    SELECT actor_account_id, slice FROM hot
    UNION
    SELECT actor_account_id, slice - 1 FROM hot
),
counted AS (
    SELECT ev.actor_account_id, ev.id, ev.created, ev.slice,
           count(*) OVER (PARTITION BY ev.actor_account_id ORDER BY ev.created
                          RANGE BETWEEN ($window_minutes * INTERVAL 1 MINUTE) PRECEDING AND CURRENT ROW) AS n,
           coalesce(l.limit_n, $learning_threshold) AS limit_n,
           coalesce(l.own_baseline, false) AS own_baseline,
           coalesce(l.active_days, 0) AS active_days
    FROM ev
    JOIN kept k ON k.actor_account_id = ev.actor_account_id AND k.slice = ev.slice
    LEFT JOIN limits l ON l.actor_account_id = ev.actor_account_id
),
-- Islands of triggers (a trigger further than window_minutes from the previous one
-- starts a new burst) are found over the slices that hold triggers, not over every
-- trigger: two triggers of one slice are less than a window apart, so a slice never
-- splits, and consecutive slices join when the first trigger of the later one follows
-- the last of the earlier within a window. (Two window functions over every trigger
-- of a heavy day were a third of the cost of the rule.)
trigger_slices AS (
    SELECT actor_account_id, slice, min(created) AS first_t, max(created) AS last_t, max(n) AS peak,
           any_value(limit_n) AS limit_n, any_value(own_baseline) AS own_baseline,
           any_value(active_days) AS active_days
    FROM counted WHERE n > limit_n AND (actor_account_id <> '(system)' OR active_days >= $system_min_days)
    GROUP BY actor_account_id, slice
),
islands AS (
    SELECT *, sum(CASE WHEN prev_last IS NULL OR first_t - prev_last > ($window_minutes * INTERVAL 1 MINUTE)
                       THEN 1 ELSE 0 END) OVER (PARTITION BY actor_account_id ORDER BY slice) AS island
    FROM (SELECT *, lag(last_t) OVER (PARTITION BY actor_account_id ORDER BY slice) AS prev_last
          FROM trigger_slices)
),
bursts AS (
    SELECT actor_account_id, island, min(first_t) AS first_trigger, max(last_t) AS last_trigger,
           max(peak) AS peak, any_value(limit_n) AS limit_n, any_value(own_baseline) AS own_baseline,
           any_value(active_days) AS active_days
    FROM islands GROUP BY actor_account_id, island
    HAVING min(first_t) >= $window_start
),
-- materialized: the join back below must start from these few ids, not from every change
burst_changes AS MATERIALIZED (
    SELECT b.actor_account_id, b.island, b.peak, b.limit_n, b.own_baseline, b.active_days, e.id
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
       string_agg(DISTINCT e.remote_address, ', ' ORDER BY e.remote_address) AS remote_address,
       format('{} made up to {} configuration changes in {} minutes (limit {}, {}); {} changes between {} and {} UTC',
              any_value(e.actor_label), any_value(c.peak), $window_minutes, round(any_value(c.limit_n), 1),
              CASE WHEN any_value(c.own_baseline)
                   THEN 'from the actor''s usual daily peak over ' || any_value(c.active_days) || ' active days'
                   ELSE 'absolute: the actor is learning, ' || any_value(c.active_days) || ' active day(s) of '
                        || $learning_days END,
              count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M')) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM burst_changes c
-- by id: the join hands the few ids down to the table scan
JOIN audit_events e ON e.connector = $connector AND e.id = c.id
                   AND e.created >= $window_start - INTERVAL 1 DAY AND e.created < $window_end
GROUP BY c.actor_account_id, c.island
