-- id: audit_gap
-- title: Collected day without audit records
-- severity: medium
-- section: behavioural
-- attack: T1562.008 Impair Defenses - Disable or Modify Cloud Logs
-- rationale: A busy site does not go silent for a whole day; an empty collected day hints at a collection failure or tampering with the audit log.
-- description: >
--   Only days collected after they ended (a day still in progress is not judged), with
--   at least min_baseline_days collected among the previous baseline_days.
-- parameters:
--   baseline_days: 14
--   min_daily_average: 50
--   min_baseline_days: 7
WITH target AS (
    SELECT day, record_count, loaded_at FROM collected_partitions
    WHERE connector = $connector AND day = CAST($window_start AS DATE)
),
actual AS (
    SELECT count(*) AS n FROM audit_records
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
),
baseline AS (
    SELECT avg(record_count) AS avg_n, count(*) AS days FROM collected_partitions
    WHERE connector = $connector
      AND day >= CAST($window_start AS DATE) - $baseline_days AND day < CAST($window_start AS DATE)
)
SELECT CAST(NULL AS VARCHAR) AS actor_account_id,
       CAST($window_start AS TIMESTAMPTZ) AS first_seen,
       CAST($window_end AS TIMESTAMPTZ) - INTERVAL 1 MILLISECOND AS last_seen,
       'partition ' || strftime(t.day, '%Y-%m-%d') AS object,
       CAST(NULL AS VARCHAR) AS remote_address,
       format('{} was collected and holds no audit records, while the previous {} days averaged {} a day',
              strftime(t.day, '%Y-%m-%d'), $baseline_days, round(b.avg_n, 1)) AS message,
       CAST([] AS BIGINT[]) AS record_ids
FROM target t, actual a, baseline b
WHERE t.record_count = 0 AND a.n = 0
  AND b.days >= $min_baseline_days AND b.avg_n > $min_daily_average
  AND t.loaded_at >= $window_end
