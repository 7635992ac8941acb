"""What the report shows, read from the warehouse on a read-only connection.

Everything here is a plain query over `audit_records`, `collected_partitions`,
`collection_attempts`, `findings` and `finding_triage`; the collection status itself is
`jira_etl.status.connector_status`, the same logic `jira-etl status` prints.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from jira_etl.status import ConnectorStatus, connector_status, format_lag
from jira_etl.storage.triage import latest_findings

UTC = dt.timezone.utc
SEVERITIES = ("critical", "high", "medium", "low")
# Records shown under each finding; the rest are counted ("and 112 more").
RECORDS_PER_FINDING = 25
TOP_N = 15
HEATMAP_ACTORS = 20


@dataclass
class DayState:
    day: dt.date
    state: str  # collected | empty | failed | never
    records: int = 0
    error: str = ""


@dataclass
class ConnectorReport:
    name: str
    status: ConnectorStatus
    days: list[DayState]
    records_by_category: pd.DataFrame  # day, category, records
    findings_by_severity: pd.DataFrame  # day, severity, findings
    actor_hours: pd.DataFrame  # actor, hour, records
    top_actors: pd.DataFrame  # actor, records
    top_objects: pd.DataFrame  # object, changes
    new_actors: pd.DataFrame  # day, new
    new_ips: pd.DataFrame  # day, new
    findings: list[dict] = field(default_factory=list)
    suppressed: pd.DataFrame = field(default_factory=pd.DataFrame)  # detection, reason, findings
    history_start: dt.date | None = None

    @property
    def total_records(self) -> int:
        return int(self.records_by_category["records"].sum()) if not self.records_by_category.empty else 0

    @property
    def gaps(self) -> list[DayState]:
        return [d for d in self.days if d.state in ("failed", "never")]

    def lag_text(self) -> str:
        return format_lag(self.status.lag)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time(), UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC))


def day_states(con, connector: str, start: dt.date, end: dt.date) -> list[DayState]:
    """Each day of the period: collected (with its record count), collected but empty,
    failed (an attempt covering it failed and no later one succeeded) or never collected."""
    collected = dict(con.execute(
        "SELECT day, record_count FROM collected_partitions WHERE connector = ? AND day BETWEEN ? AND ?",
        [connector, start, end]).fetchall())
    attempts = con.execute(
        "SELECT ok, first_day, last_day, message FROM collection_attempts WHERE connector = ? "
        "AND first_day <= ? AND last_day >= ? ORDER BY attempted_at", [connector, end, start]).fetchall()
    failed: dict[dt.date, str] = {}
    for ok, first, last, message in attempts:
        day = max(first, start)
        while day <= min(last, end):
            if ok:
                failed.pop(day, None)
            else:
                failed[day] = message or "failed"
            day += dt.timedelta(days=1)
    out, day = [], start
    while day <= end:
        if day in failed:
            out.append(DayState(day, "failed", int(collected.get(day, 0)), failed[day]))
        elif day in collected:
            n = int(collected[day])
            out.append(DayState(day, "collected" if n else "empty", n))
        else:
            out.append(DayState(day, "never"))
        day += dt.timedelta(days=1)
    return out


def _frame(con, sql: str, params: list) -> pd.DataFrame:
    return con.execute(sql, params).df()


def activity(con, connector: str, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    lo, hi = _bounds(start, end)
    p = [connector, lo, hi]
    window = "connector = ? AND created >= ? AND created < ?"
    out = {
        "records_by_category": _frame(con, (
            "SELECT CAST(created AS DATE) AS day, coalesce(nullif(category, ''), 'uncategorized') AS category, "
            f"count(*) AS records FROM audit_records WHERE {window} GROUP BY ALL ORDER BY 1, 2"), p),
        "findings_by_severity": _frame(con, (
            "SELECT day, severity, count(*) AS findings FROM findings WHERE connector = ? AND day BETWEEN ? AND ? "
            "AND NOT coalesce(suppressed, false) GROUP BY ALL ORDER BY 1"), [connector, start, end]),
        "top_actors": _frame(con, (
            f"SELECT actor_label AS actor, count(*) AS records FROM audit_events WHERE {window} "
            f"GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT {TOP_N}"), p),
        "top_objects": _frame(con, (
            f"SELECT object, count(*) AS changes FROM audit_events WHERE {window} AND object <> '' "
            f"GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT {TOP_N}"), p),
    }
    out["actor_hours"] = _frame(con, (
        f"WITH top AS (SELECT actor_label FROM audit_events WHERE {window} GROUP BY ALL "
        f"ORDER BY count(*) DESC, 1 LIMIT {HEATMAP_ACTORS}) "
        f"SELECT actor_label AS actor, hour(created) AS hour, count(*) AS records FROM audit_events "
        f"WHERE {window} AND actor_label IN (SELECT actor_label FROM top) GROUP BY ALL ORDER BY 1, 2"), p + p)
    # "New" means first seen in everything collected for the connector: the first days of
    # the history are all new, so the chart says where the history starts.
    for key, expr in (("new_actors", "coalesce(nullif(author_account_id, ''), nullif(author_key, ''))"),
                      ("new_ips", "nullif(trim(remote_address), '')")):
        out[key] = _frame(con, (
            f"SELECT day, count(*) AS new FROM (SELECT {expr} AS k, CAST(min(created) AS DATE) AS day "
            f"FROM audit_records WHERE connector = ? AND created < ? AND {expr} IS NOT NULL GROUP BY 1) "
            f"WHERE day >= ? GROUP BY 1 ORDER BY 1"), [connector, hi, start])
    return out


def period_findings(con, connector: str, start: dt.date, end: dt.date) -> tuple[list[dict], pd.DataFrame]:
    """The unsuppressed findings of the period, severity first, each with its triage state
    and its first records; and how many were suppressed, by detection and reason."""
    cur = con.execute(
        f"SELECT * FROM ({latest_findings(con)}) WHERE connector = ? AND day BETWEEN ? AND ? "
        "AND NOT coalesce(suppressed, false) "
        "ORDER BY list_position(['critical', 'high', 'medium', 'low'], severity), first_seen, detection_id",
        [connector, start, end])
    cols = [d[0] for d in cur.description]
    found = [dict(zip(cols, r)) for r in cur.fetchall()]
    wanted = sorted({i for f in found for i in (f["record_ids"] or [])[:RECORDS_PER_FINDING]})
    records: dict[int, dict] = {}
    if wanted:
        cur = con.execute(
            "SELECT id, created, summary, category, actor_label AS actor, object, remote_address "
            "FROM audit_events WHERE connector = ? AND list_contains(?, id)", [connector, wanted])
        rcols = [d[0] for d in cur.description]
        records = {r[0]: dict(zip(rcols, r)) for r in cur.fetchall()}
    for f in found:
        ids = list(f["record_ids"] or [])
        f["records"] = [records[i] for i in ids[:RECORDS_PER_FINDING] if i in records]
        f["more_records"] = max(0, len(ids) - RECORDS_PER_FINDING)
        f["count"] = f.get("count") or len(ids)
        f["actor"] = f.get("actor_name") or f.get("actor_account_id") or "system"
    suppressed = _frame(con, (
        "SELECT detection_id AS detection, coalesce(suppression_reason, '') AS reason, count(*) AS findings "
        "FROM findings WHERE connector = ? AND day BETWEEN ? AND ? AND coalesce(suppressed, false) "
        "GROUP BY ALL ORDER BY 3 DESC"), [connector, start, end])
    return found, suppressed


def connector_report(con, connector: str, start: dt.date, end: dt.date, now: dt.datetime) -> ConnectorReport:
    status = connector_status(con, connector, now)
    found, suppressed = period_findings(con, connector, start, end)
    first = con.execute("SELECT min(day) FROM collected_partitions WHERE connector = ?", [connector]).fetchone()[0]
    return ConnectorReport(name=connector, status=status, days=day_states(con, connector, start, end),
                           findings=found, suppressed=suppressed, history_start=first,
                           **activity(con, connector, start, end))


def never_collected(connector: str, start: dt.date, end: dt.date) -> ConnectorReport:
    """A connector with no warehouse yet: every day never collected, nothing to chart."""
    empty = pd.DataFrame()
    days = [DayState(start + dt.timedelta(days=i), "never") for i in range((end - start).days + 1)]
    return ConnectorReport(connector, ConnectorStatus(connector, "Never collected", None, 0, 0, None, ""),
                           days, empty, empty, empty, empty, empty, empty, empty)


def gather(warehouse, connectors: list[str], start: dt.date, end: dt.date,
           now: dt.datetime | None = None) -> list[ConnectorReport]:
    """The report's data for each connector, from one read-only connection."""
    now = now or dt.datetime.now(UTC)
    if not warehouse.path.exists():
        return [never_collected(c, start, end) for c in connectors]
    with warehouse.reader() as con:
        return [connector_report(con, c, start, end, now) for c in connectors]
