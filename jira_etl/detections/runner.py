"""Evaluating the catalogue: every enabled rule over each connector-day, its rows grouped
into findings with stable ids (grouping.py) and marked by the allow-lists
(suppression.py), and the one-transaction replacement of a day's rows."""

from __future__ import annotations

import datetime as dt
import queue
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import duckdb

from jira_etl.detections import day_batches, grouping, suppression
from jira_etl.detections.catalogue import HISTORY_DAYS, Detection, bind, load_catalogue
from jira_etl.detections.overrides import Settings

FINDING_COLUMNS = (
    "connector", "day", "detection_id", "severity", "actor_account_id", "actor_name", "first_seen",
    "last_seen", "object", "remote_address", "message", "record_ids", "title",
    "finding_id", "group_key", "count", "suppressed", "suppression_reason",
)


# Scopes of at most this many events are copied into memory (scope_plan).
COPY_ROWS = 800_000
COPY_TABLE = "jira_etl_eval_events"
# The copy all cursors read: a table of an in-memory database attached to the reader's
# DuckDB instance under a name of its own per evaluation (see _shared_scope).
SCOPE_DB_PREFIX = "jira_etl_eval_scope_"


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


def rule_rows(con: duckdb.DuckDBPyConnection, det: Detection, connector: str, day: dt.date,
              settings: Settings | None = None) -> list[dict]:
    """The rows a rule returns for one connector-day, with the actor's name (before grouping)."""
    settings = settings or Settings()
    start, end = day_window(day)
    sql = (
        f"SELECT f.*, u.display_name AS actor_name FROM (\n{det.sql}\n) f "
        "LEFT JOIN users u ON u.account_id = f.actor_account_id ORDER BY f.first_seen, f.actor_account_id"
    )
    return _dicts(con.execute(sql, bind(det, connector, start, end, settings.parameters.get(det.id))))


