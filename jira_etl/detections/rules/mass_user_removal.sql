-- id: mass_user_removal
-- title: Mass removal of users or memberships
-- severity: high
-- section: behavioural
-- attack: T1531 Account Access Removal
-- rationale: Removing, deactivating or deleting many accounts or memberships in minutes is sabotage or an attacker locking defenders out.
-- description: >
--   Fires when one actor removes, deactivates or deletes at least threshold users or
--   memberships within window_minutes and more than its own usual peak. The usual peak
--   comes from the actor's daily peaks (the largest count of one window, 0 on active days
--   without removals) over its active days of the last history_days: with at least
--   learning_days active days, max(q95 of the daily peaks * peak_margin, median +
--   mad_factor * MAD), so one past bulk clean-up does not raise it but a nightly
--   directory sync does. While learning, threshold alone, raised to peak_margin * the
--   largest daily peak already seen. Events without an author are the actor "(system)"
--   (directory syncs, automation): it is judged from its own history only, once it has
--   system_min_days active days, so a nightly sync of hundreds of memberships is its
--   baseline from the first night on, and the system far above its sync still fires.
-- parameters:
--   threshold: 10
--   window_minutes: 15
--   history_days: 30
--   learning_days: 7
--   peak_margin: 1.25
--   mad_factor: 5.0
--   system_min_days: 1
WITH ev AS (
    -- the removals of the day and of the day before (a burst may begin before midnight),
    -- on the columns the counts need
    SELECT coalesce(actor_account_id, '(system)') AS actor, id, created
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - INTERVAL 1 DAY AND created < $window_end
      AND (action IN ('user removed from group', 'user removed from project', 'user deleted',
                      'user removed from role', 'user removed from project role')
           OR is_user_deactivation)
),
counted0 AS (
    SELECT actor, id, created,
           count(*) OVER (PARTITION BY actor ORDER BY created
                          RANGE BETWEEN ($window_minutes * INTERVAL 1 MINUTE) PRECEDING AND CURRENT ROW) AS n
    FROM ev
),
-- Only actors reaching the absolute threshold need a history (usually none: then the
-- look-back below is not scanned at all).
candidates AS (
    SELECT DISTINCT actor FROM counted0 WHERE n >= $threshold
),
-- Daily peaks from quarter-window slices of the look-back, read once: every record
-- counts for the active days (a day with a slice), the removals for the peaks. The largest
-- sum of 4 consecutive quarters is the count of a real window (short of the rolling peak by
-- at most one quarter), and the peak of an active day without removals is 0.
quarters AS (
    SELECT coalesce(actor_account_id, '(system)') AS actor,
           epoch_us(created) // greatest(CAST(ceil($window_minutes * 15000000.0) AS BIGINT), 1) AS q,
           count(*) FILTER (WHERE action IN ('user removed from group', 'user removed from project', 'user deleted',
                                             'user removed from role', 'user removed from project role')
                                  OR is_user_deactivation) AS n
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor FROM candidates)
    GROUP BY ALL
),
rolled AS (
    SELECT actor, CAST(make_timestamptz(q * greatest(CAST(ceil($window_minutes * 15000000.0) AS BIGINT), 1)) AS DATE) AS day,
           sum(n) OVER (PARTITION BY actor ORDER BY q RANGE BETWEEN 3 PRECEDING AND CURRENT ROW) AS n
    FROM quarters
),
peaks AS (
    SELECT actor, day, max(n) AS peak FROM rolled GROUP BY ALL
),
limits AS (
    SELECT actor, count(*) AS active_days, count(*) >= $learning_days AS own_baseline,
           CASE WHEN count(*) >= $learning_days
                THEN greatest(quantile_disc(peak, 0.95) * $peak_margin, median(peak) + $mad_factor * mad(peak))
                ELSE max(peak) * $peak_margin END AS usual
    FROM peaks GROUP BY actor
),
counted AS (
    SELECT c.*, coalesce(l.usual, 0) AS usual, coalesce(l.own_baseline, false) AS own_baseline,
           coalesce(l.active_days, 0) AS active_days
    FROM counted0 c LEFT JOIN limits l ON l.actor = c.actor
    WHERE c.n >= $threshold
),
triggers AS (
    SELECT actor, id, created, n, usual, own_baseline, active_days,
           lag(created) OVER (PARTITION BY actor ORDER BY created, id) AS prev
    FROM counted WHERE n > usual AND (actor <> '(system)' OR active_days >= $system_min_days)
),
islands AS (
    SELECT *, sum(CASE WHEN prev IS NULL OR created - prev > ($window_minutes * INTERVAL 1 MINUTE) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY actor ORDER BY created, id) AS island
    FROM triggers
),
bursts AS (
    SELECT actor, island, min(created) AS first_trigger, max(created) AS last_trigger,
           any_value(usual) AS usual, any_value(own_baseline) AS own_baseline, any_value(active_days) AS active_days
    FROM islands GROUP BY actor, island
    -- a burst belongs to the day of its first triggering event
    HAVING min(created) >= $window_start
)
SELECT b.actor AS actor_account_id,
       min(e.created) AS first_seen,
       max(e.created) AS last_seen,
       CASE WHEN count(DISTINCT e.object) = 1 THEN any_value(e.object)
            ELSE format('{} objects', count(DISTINCT e.object)) END AS object,
       string_agg(DISTINCT e.remote_address, ', ' ORDER BY e.remote_address) AS remote_address,
       format('{} removed, deactivated or deleted {} users or memberships between {} and {} UTC ({}); {}',
              any_value(e.actor_label), count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M'),
              -- a sample of whole names (a cut string ended in half a name or a trailing comma)
              array_to_string(list_sort(list_distinct(list(coalesce(e.target_label, e.object_item_name))))[:10], ', ')
                  || CASE WHEN count(DISTINCT coalesce(e.target_label, e.object_item_name)) > 10 THEN ', ...' ELSE '' END,
              CASE WHEN any_value(b.own_baseline)
                   THEN 'usual peak ' || round(any_value(b.usual), 1) || ' per ' || $window_minutes || ' minutes over '
                        || any_value(b.active_days) || ' active days'
                   ELSE 'threshold ' || $threshold || ' (the actor is learning: ' || any_value(b.active_days)
                        || ' active day(s) of ' || $learning_days || ')' END) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM bursts b
JOIN ev x ON x.actor = b.actor
         AND x.created >= b.first_trigger - ($window_minutes * INTERVAL 1 MINUTE)
         AND x.created <= b.last_trigger
-- by id: labels and objects are read for the records of the bursts only
JOIN audit_events e ON e.connector = $connector AND e.id = x.id
                   AND e.created >= $window_start - INTERVAL 1 DAY AND e.created < $window_end
GROUP BY b.actor, b.island
