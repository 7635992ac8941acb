"""One delivery pass over the findings, with its state in table `deliveries`.

Per (finding, destination) the ledger row says what the receiver has acknowledged.
A pass reads what is due (never delivered; delivered but the group has grown since;
a retry whose time has come), sends it, and records each verdict in a transaction of
its own right after the send, before the next send. So:
- an acknowledged finding is never sent again, whatever re-runs do to `findings`
  (the ledger is keyed by the stable finding id, and re-evaluations never touch it);
- a SIGKILL mid-pass loses nothing (what is due is derived again from `findings` and
  the ledger) and re-sends at most the one finding whose verdict was not yet written;
- a failure is retried on a later pass, after a backoff that doubles per attempt;
- a 4xx refusal is `failed`: reported, not retried (until `deliver --retry-failed`);
- a destination that fails or times out is left alone for the rest of the pass, so a
  hanging receiver costs one timeout per pass, not one per finding.
The warehouse is never held open while sending (no lock across network calls).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass, field

from jira_etl.delivery.config import Destination, severity_rank
from jira_etl.delivery.senders import sender_for
from jira_etl.settings import ConfigError

UTC = dt.timezone.utc
FINDING_COLUMNS = ("finding_id", "connector", "day", "detection_id", "title", "severity", "actor_account_id",
                   "actor_name", "first_seen", "last_seen", "object", "remote_address", "message", "record_ids",
                   "count", "suppressed")
BACKOFF_CAP_S = 3600.0


def backoff_base_s() -> float:
    raw = os.environ.get("JIRA_ETL_DELIVERY_BACKOFF_SECONDS") or "30"
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"JIRA_ETL_DELIVERY_BACKOFF_SECONDS: {raw!r} is not a number of seconds") from None
    if not 0 <= value <= BACKOFF_CAP_S:
        raise ConfigError(f"JIRA_ETL_DELIVERY_BACKOFF_SECONDS: {value:g} is outside 0..{BACKOFF_CAP_S:g}")
    return value


def pass_budget_s() -> float:
    raw = os.environ.get("JIRA_ETL_DELIVERY_PASS_SECONDS") or "50"
    try:
        return max(1.0, float(raw))
    except ValueError:
        raise ConfigError(f"JIRA_ETL_DELIVERY_PASS_SECONDS: {raw!r} is not a number of seconds") from None


def next_delay(attempts: int, base: float, retry_after: float | None = None) -> float:
    delay = min(BACKOFF_CAP_S, base * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
    return max(delay, min(retry_after or 0.0, BACKOFF_CAP_S))


@dataclass
class Due:
    finding: dict
    destination: Destination
    update: bool
    attempts: int


@dataclass
class PassResult:
    sent: int = 0
    updates: int = 0
    errors: list[str] = field(default_factory=list)  # secret-free, one per failed send
    pending: dict[str, int] = field(default_factory=dict)  # destination -> waiting after the pass
    failed: dict[str, int] = field(default_factory=dict)  # destination -> refused (not retried)
    last_error: dict[str, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any(self.pending.values()) and not any(self.failed.values())

    def reasons(self) -> list[str]:
        out = []
        for name, n in sorted(self.pending.items()):
            if n:
                out.append(f"{n} finding(s) pending for {name} (last error: {self.last_error.get(name, '-')}); "
                           "retried on the next pass")
        for name, n in sorted(self.failed.items()):
            if n:
                out.append(f"{n} finding(s) failed for {name} (refused by the receiver: "
                           f"{self.last_error.get(name, '-')}); fix the destination, then "
                           "`jira-etl deliver --retry-failed`")
        return out


def current_findings(con, min_rank: int) -> list[dict]:
    """The newest row of each finding id at or above the lowest minimum severity."""
    wanted = [s for s in ("low", "medium", "high", "critical") if severity_rank(s) >= min_rank]
    cur = con.execute(
        f"SELECT {', '.join(chr(34) + c + chr(34) for c in FINDING_COLUMNS)} FROM findings "
        "WHERE finding_id IS NOT NULL AND suppressed IS NOT TRUE AND list_contains(?, lower(severity)) "
        "QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY len(record_ids) DESC, evaluated_at DESC) = 1 "
        "ORDER BY first_seen, finding_id", [wanted])
    return [dict(zip(FINDING_COLUMNS, row)) for row in cur.fetchall()]


def ledger_rows(con, names: list[str]) -> dict[tuple[str, str], dict]:
    cur = con.execute("SELECT finding_id, destination, status, attempts, next_attempt_at, sent_record_ids, last_error "
                      "FROM deliveries WHERE list_contains(?, destination)", [names])
    cols = [d[0] for d in cur.description]
    return {(r[0], r[1]): dict(zip(cols, r)) for r in cur.fetchall()}


def due_items(findings: list[dict], ledger: dict, destinations: list[Destination], now: dt.datetime) -> list[Due]:
    out = []
    for dest in destinations:
        for f in findings:
            if not dest.wants(f):
                continue
            row = ledger.get((f["finding_id"], dest.name))
            if row is None:
                out.append(Due(f, dest, update=False, attempts=0))
                continue
            sent = set(row["sent_record_ids"] or [])
            grew = bool(set(f["record_ids"] or []) - sent)
            if row["status"] == "delivered":
                if grew:
                    out.append(Due(f, dest, update=True, attempts=0))
            elif row["status"] == "pending":
                when = row["next_attempt_at"]
                if when is None or when <= now:
                    out.append(Due(f, dest, update=row["sent_record_ids"] is not None, attempts=row["attempts"]))
    return out


_UPSERT = """
INSERT INTO deliveries (finding_id, destination, status, attempts, last_error, next_attempt_at, delivered_at,
                        sent_record_ids, sent_count, updates_sent, connector, detection_id, severity, updated_at)
