-- Tables and views of the detections layer; every statement is idempotent and runs on
-- the writer connection before findings are computed or written.

-- Authors resolved through /rest/api/3/user/bulk (jira_etl.enrich.users).
CREATE TABLE IF NOT EXISTS users (
    account_id    VARCHAR PRIMARY KEY,
    display_name  VARCHAR,
    account_type  VARCHAR,
    active        BOOLEAN,
    email_address VARCHAR,
    time_zone     VARCHAR,
    found         BOOLEAN NOT NULL,
    fetched_at    TIMESTAMPTZ NOT NULL
);

-- IP context (jira_etl.enrich.ip): private / public / missing, and a country where an
-- offline database can place the address.
CREATE TABLE IF NOT EXISTS ip_info (
    ip          VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    country     VARCHAR,
    network     VARCHAR,
    resolved_at TIMESTAMPTZ NOT NULL
);

-- One row per finding; a connector-day's rows are replaced as a whole on each run.
CREATE TABLE IF NOT EXISTS findings (
    connector        VARCHAR NOT NULL,
    day              DATE NOT NULL,
    detection_id     VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    actor_account_id VARCHAR,
    actor_name       VARCHAR,
    first_seen       TIMESTAMPTZ,
    last_seen        TIMESTAMPTZ,
    object           VARCHAR,
    remote_address   VARCHAR,
    message          VARCHAR NOT NULL,
    record_ids       BIGINT[] NOT NULL,
    title            VARCHAR,
    evaluated_at     TIMESTAMPTZ NOT NULL,
    -- Stable across re-runs: a hash of detection, connector, grouping key and the
    -- group's first record (jira_etl.detections.catalogue.finding_id).
    finding_id       VARCHAR,
    group_key        VARCHAR,
    "count"          INTEGER,
    suppressed       BOOLEAN DEFAULT false,
    suppression_reason VARCHAR
);
-- Warehouses made before these columns existed get them (idempotent).
ALTER TABLE findings ADD COLUMN IF NOT EXISTS finding_id VARCHAR;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS group_key VARCHAR;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS "count" INTEGER;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS suppressed BOOLEAN DEFAULT false;
ALTER TABLE findings ADD COLUMN IF NOT EXISTS suppression_reason VARCHAR;

-- The base every rule reads: audit records with normalized action and category, the
-- actor's and the target user's names where known, and the IP's class.
CREATE OR REPLACE VIEW audit_events AS
WITH spelled AS (
    SELECT r.*,
           lower(trim(replace(r.summary, '’', ''''))) AS action_text
    FROM audit_records r
),
norm AS (
    -- Jira Data Center writes some actions as their i18n key (`jira.auditing.user.added.to.group`,
    -- untranslated messages): the key names the Cloud spelling with dots as spaces; its
    -- `user password changed` is Cloud's `user's password changed`.
    SELECT s.* EXCLUDE (action_text),
           CASE WHEN starts_with(s.action_text, 'jira.auditing.')
                THEN CASE replace(substr(s.action_text, 15), '.', ' ')
                          WHEN 'user password changed' THEN 'user''s password changed'
                          ELSE replace(substr(s.action_text, 15), '.', ' ') END
                WHEN s.action_text = 'user password changed' THEN 'user''s password changed'
                ELSE s.action_text END AS action_norm
    FROM spelled s
),
flags AS (
    -- Apart from (below) the other derived columns: a rule filtering on these flags (a
    -- list filter, which DuckDB does not push further down) then computes target_id and
    -- the joins for the rows that pass only. The status change is looked for in
    -- 'user updated' records only: the CASE keeps the list filter off every other row.
    SELECT n.*,
           (n.action_norm IN ('user activated', 'user reactivated', 'user re-activated', 'user enabled')
            OR (n.action_norm = 'user updated' AND CASE WHEN n.action_norm = 'user updated' THEN len(list_filter(n.changed_values,
                lambda c: lower(trim(coalesce(c.field_name, ''))) IN ('active', 'active status', 'status', 'account status')
                          AND lower(trim(coalesce(c.changed_to, ''))) IN ('true', 'active', 'yes', '1', 'enabled'))) > 0 END)
           ) AS is_user_activation,
           (n.action_norm IN ('user deactivated', 'user disabled', 'user suspended')
            OR (n.action_norm = 'user updated' AND CASE WHEN n.action_norm = 'user updated' THEN len(list_filter(n.changed_values,
                lambda c: lower(trim(coalesce(c.field_name, ''))) IN ('active', 'active status', 'status', 'account status')
                          AND lower(trim(coalesce(c.changed_to, ''))) IN ('false', 'inactive', 'no', '0', 'disabled', 'deactivated'))) > 0 END)
           ) AS is_user_deactivation
    FROM norm n
),
base AS (
    SELECT r.*,
           coalesce(nullif(r.author_account_id, ''), nullif(r.author_key, '')) AS actor_id,
           -- Every rule pays for this on every row it scans (the join on users needs it),
           -- so the usual single associated item is read directly, and a list filter (a
           -- lambda per row) only runs on longer lists.
           CASE WHEN upper(r.object_item_type_name) = 'USER'
                THEN coalesce(nullif(r.object_item_id, ''), r.object_item_name)
                WHEN len(r.associated_items) = 1
                THEN CASE WHEN upper(r.associated_items[1].type_name) = 'USER'
                          THEN coalesce(r.associated_items[1].id, r.associated_items[1].name) END
                ELSE coalesce(list_filter(r.associated_items, lambda x: upper(x.type_name) = 'USER')[1].id,
                              list_filter(r.associated_items, lambda x: upper(x.type_name) = 'USER')[1].name)
           END AS target_id
    FROM flags r
)
SELECT b.connector,
       b.id,
       b.created,
       b.summary,
       b.action_norm AS action,
       b.is_user_activation,
       b.is_user_deactivation,
       -- Data Center categories may come as i18n keys too (jira.auditing.category.usermanagement).
       CASE WHEN starts_with(lower(b.category), 'jira.auditing.category.')
            THEN CASE substr(lower(trim(b.category)), 24)
                      WHEN 'usermanagement' THEN 'user management' WHEN 'groupmanagement' THEN 'group management'
                      ELSE replace(substr(lower(trim(b.category)), 24), '.', ' ') END
            ELSE lower(trim(coalesce(b.category, ''))) END AS category,
       nullif(trim(b.remote_address), '') AS remote_address,
       coalesce(ip.kind, CASE WHEN nullif(trim(b.remote_address), '') IS NULL THEN 'missing' END) AS ip_kind,
       ip.country AS ip_country,
       ip.network AS ip_network,
       b.actor_id AS actor_account_id,
       ua.display_name AS actor_name,
       coalesce(ua.display_name, b.actor_id, 'system') AS actor_label,
       b.target_id AS target_account_id,
       coalesce(ut.display_name, b.target_id) AS target_label,
       b.object_item_id,
       b.object_item_name,
       upper(b.object_item_type_name) AS object_type,
       b.object_item_parent_name,
       b.associated_items,
       b.changed_values,
       trim(coalesce(upper(b.object_item_type_name) || ' ', '') || coalesce(b.object_item_name, b.object_item_id, '')) AS object
FROM base b
LEFT JOIN users ua ON ua.account_id = b.actor_id
LEFT JOIN users ut ON ut.account_id = b.target_id
LEFT JOIN ip_info ip ON ip.ip = nullif(trim(b.remote_address), '');