def _dicts(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def run_detection(con: duckdb.DuckDBPyConnection, det: Detection, connector: str, day: dt.date,
                  settings: Settings | None = None) -> list[dict]:
    """The findings of one detection for one connector-day, as FINDING_COLUMNS dicts:
    the rule's rows grouped into findings (detections/grouping.py), each with its stable
    id, then marked where an allow-list of detections.yaml matches (kept, never dropped).
    Each dict also carries `rule_rows`, how many rule rows it groups (not stored)."""
    settings = settings or Settings()
    return _findings(det, connector, day, rule_rows(con, det, connector, day, settings), settings)


def run_detection_days(con: duckdb.DuckDBPyConnection, det: Detection, connector: str, days: list[dt.date],
                       settings: Settings | None = None) -> dict[dt.date, list[dict]]:
    """One detection over several days in one query (day_batches.py): the findings of
    each day, those run_detection gives for it."""
    settings = settings or Settings()
    days = sorted(set(days))
    cur = con.execute(day_batches.query(det),
                      day_batches.parameters(det, connector, days, settings.parameters.get(det.id)))
    by_day: dict[dt.date, list[dict]] = {d: [] for d in days}
    for row in _dicts(cur):
        by_day[row.pop(day_batches.WINDOW_COLUMN).astimezone(dt.timezone.utc).date()].append(row)
    return {d: _findings(det, connector, d, rows, settings) for d, rows in by_day.items()}


def _findings(det: Detection, connector: str, day: dt.date, rows: list[dict], settings: Settings) -> list[dict]:
    grouped = grouping.group_rows(rows, settings.grouping_of(det), det.title, det.id)
    out = []
    for g in grouped:
        out.append({
            "connector": connector, "day": day, "detection_id": det.id, "severity": settings.severity_of(det),
            "actor_account_id": g["actor_account_id"], "actor_name": g["actor_name"],
            "first_seen": g["first_seen"], "last_seen": g["last_seen"], "object": g["object"],
            # DuckDB's format() is NULL when any argument is (a record without an object
            # name): fall back to the title rather than fail the whole findings insert.
            "remote_address": g["remote_address"], "record_ids": g["record_ids"],
            "message": g["message"] or f"{det.title} ({g['count']} record(s))",
            "title": det.title, "finding_id": grouping.finding_id(det.id, connector, g["group_key"], g["record_ids"],
                                                                  g["first_seen"]),
            "group_key": g["group_key"], "count": g["count"], "suppressed": False, "suppression_reason": None,
            "rule_rows": g["rule_rows"], "object_name": g.get("object_name"), "addresses": g["addresses"],
        })
    suppression.apply(out, settings.suppressions_of(det))
    for f in out:
        del f["object_name"], f["addresses"]
    return out


def group_key(finding: dict) -> str:
    """What a finding groups its records by by default, besides detection and connector."""
    return grouping.group_key(finding)


def finding_id(detection_id: str, connector: str, key: str, record_ids: list[int]) -> str:
    """Deterministic id of a finding (grouping.finding_id)."""
    return grouping.finding_id(detection_id, connector, key, record_ids)


def evaluate(con: duckdb.DuckDBPyConnection, connector: str, days: Iterable[dt.date],
             settings: Settings | None = None, detections: Iterable[Detection] | None = None,
             copy_rows: int = COPY_ROWS, batch_days: bool = True) -> list[dict]:
    """Every enabled detection over each day (a reader connection is enough). The
    events of the range and its history are copied once into memory when they are at
    most `copy_rows` (see scope_plan; 0: never, the rules read the view). With
    `batch_days`, stretches of quiet days are evaluated in one query per rule
    (day_batches.py); the findings are the same."""
    settings = settings or Settings()
    dets = [d for d in (detections or load_catalogue()) if settings.is_enabled(d)]
    days = sorted(set(days))
    found: list[dict] = []
    if not days or not dets:
        return found
    lo = day_window(days[0])[0] - dt.timedelta(days=HISTORY_DAYS)
    hi = day_window(days[-1])[1]
    per_day = _rows_per_day(con, connector, lo, hi)
    rows, n_runs = sum(per_day.values()), len(days) * len(dets)
    # A rule's run over one day is a small query that leaves DuckDB's threads idle much
    # of the time, so (rule, day) runs go side by side on two cursors (connection-scoped
    # views, tables and variables); results keep day order, then catalogue order. A
    # cursor per day instead left one cursor idle while the other finished a day's
    # slowest rules.
    cursors, shared, threads = [con], None, None
    try:
        # One copy for every cursor where the instance can attach one (scope_plan).
        if scope_plan(rows, n_runs, copy_rows, shared=True)[0]:
            shared = _shared_scope(con, connector, lo, hi)
        copy, workers = scope_plan(rows, n_runs, copy_rows, shared=shared is not None)
        cursors += [con.cursor() for _ in range(workers - 1)]
        for cur in cursors[1:]:
            # Settings made on `con` for its session (the time zone rules bucket hours
            # in) are not inherited by a new cursor.
            cur.execute("SET TimeZone = ?", [con.execute("SELECT current_setting('TimeZone')").fetchone()[0]])
        for cur in cursors:
            _scope_events(cur, connector, lo, hi, copy, shared)
        if copy and workers > 1:
            # Over a copy the queries are small: two side by side, each on one of
            # DuckDB's threads, spend less CPU than each spread over both (a setting of
            # the instance, so put back below; the copies were made with every thread).
            threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
            con.execute("SET threads = 1")
        # A stretch of quiet days in one query per rule (day_batches.plan), any other
        # day in a query per rule and day.
        stretches = day_batches.plan(days, per_day) if batch_days else [[d] for d in days]
        runs = [(det, stretch) for stretch in stretches for det in dets]

        def run(cur: duckdb.DuckDBPyConnection, det: Detection, stretch: list[dt.date]) -> dict[dt.date, list[dict]]:
            if len(stretch) > 1:
                try:
                    return run_detection_days(cur, det, connector, stretch, settings)
                except duckdb.Error:
                    # A rule DuckDB cannot decorrelate: a query per day, as without
                    # stretches (a rule that fails there too fails the evaluation).
                    pass
            return {day: run_detection(cur, det, connector, day, settings) for day in stretch}

        if workers <= 1:
            per_run = [run(con, det, stretch) for det, stretch in runs]
        else:
            free = queue.Queue()
            for cur in cursors:
                free.put(cur)

            def one(item: tuple[Detection, list[dt.date]]) -> dict[dt.date, list[dict]]:
                cur = free.get()
                try:
                    return run(cur, *item)
                finally:
                    free.put(cur)

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detections") as pool:
                per_run = list(pool.map(one, runs))
    finally:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        for cur in cursors:
            _unscope_events(cur)
        for cur in cursors[1:]:
            cur.close()
        if shared is not None:
            con.execute(f"DETACH {shared}")
    # Day order, then catalogue order, whichever query found them.
    found_by = {(det.id, day): found for (det, _), by_day in zip(runs, per_run) for day, found in by_day.items()}
    return [f for day in days for det in dets for f in found_by[det.id, day]]


def scope_plan(rows: int, runs: int, copy_rows: int = COPY_ROWS, shared: bool = False) -> tuple[bool, int]:
    """(copy the scope, cursors) for an evaluation over `rows` events.

    Each (rule, day) query over the view `audit_events` paid its planning (binding and
    optimizing the view's CTEs and three joins: 12-55 ms a query, half or more of the
    cost of most rules on a quiet day) and the view's derived columns for every row of
    history it read, again for every rule and day. A copy of the scope's events is
    planned as a plain table and derives each row once: on the skewed 10-day window
    (296k events) the 210 queries took 8.7 CPU s through the view and 5.6 (copy
    included) over the copy, with the same findings. A copy costs ~375 bytes an event
    in the reader's memory. One `shared` by the cursors (_shared_scope) is made up to
    `copy_rows`; where none can be shared, a temporary table per cursor (a connection's
    own): two cursors copy up to half of `copy_rows`, one cursor up to `copy_rows`. A
    larger scope (a daily run over millions of rows) reads the view, whose time
    filters reach the table scan."""
    workers = min(runs, 2)
    if copy_rows <= 0:
        return False, workers
    if rows <= copy_rows // 2 or (shared and rows <= copy_rows):
        return True, workers
    if rows <= copy_rows:
        return True, 1
    return False, workers


def _rows_per_day(con: duckdb.DuckDBPyConnection, connector: str, lo: dt.datetime,
                  hi: dt.datetime) -> dict[dt.date, int]:
    """The connector's events per UTC day in [lo, hi) (by epoch arithmetic: a cast to
    DATE would follow the session's time zone)."""
    return {dt.date(1970, 1, 1) + dt.timedelta(days=int(n)): c for n, c in con.execute(
        "SELECT epoch_ms(created) // 86400000, count(*) FROM audit_records "
        "WHERE connector = ? AND created >= ? AND created < ? GROUP BY 1", [connector, lo, hi]).fetchall()}


def _scoped_query(con: duckdb.DuckDBPyConnection) -> str:
    # Qualified with the database: `main.audit_events` alone would bind to the temporary
    # view of the same name that shadows it.
    base = '"{}".main.audit_events'.format(con.execute("SELECT current_database()").fetchone()[0].replace('"', '""'))
    return (f"SELECT * FROM {base} WHERE connector = getvariable('jira_etl_eval_connector') "
            "AND created >= getvariable('jira_etl_eval_lo') AND created < getvariable('jira_etl_eval_hi')")


def _set_bounds(con: duckdb.DuckDBPyConnection, connector: str, lo: dt.datetime, hi: dt.datetime) -> None:
    # Bound as variables (getvariable() is constant when the view is bound), not
    # formatted into the text.
    con.execute("SET VARIABLE jira_etl_eval_connector = ?", [connector])
    con.execute("SET VARIABLE jira_etl_eval_lo = ?", [lo])
    con.execute("SET VARIABLE jira_etl_eval_hi = ?", [hi])


def _shared_scope(con: duckdb.DuckDBPyConnection, connector: str, lo: dt.datetime, hi: dt.datetime) -> str | None:
    """The scope's events copied once into an in-memory database attached to the
    connection's DuckDB instance, which every cursor of it sees (a temporary table is
    one connection's own: two cursors made two copies, ~0.22 s and 0.45 CPU s each for
    the skewed window's last 4 days and their history, and twice the memory). Its name
    is unique: other connections of the process to the same file share the instance.
    None where the instance refuses to attach it (DuckDB attaches an in-memory database
    even to a read-only or sandboxed connection; this is a fallback): then a copy per
    cursor. The caller detaches it."""
    name = f"{SCOPE_DB_PREFIX}{uuid.uuid4().hex[:16]}"
    try:
        con.execute(f"ATTACH ':memory:' AS {name} (READ_WRITE)")
    except duckdb.Error:
        return None
    try:
        _set_bounds(con, connector, lo, hi)
        con.execute(f"CREATE TABLE {name}.main.{COPY_TABLE} AS {_scoped_query(con)}")
    except BaseException:
        con.execute(f"DETACH {name}")
        raise
    return name


def _scope_events(con: duckdb.DuckDBPyConnection, connector: str, lo: dt.datetime, hi: dt.datetime,
                  copy: bool = False, shared: str | None = None) -> None:
    """The connector's events of the range and its history: a temporary view shadows the
    view for this connection only (a read-only one allows it), over the `shared` copy,
    else over a temporary copy of the events when `copy` (scope_plan), else over the
    view itself: materializing every column of the whole horizon took a third of a
    daily run at 10M rows (about 11 of 33 s, spilling past the reader's memory limit),
    while through a view each rule's own time filters reach the table scan, so a rule
    reads only the days it asks for (its window, its look-back) and only the columns it
    uses."""
    if shared is not None:
        # the copy is made already (_shared_scope): no bounds, no query of the view here
        scoped = f"SELECT * FROM {shared}.main.{COPY_TABLE}"
    else:
        _set_bounds(con, connector, lo, hi)
        scoped = _scoped_query(con)
        if copy:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {COPY_TABLE} AS {scoped}")
            scoped = f"SELECT * FROM temp.main.{COPY_TABLE}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW audit_events AS {scoped}")


def _unscope_events(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS temp.audit_events")
    con.execute(f"DROP TABLE IF EXISTS temp.main.{COPY_TABLE}")
    for name in ("connector", "lo", "hi"):
        con.execute(f"RESET VARIABLE jira_etl_eval_{name}")


def replace_findings(con: duckdb.DuckDBPyConnection, connector: str, days: list[dt.date],
                     findings: list[dict]) -> int:
    """Replace the findings of these connector-days in one transaction (idempotent)."""
    now = dt.datetime.now(dt.timezone.utc)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM findings WHERE connector = ? AND list_contains(?, day)", [connector, list(days)])
        if findings:
            # One columnar insert (row-by-row executemany took ~0.3 s for 500 findings).
            import pyarrow as pa

            cols = {c: [f[c] for f in findings] for c in FINDING_COLUMNS}
            new_rows = pa.table({**cols, "evaluated_at": [now] * len(findings)})  # noqa: F841 - read by DuckDB
            con.execute(f"INSERT INTO findings ({', '.join(FINDING_COLUMNS)}, evaluated_at) "
                        f"SELECT {', '.join(FINDING_COLUMNS)}, evaluated_at FROM new_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(findings)
