-- id: mass_deletion
-- title: Mass deletion of projects or configuration
-- severity: high
-- section: behavioural
-- attack: T1485 Data Destruction
-- rationale: Deleting many projects, schemes, workflows or fields in an hour destroys work and configuration at scale.
-- parameters:
--   threshold: 5
--   window_minutes: 60
WITH ev AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      -- Look-back: three windows, not a day (as config_change_burst: a burst still
      -- going at the window start has a trigger in the window before it, whose count
      -- needs the window before that. A day read every deletion of a heavy day again.)
      AND created >= $window_start - (3 * $window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
      AND action LIKE '% deleted'
      AND (action LIKE 'project%' OR action LIKE '%scheme%' OR action LIKE '%workflow%'
           OR action LIKE '%field%' OR action LIKE '%screen%' OR action LIKE 'status%'
           OR action LIKE '%issue type%' OR action LIKE '%board%' OR action LIKE '%filter%')
),
counted AS (
    SELECT *, count(*) OVER (PARTITION BY actor_account_id ORDER BY created
                             RANGE BETWEEN ($window_minutes * INTERVAL 1 MINUTE) PRECEDING AND CURRENT ROW) AS n
    FROM ev
),
triggers AS (
    SELECT actor_account_id, id, created,
           lag(created) OVER (PARTITION BY actor_account_id ORDER BY created, id) AS prev
    FROM counted WHERE n >= $threshold
),
islands AS (
    SELECT *, sum(CASE WHEN prev IS NULL OR created - prev > ($window_minutes * INTERVAL 1 MINUTE) THEN 1 ELSE 0 END)
                  OVER (PARTITION BY actor_account_id ORDER BY created, id) AS island
    FROM triggers
),
bursts AS (
    SELECT actor_account_id, island, min(created) AS first_trigger, max(created) AS last_trigger
    FROM islands GROUP BY actor_account_id, island
    HAVING min(created) >= $window_start
)
SELECT b.actor_account_id,
       min(e.created) AS first_seen,
       max(e.created) AS last_seen,
       CASE WHEN count(DISTINCT e.object) = 1 THEN any_value(e.object)
            ELSE format('{} objects', count(DISTINCT e.object)) END AS object,
       string_agg(DISTINCT e.remote_address, ', ' ORDER BY e.remote_address) AS remote_address,
       format('{} deleted {} projects/schemes/workflows/fields between {} and {} UTC ({})',
              any_value(e.actor_label), count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M'),
              -- a sample of whole names, sorted, so a re-run writes the same message (an
              -- unordered string cut at 300 characters changed between runs and ended in half a name)
              array_to_string(list_sort(list_distinct(list(e.object)))[:10], ', ')
                  || CASE WHEN count(DISTINCT e.object) > 10 THEN ', ...' ELSE '' END) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM bursts b
JOIN ev e ON e.actor_account_id = b.actor_account_id
         AND e.created >= b.first_trigger - ($window_minutes * INTERVAL 1 MINUTE)
         AND e.created <= b.last_trigger
GROUP BY b.actor_account_id, b.island
