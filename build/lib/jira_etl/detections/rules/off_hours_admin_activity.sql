-- id: off_hours_admin_activity
-- title: Admin change outside the actor's usual hours
-- severity: low
-- section: behavioural
-- attack: T1078 Valid Accounts
-- rationale: Permission, group and user management at hours the actor never works is typical of a stolen account used while its owner sleeps.
-- description: >
--   Usual hours come from the actor's own last history_days of events (an hour of day,
--   UTC, holding under rare_hour_share of them is unusual) when there are at least
--   min_history_events; otherwise outside work_start_hour..work_end_hour in site_timezone.
-- parameters:
--   admin_categories: [permissions, group management, user management]
--   history_days: 30
--   min_history_events: 50
--   rare_hour_share: 0.02
--   site_timezone: UTC
--   work_start_hour: 7
--   work_end_hour: 20
WITH ev AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND actor_account_id IS NOT NULL
      AND list_contains($admin_categories, category)
),
hist AS (
    SELECT actor_account_id, hour(timezone('UTC', created)) AS h, count(*) AS n
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
    GROUP BY ALL
),
totals AS (
    SELECT actor_account_id, sum(n) AS total FROM hist GROUP BY actor_account_id
),
flagged AS (
    SELECT ev.*, coalesce(t.total, 0) >= $min_history_events AS own_baseline,
           CASE WHEN coalesce(t.total, 0) >= $min_history_events
                THEN coalesce(h.n, 0) < $rare_hour_share * t.total
                ELSE hour(timezone($site_timezone, ev.created)) < $work_start_hour
                  OR hour(timezone($site_timezone, ev.created)) >= $work_end_hour
           END AS off_hours
    FROM ev
    LEFT JOIN totals t ON t.actor_account_id = ev.actor_account_id
    LEFT JOIN hist h ON h.actor_account_id = ev.actor_account_id AND h.h = hour(timezone('UTC', ev.created))
)
SELECT actor_account_id,
       min(created) AS first_seen,
       max(created) AS last_seen,
       CASE WHEN count(DISTINCT object) = 1 THEN any_value(object)
            ELSE format('{} objects', count(DISTINCT object)) END AS object,
       string_agg(DISTINCT remote_address, ', ') AS remote_address,
       format('{} made {} admin change(s) at unusual hours ({}); {}',
              any_value(actor_label), count(*),
              -- the first 300 characters only: entries are at least 10 characters and
              -- 2 of separator, so the 26 earliest (non-null) decide them, and picking these
              -- is cheaper than sorting every off-hours change of the actor
              array_to_string(min_by(strftime(created, '%H:%M') || ' UTC ' || summary, created, 26)
                              FILTER (WHERE summary IS NOT NULL), ', ')[:300],
              CASE WHEN bool_and(own_baseline) THEN 'rare hour in the actor''s own last ' || $history_days || ' days'
                   ELSE 'outside ' || $work_start_hour || ':00-' || $work_end_hour || ':00 ' || $site_timezone || ' (no baseline)' END) AS message,
       list(id ORDER BY id) AS record_ids
FROM flagged
WHERE off_hours
GROUP BY actor_account_id
