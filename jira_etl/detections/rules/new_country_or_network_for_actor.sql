-- id: new_country_or_network_for_actor
-- title: First action from a country or network new for the actor
-- severity: medium
-- section: behavioural
-- optional: true
-- attack: T1078 Valid Accounts
-- rationale: A change from a country or network the actor never worked from is a stronger signal than a new address in a known network.
-- description: >
--   Needs IP context placed offline (table ip_info, filled by jira_etl.enrich.ip): silent
--   where no country or network is known. Actors without located history are skipped,
--   and so are actors in their learning period (fewer than learning_days active days,
--   days with any record, in the previous history_days). Events without an author are
--   the actor "(system)".
-- parameters:
--   history_days: 30
--   learning_days: 7
WITH today AS (
    SELECT *, coalesce(actor_account_id, '(system)') AS actor
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND (ip_country IS NOT NULL OR ip_network IS NOT NULL)
),
hist AS (
    SELECT coalesce(actor_account_id, '(system)') AS actor,
           list_distinct(list(ip_country)) AS countries, list_distinct(list(ip_network)) AS networks
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND (ip_country IS NOT NULL OR ip_network IS NOT NULL)
    GROUP BY ALL
),
fresh AS MATERIALIZED (
    -- the located changes of the day from a country or network new for the actor
    SELECT t.*
    FROM today t
    JOIN hist h ON h.actor = t.actor
    WHERE (t.ip_country IS NOT NULL AND len(h.countries) > 0 AND NOT list_contains(h.countries, t.ip_country))
       OR (t.ip_network IS NOT NULL AND len(h.networks) > 0 AND NOT list_contains(h.networks, t.ip_network))
),
active AS (
    SELECT coalesce(actor_account_id, '(system)') AS actor, count(DISTINCT CAST(created AS DATE)) AS days
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND coalesce(actor_account_id, '(system)') IN (SELECT actor FROM fresh)
    GROUP BY ALL
)
SELECT t.actor AS actor_account_id,
       min(t.created) AS first_seen,
       max(t.created) AS last_seen,
       CASE WHEN count(DISTINCT t.object) = 1 THEN any_value(t.object)
            ELSE format('{} objects', count(DISTINCT t.object)) END AS object,
       string_agg(DISTINCT t.remote_address, ', ' ORDER BY t.remote_address) AS remote_address,
       format('{} acted from {} (network {}), new for the actor in {} days; known countries: {}',
              any_value(t.actor_label), coalesce(t.ip_country, '?'), coalesce(t.ip_network, '?'), $history_days,
              array_to_string(any_value(h.countries), ', ')) AS message,
       list(t.id ORDER BY t.id) AS record_ids
FROM fresh t
JOIN hist h ON h.actor = t.actor
JOIN active a ON a.actor = t.actor AND a.days >= $learning_days
GROUP BY t.actor, t.ip_country, t.ip_network
