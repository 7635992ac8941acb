-- id: new_country_or_network_for_actor
-- title: First action from a country or network new for the actor
-- severity: medium
-- section: behavioural
-- optional: true
-- attack: T1078 Valid Accounts
-- rationale: A change from a country or network the actor never worked from is a stronger signal than a new address in a known network.
-- description: >
--   Needs IP context placed offline (table ip_info, filled by jira_etl.enrich.ip): silent
--   where no country or network is known. Actors without located history are skipped.
-- parameters:
--   history_days: 30
WITH today AS (
    SELECT *
    FROM audit_events
    WHERE connector = $connector AND created >= $window_start AND created < $window_end
      AND actor_account_id IS NOT NULL AND (ip_country IS NOT NULL OR ip_network IS NOT NULL)
),
hist AS (
    SELECT actor_account_id, list_distinct(list(ip_country)) AS countries, list_distinct(list(ip_network)) AS networks
    FROM audit_events
    WHERE connector = $connector
      AND created >= $window_start - ($history_days * INTERVAL 1 DAY) AND created < $window_start
      AND actor_account_id IS NOT NULL AND (ip_country IS NOT NULL OR ip_network IS NOT NULL)
    GROUP BY actor_account_id
)
SELECT t.actor_account_id,
       min(t.created) AS first_seen,
       max(t.created) AS last_seen,
       CASE WHEN count(DISTINCT t.object) = 1 THEN any_value(t.object)
            ELSE format('{} objects', count(DISTINCT t.object)) END AS object,
       string_agg(DISTINCT t.remote_address, ', ') AS remote_address,
       format('{} acted from {} (network {}), new for the actor in {} days; known countries: {}',
              any_value(t.actor_label), coalesce(t.ip_country, '?'), coalesce(t.ip_network, '?'), $history_days,
              array_to_string(any_value(h.countries), ', ')) AS message,
       list(t.id ORDER BY t.id) AS record_ids
FROM today t
JOIN hist h ON h.actor_account_id = t.actor_account_id
WHERE (t.ip_country IS NOT NULL AND len(h.countries) > 0 AND NOT list_contains(h.countries, t.ip_country))
   OR (t.ip_network IS NOT NULL AND len(h.networks) > 0 AND NOT list_contains(h.networks, t.ip_network))
GROUP BY t.actor_account_id, t.ip_country, t.ip_network
