-- id: password_changed_from_many_ips
-- title: One user's password changed from several IPs
-- severity: high
-- section: baseline
-- attack: T1098 Account Manipulation
-- rationale: Two parties changing the same password from different places within minutes means the account is contested (taken over, or being taken back).
-- parameters:
--   window_minutes: 30
--   min_distinct_ips: 2
WITH pw AS (
    SELECT *, coalesce(target_account_id, actor_account_id) AS subject
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($window_minutes * INTERVAL 1 MINUTE) AND created < $window_end
      AND action = 'user''s password changed'
      AND remote_address IS NOT NULL
      AND coalesce(target_account_id, actor_account_id) IS NOT NULL
),
triggers AS (
    SELECT e.subject, list(p.id) AS ids
    FROM pw e
    JOIN pw p ON p.subject = e.subject
             AND p.created <= e.created
             AND p.created >= e.created - ($window_minutes * INTERVAL 1 MINUTE)
    WHERE e.created >= $window_start
    GROUP BY e.id, e.subject
    HAVING count(DISTINCT p.remote_address) >= $min_distinct_ips
),
involved AS (
    SELECT DISTINCT subject, unnest(ids) AS id FROM triggers
)
SELECT mode(p.actor_account_id) AS actor_account_id,
       min(p.created) AS first_seen,
       max(p.created) AS last_seen,
       any_value(p.object) AS object,
       string_agg(DISTINCT p.remote_address, ', ' ORDER BY p.remote_address) AS remote_address,
       format('password of {} changed {} times from {} IPs ({}) within {} minutes',
              any_value(coalesce(p.target_label, p.actor_label)), count(*),
              count(DISTINCT p.remote_address),
              string_agg(DISTINCT p.remote_address, ', ' ORDER BY p.remote_address), $window_minutes) AS message,
       list(p.id ORDER BY p.id) AS record_ids
FROM involved i
JOIN pw p ON p.id = i.id
GROUP BY i.subject
