"""Triage state of findings (table `finding_triage`, DDL in triage.sql) and the findings
still open for a connector, whatever day a run covered.

A finding is *open* until someone acknowledges, resolves or marks it a false positive;
`reopen` makes it open again. Acknowledged findings are still listed as open work but
no longer alert; resolved and false positives leave the open list. Suppressed findings
(detections.yaml) never count as open. The state is joined by `finding_id`, which stays
the same across re-evaluations, so a re-run neither reopens nor duplicates a finding.
"""

from __future__ import annotations

import datetime as dt

STATUSES = ("open", "acknowledged", "resolved", "false_positive")
# Statuses that still need someone's attention (shown in the open list).
OPEN_STATUSES = ("open", "acknowledged")
ALERT_SEVERITIES = ("high", "critical")
SEVERITY_RANK = "list_position(['critical', 'high', 'medium', 'low'], f.severity)"


class TriageError(ValueError):
    """An unknown finding id or status; the message says which."""


# Before the pipeline of this release has run once, a warehouse has no triage table, and
# readers never run DDL: every finding then reads as open.
NO_TRIAGE = ("(SELECT NULL::VARCHAR AS finding_id, NULL::VARCHAR AS status, NULL::VARCHAR AS changed_by, "
             "NULL::TIMESTAMPTZ AS changed_at, NULL::VARCHAR AS note WHERE false)")


def triage_table(con) -> str:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'finding_triage' "
                         "AND database_name = current_database()").fetchone()[0]
    return "finding_triage" if exists else NO_TRIAGE


def latest_findings(con) -> str:
    """SQL of the newest row of each finding_id (a finding evaluated on several days, e.g.
    a group still growing, keeps one id) with its triage state; 'open' where none was
    recorded."""
    return f"""
SELECT f.*, coalesce(t.status, 'open') AS status, t.changed_by, t.changed_at, t.note
FROM (SELECT * FROM findings QUALIFY row_number() OVER (
        PARTITION BY coalesce(finding_id, connector || detection_id || day || first_seen)
        ORDER BY day DESC, evaluated_at DESC) = 1) f
LEFT JOIN {triage_table(con)} t USING (finding_id)
"""


def set_status(con, finding_id: str, status: str, changed_by: str, note: str | None = None,
               now: dt.datetime | None = None) -> dict:
    """Record a finding's new triage status (on a writer connection); returns the
    finding (detection, connector, severity, actor) and its previous status."""
    if status not in STATUSES:
        raise TriageError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    ident = (finding_id or "").strip().lower()
    rows = con.execute(
        f"SELECT finding_id, detection_id, connector, severity, coalesce(actor_name, actor_account_id), status "
        f"FROM ({latest_findings(con)}) WHERE finding_id = ? OR (length(?) >= 8 AND starts_with(finding_id, ?))",
        [ident, ident, ident],
    ).fetchall()
    if not rows:
        raise TriageError(f"no finding with id {finding_id!r} (ids are listed by `jira-etl findings`)")
    if len(rows) > 1:
        raise TriageError(f"{finding_id!r} is the start of {len(rows)} finding ids; give more of it")
    fid, detection, connector, severity, actor, previous = rows[0]
    con.execute(
        "INSERT OR REPLACE INTO finding_triage VALUES (?, ?, ?, ?, ?)",
        [fid, status, changed_by, now or dt.datetime.now(dt.timezone.utc), note],
    )
    return {"finding_id": fid, "detection_id": detection, "connector": connector, "severity": severity,
            "actor": actor, "previous": previous, "status": status}


def open_findings(con, connector: str, severities: tuple[str, ...] = ALERT_SEVERITIES) -> list[dict]:
    """Every finding of the connector at these severities that is not suppressed and is
    open or acknowledged, whichever run found it: severity first, then newest first."""
    cur = con.execute(
        f"SELECT f.finding_id, f.severity, f.status, f.detection_id, f.title, "
        f"coalesce(f.actor_name, f.actor_account_id) AS actor, f.\"count\", f.first_seen, f.last_seen, "
        f"f.object, f.remote_address, f.message, f.day, f.changed_by, f.changed_at, f.note "
        f"FROM ({latest_findings(con)}) f WHERE f.connector = ? AND list_contains(?, f.severity) "
        f"AND NOT coalesce(f.suppressed, false) AND list_contains(?, f.status) "
        f"ORDER BY {SEVERITY_RANK}, f.first_seen DESC",
        [connector, list(severities), list(OPEN_STATUSES)],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]
