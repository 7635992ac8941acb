-- id: mass_user_removal
-- title: Mass removal of users or memberships
-- severity: high
-- section: behavioural
-- attack: T1531 Account Access Removal
-- rationale: Removing, deactivating or deleting many accounts or memberships in minutes is sabotage or an attacker locking defenders out.
-- parameters:
--   threshold: 10
--   window_minutes: 15
WITH ev AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND actor_account_id IS NOT NULL
      AND created >= $window_start - INTERVAL 1 DAY AND created < $window_end
      AND (action IN ('user removed from group', 'user removed from project', 'user deleted',
                      'user removed from role', 'user removed from project role')
           OR is_user_deactivation)
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
    -- a burst belongs to the day of its first triggering event
    HAVING min(created) >= $window_start
)
SELECT b.actor_account_id,
       min(e.created) AS first_seen,
       max(e.created) AS last_seen,
       CASE WHEN count(DISTINCT e.object) = 1 THEN any_value(e.object)
            ELSE format('{} objects', count(DISTINCT e.object)) END AS object,
       string_agg(DISTINCT e.remote_address, ', ') AS remote_address,
       format('{} removed, deactivated or deleted {} users or memberships between {} and {} UTC ({})',
              any_value(e.actor_label), count(*), strftime(min(e.created), '%H:%M'), strftime(max(e.created), '%H:%M'),
              string_agg(DISTINCT coalesce(e.target_label, e.object_item_name), ', ')[:300]) AS message,
       list(e.id ORDER BY e.id) AS record_ids
FROM bursts b
JOIN ev e ON e.actor_account_id = b.actor_account_id
         AND e.created >= b.first_trigger - ($window_minutes * INTERVAL 1 MINUTE)
         AND e.created <= b.last_trigger
GROUP BY b.actor_account_id, b.island