VALUES ($finding_id, $destination, $status, 1, $last_error, $next_attempt_at, $delivered_at,
        $sent_record_ids, $sent_count, $is_update, $connector, $detection_id, $severity, $now)
ON CONFLICT (finding_id, destination) DO UPDATE SET
    status = excluded.status,
    attempts = deliveries.attempts + 1,
    last_error = excluded.last_error,
    next_attempt_at = excluded.next_attempt_at,
    delivered_at = coalesce(excluded.delivered_at, deliveries.delivered_at),
    sent_record_ids = coalesce(excluded.sent_record_ids, deliveries.sent_record_ids),
    sent_count = coalesce(excluded.sent_count, deliveries.sent_count),
    updates_sent = deliveries.updates_sent + excluded.updates_sent,
    connector = excluded.connector, detection_id = excluded.detection_id, severity = excluded.severity,
    updated_at = excluded.updated_at
"""


def record(warehouse, item: Due, status: str, error: str, next_at: dt.datetime | None) -> None:
    f = item.finding
    now = dt.datetime.now(UTC)
    ok = status == "delivered"
    params = {
        "finding_id": f["finding_id"], "destination": item.destination.name, "status": status,
        "last_error": None if ok else error[:500], "next_attempt_at": next_at, "delivered_at": now if ok else None,
        "sent_record_ids": [int(i) for i in f["record_ids"]] if ok else None,
        "sent_count": int(f.get("count") or len(f["record_ids"])) if ok else None,
        "is_update": 1 if ok and item.update else 0, "connector": f["connector"],
        "detection_id": f["detection_id"], "severity": f["severity"], "now": now,
    }
    with warehouse.writer() as con:
        con.execute(_UPSERT, params)


def summarize(con, names: list[str], result: PassResult) -> None:
    for name, status, n, err in con.execute(
            "SELECT destination, status, count(*), max_by(last_error, updated_at) FROM deliveries "
            "WHERE status IN ('pending', 'failed') AND list_contains(?, destination) GROUP BY ALL", [names]).fetchall():
        (result.pending if status == "pending" else result.failed)[name] = n
        result.last_error.setdefault(name, err or "-")


def run_pass(warehouse, destinations: list[Destination], now: dt.datetime | None = None,
             on_event=None, budget_s: float | None = None) -> PassResult:
    """Send what is due to every destination; `on_event(text)` hears each verdict."""
    result = PassResult()
    if not destinations or not warehouse.path.exists():
        return result
    warehouse.ensure_schema()  # `deliveries` in a warehouse made before it existed
    now = now or dt.datetime.now(UTC)
    base = backoff_base_s()
    deadline = time.monotonic() + (budget_s if budget_s is not None else pass_budget_s())
    names = [d.name for d in destinations]
    with warehouse.reader() as con:
        findings = current_findings(con, min(severity_rank(d.min_severity) for d in destinations))
        ledger = ledger_rows(con, names)
    items = due_items(findings, ledger, destinations, now)
    senders, stopped, attempted = {}, set(), set()
    try:
        for item in items:
            name = item.destination.name
            if name in stopped:
                continue
            if time.monotonic() > deadline:
                result.errors.append("pass time budget used up; the rest waits for the next pass")
                break
            if name not in senders:
                try:
                    senders[name] = sender_for(item.destination)
                except ConfigError as exc:
                    result.errors.append(str(exc))
                    stopped.add(name)
                    continue
            outcome = senders[name].send(item.finding, item.update)
            fid = item.finding["finding_id"]
            attempted.add((fid, name))
            if outcome.ok:
                record(warehouse, item, "delivered", "", None)
                result.sent += 1
                result.updates += item.update
                if on_event:
                    on_event(f"{name}: delivered {fid}{' (update)' if item.update else ''}")
                continue
            if outcome.permanent:
                record(warehouse, item, "failed", outcome.error, None)
            else:
                delay = next_delay(item.attempts + 1, base, outcome.retry_after_s)
                record(warehouse, item, "pending", outcome.error, dt.datetime.now(UTC) + dt.timedelta(seconds=delay))
                stopped.add(name)  # a failing receiver is not hammered for the rest of the pass
            result.errors.append(f"{name}: {fid}: {outcome.error}")
            if on_event:
                on_event(f"{name}: {fid}: {outcome.error}")
    finally:
        for s in senders.values():
            s.close()
    # What is still waiting: ledger rows pending or failed, and due items this pass did
    # not reach (new ones and updates; retries are pending rows already).
    with warehouse.reader() as con:
        summarize(con, names, result)
    for item in items:
        key = (item.finding["finding_id"], item.destination.name)
        if key not in attempted and ledger.get(key, {}).get("status") != "pending":
            result.pending[item.destination.name] = result.pending.get(item.destination.name, 0) + 1
            result.last_error.setdefault(item.destination.name, "not reached in this pass")
    return result


def retry_failed(warehouse, names: list[str]) -> int:
    """Failed deliveries back to pending, due now (after the destination was fixed)."""
    if not warehouse.path.exists():
        return 0
    with warehouse.writer() as con:
        n = con.execute("SELECT count(*) FROM deliveries WHERE status = 'failed' AND list_contains(?, destination)",
                        [names]).fetchone()[0]
        con.execute("UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = now() "
                    "WHERE status = 'failed' AND list_contains(?, destination)", [names])
    return int(n)


def delivery_status(warehouse, destinations: list[Destination]) -> list[tuple]:
    """(destination, delivered, pending, failed, last error) per destination; pending
    counts findings not sent yet (new, or grown since sent) as well as retries."""
    names = [d.name for d in destinations]
    if not warehouse.path.exists():
        return [(n, 0, 0, 0, None) for n in names]
    with warehouse.reader() as con:
        if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'deliveries'").fetchone()[0]:
            return [(n, 0, 0, 0, None) for n in names]  # no pass has run on this warehouse yet
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT destination, count(*) FILTER (WHERE status = 'delivered'), "
            "count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed'), "
            "max_by(last_error, updated_at) FILTER (WHERE status <> 'delivered') "
            "FROM deliveries GROUP BY 1").fetchall()}
        findings = current_findings(con, min(severity_rank(d.min_severity) for d in destinations)) if names else []
        ledger = ledger_rows(con, names)
    # Due at any time from now on: everything unsent, whatever its retry time.
    far = dt.datetime.max.replace(tzinfo=UTC)
    unsent: dict[str, int] = {}
    for item in due_items(findings, ledger, destinations, far):
        if ledger.get((item.finding["finding_id"], item.destination.name), {}).get("status") != "pending":
            unsent[item.destination.name] = unsent.get(item.destination.name, 0) + 1
    out = []
    for n in names:
        delivered, pending, failed, error = rows.get(n) or (0, 0, 0, None)
        out.append((n, delivered, pending + unsent.get(n, 0), failed, error))
    return out
