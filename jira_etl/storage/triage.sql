-- Triage state of findings (`jira-etl findings ack|resolve|reopen`), one row per
-- finding_id. Its own table: re-evaluations replace a day's rows of `findings`, never
-- these, and findings keep their finding_id across re-runs, so a triaged finding stays
-- triaged (joined by finding_id) and is never reopened or duplicated by a new run.
CREATE TABLE IF NOT EXISTS finding_triage (
    finding_id VARCHAR PRIMARY KEY,
    status     VARCHAR NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'false_positive')),
    changed_by VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    note       VARCHAR
);
