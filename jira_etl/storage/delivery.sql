-- Delivery state of findings (jira_etl.delivery.ledger): one row per finding and
-- destination. Re-evaluations replace `findings` rows, never these. A destination is
-- stored by its NAME (webhook, slack, a name from delivery.yaml), never its URL, which
-- is a secret.
CREATE TABLE IF NOT EXISTS deliveries (
    finding_id      VARCHAR NOT NULL,
    destination     VARCHAR NOT NULL,
    -- pending (to send, or to retry at next_attempt_at), delivered (acknowledged:
    -- 2xx, or written to the socket), failed (refused with a 4xx: not retried until
    -- `jira-etl deliver --retry-failed`).
    status          VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    next_attempt_at TIMESTAMPTZ,
    delivered_at    TIMESTAMPTZ,
    -- What the receiver has acknowledged: the group's record ids and size when last
    -- delivered. A finding whose group has grown since is sent once more, as an update.
    sent_record_ids BIGINT[],
    sent_count      INTEGER,
    updates_sent    INTEGER NOT NULL DEFAULT 0,
    connector       VARCHAR,
    detection_id    VARCHAR,
    severity        VARCHAR,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (finding_id, destination)
);
