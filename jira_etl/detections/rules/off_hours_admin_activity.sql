-- id: off_hours_admin_activity
-- title: Admin change outside the actor's usual hours
-- severity: low
-- section: behavioural
-- attack: T1078 Valid Accounts
-- rationale: Permission, group and user management at hours the actor never works is typical of a stolen account used while its owner sleeps.
-- description: >
--   Usual hours are the actor's own: a profile of hour of day (UTC) over its active days
--   (days with any record) of the last history_days, counted as the number of distinct
--   days on which the actor worked in that hour or a neighbouring one (hour +-1, across
--   midnight), not as a share of events, so a daily burst does not make the rest of the
--   working day look rare, and an admin in another time zone or on a night shift has
--   its own normal. Hour of day rather than hour of week: 30 days hold only about four of
--   each hour of week, too few to tell a quiet Tuesday afternoon from an unusual one.
--   With at least learning_days active days, a change is unusual when its band of hours
--   was worked on fewer than rare_hour_share of the active days (at least on none).
--   While learning (fewer active days), only outside work_start_hour..work_end_hour in
--   site_timezone, for an actor with at least one prior active day that so far worked
--   only inside those hours (one already seen at night or in another time zone is not
--   held to the site hours before it has a profile), and not in a band of hours it
--   already worked: the history only ever silences while learning. Events without an
--   author count as the actor "(system)".
-- parameters:
--   admin_categories: [permissions, group management, user management]
--   history_days: 30
--   learning_days: 7
--   rare_hour_share: 0.1
--   site_timezone: UTC
--   work_start_hour: 7
--   work_end_hour: 20
WITH ev AS (
    -- the UTC hour by integer arithmetic (hour(timezone('UTC', created)) goes through ICU
    -- per row: two thirds of the cost of the look-back over a heavy day)
    SELECT *, coalesce(actor_account_id, '(system)') AS actor, CAST(epoch_us(created) // 3600000000 % 24 AS INTEGER) AS h
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND list_contains($admin_categories, category)
),
-- The look-back is read for the actors of the day only, one row per (actor, day) with the
-- hours worked as bits of a mask (hour h is bit h, UTC): any record counts.
worked AS (
    SELECT coalesce(actor_account_id, '(system)') AS actor, CAST(created AS DATE) AS day,
           bit_or(CAST(1 AS BIGINT) << CAST(epoch_us(created) // 3600000000 % 24 AS INTEGER)) AS hours
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor FROM ev)
    GROUP BY ALL
),
totals AS (
    SELECT actor, count(*) AS active_days FROM worked GROUP BY actor
),
-- Learning actors already seen outside the site hours (in site_timezone): read for the
-- learning actors of the day only, usually few.
outside AS (
    SELECT DISTINCT coalesce(actor_account_id, '(system)') AS actor
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor FROM totals WHERE active_days < $learning_days)
      AND (hour(timezone($site_timezone, created)) < $work_start_hour
           OR hour(timezone($site_timezone, created)) >= $work_end_hour)
),
bands AS (
    -- for each hour of the changes of the day, the days the actor worked in it or a neighbour:
    -- the band mask of a day is its hours shifted by one each way, around midnight
    SELECT p.actor, p.h,
           count(*) FILTER (WHERE ((w.hours | ((w.hours << 1) & 16777215) | (w.hours >> 23)
                                    | (w.hours >> 1) | ((w.hours & 1) << 23)) >> p.h) & 1 = 1) AS days
    FROM (SELECT DISTINCT actor, h FROM ev) p
    JOIN worked w ON w.actor = p.actor
    GROUP BY ALL
),
flagged AS (
    SELECT ev.*, coalesce(t.active_days, 0) AS active_days, coalesce(bd.days, 0) AS band_days,
           coalesce(t.active_days, 0) >= $learning_days AS own_baseline,
           CASE WHEN coalesce(t.active_days, 0) >= $learning_days
                THEN coalesce(bd.days, 0) = 0 OR coalesce(bd.days, 0) < $rare_hour_share * t.active_days
                ELSE coalesce(t.active_days, 0) >= 1 AND o.actor IS NULL AND coalesce(bd.days, 0) = 0
                 AND (hour(timezone($site_timezone, ev.created)) < $work_start_hour
                      OR hour(timezone($site_timezone, ev.created)) >= $work_end_hour)
           END AS off_hours
    FROM ev
    LEFT JOIN totals t ON t.actor = ev.actor
    LEFT JOIN bands bd ON bd.actor = ev.actor AND bd.h = ev.h
    LEFT JOIN outside o ON o.actor = ev.actor
)
SELECT actor AS actor_account_id,
       min(created) AS first_seen,
       max(created) AS last_seen,
       CASE WHEN count(DISTINCT object) = 1 THEN any_value(object)
            ELSE format('{} objects', count(DISTINCT object)) END AS object,
       string_agg(DISTINCT remote_address, ', ' ORDER BY remote_address) AS remote_address,
       format('{} made {} admin change(s) at unusual hours ({}); {}',
              any_value(actor_label), count(*),
              -- the first 300 characters only: entries are at least 10 characters and
              -- 2 of separator, so the 26 earliest (non-null) decide them, and picking these
              -- is cheaper than sorting every off-hours change of the actor
              array_to_string(min_by(strftime(created, '%H:%M') || ' UTC ' || summary, created, 26)
                              FILTER (WHERE summary IS NOT NULL), ', ')[:300],
              CASE WHEN bool_and(own_baseline)
                   THEN 'hours worked on at most ' || max(band_days) || ' of the actor''s ' || any_value(active_days)
                        || ' active days in the last ' || $history_days || ' days'
                   ELSE 'outside ' || $work_start_hour || ':00-' || $work_end_hour || ':00 ' || $site_timezone
                        || ' (the actor is learning: ' || any_value(active_days) || ' active day(s) of ' || $learning_days || ')'
              END) AS message,
       list(id ORDER BY id) AS record_ids
FROM flagged
WHERE off_hours
GROUP BY actor
