"""The DuckDB warehouse: schema, idempotent partition loads, the writer lock, readers.

DuckDB lets one process hold a file read-write, or many read-only, never both. So
writes are short transactions behind a cross-process file lock (parallel runs queue
instead of failing), and readers open read-only with a short retry (a load holds the
file for well under a second per day). The Jira API is never called while a
connection is open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import re
import threading
import time
from pathlib import Path
from typing import Iterator

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from jira_etl.storage import schema
from jira_etl.storage.lake import read_file

DB_NAME = "jira_audit.duckdb"
_SCHEMA_APPLIED: set[str] = set()


def memory_limit(read_only: bool) -> str:
    """DuckDB's memory limit per connection: $JIRA_ETL_DUCKDB_WRITE_MEMORY for loads and
    $JIRA_ETL_DUCKDB_READ_MEMORY for readers (detections), both 512MB by default.

    DuckDB would otherwise take up to 80% of RAM for its buffer pool, and a 1M-record
    day's load or findings then push a backfill past 1 GiB. Beyond the limit DuckDB
    spills to disk: a load runs as fast at 512MB; the detection suite over millions of
    rows may spill too, so raise the reader's limit for big warehouses."""
    var, default = ("JIRA_ETL_DUCKDB_READ_MEMORY", "512MB") if read_only else ("JIRA_ETL_DUCKDB_WRITE_MEMORY", "512MB")
    value = (os.environ.get(var) or default).strip()
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)", value, re.IGNORECASE):
        raise ValueError(f"{var}: {value!r} is not a size such as 512MB")
    return value


class WarehouseBusyError(RuntimeError):
    pass


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Every table and view of the warehouse (storage/schema.py), so `jira-etl sql` sees
    the hunting views from the first load on."""
    schema.apply_schema(con)


def bind(stmt: str, params: dict) -> dict:
    """The subset of `params` a statement names as $name (DuckDB refuses extras)."""
    used = set(re.findall(r"\$([A-Za-z_]\w*)", stmt))
    return {k: v for k, v in params.items() if k in used}


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


# Row groups the writer creates. DuckDB's default (122,880 rows) is more than a busy
# day of most sites, and an insert smaller than one row group goes through the WAL and
# is written again at the checkpoint; at this size most of a day is written once,
# compressed, straight into the file. Three days of 100k records loaded one by one:
# 0.80 -> 0.43 s a day (CPU 2.36 -> 1.25 s), same file size, same query times. Only new
# writes are affected; existing row groups stay as they are.
WRITE_ROW_GROUP_SIZE = 61_440

# DuckDB's checkpoint merges row groups left part-full by earlier writes ("vacuum"),
# rewriting their rows, whichever table the checkpoint's own write touched. After a
# heavy day that is a rewrite of the day: on the skewed window, the write closing next
# (the small load of the three days after it) took 0.46 s instead of 0.13. So writes
# never merge (max_vacuum_tasks 0), except a load that finds the table fragmented:
# more than FRAGMENTED_FACTOR x the row groups its rows need, plus FRAGMENTED_SLACK.
# A load of a day new to the warehouse leaves a part-full row group (a daily run one a
# day: merged every few weeks on a quiet site); only such a load counts them (~0.6 ms
# a row group: 0.13 s at 9.6M rows), a day loaded again replaces its own.
FRAGMENTED_FACTOR, FRAGMENTED_SLACK = 2, 16


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    # The row-group size is an ATTACH option only. The file is attached under its own
    # name, as duckdb.connect would name it, and made the default catalog.
    con = duckdb.connect()
    try:
        name = '"{}"'.format(path.stem.replace('"', '""'))
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {name} "
                    f"(ROW_GROUP_SIZE {WRITE_ROW_GROUP_SIZE})")
        con.execute(f"USE {name}")
    except BaseException:
        con.close()
        raise
    return con


def _connect(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        try:
            con = _open(path, read_only)
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = '{memory_limit(read_only)}'")
            return con
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() > deadline:
                if _is_lock_conflict(exc):
                    raise WarehouseBusyError(
                        f"{path} stayed locked by another process for {wait_s:g} s "
                        "(an open DuckDB session? close it and retry)"
                    ) from None
                raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.5)


class _ModeGate:
    """Connections of one process to one file must all be read-only or all read-write:
    DuckDB refuses to open a file in one mode while the same process holds it in the
    other ("Can't open a connection to same database file with a different
    configuration", or "Unique file handle conflict" beside the writer's attached
    file), where another process would only wait. Threads of a run (the background
    loads and findings of an asset, the attempts the extraction records) therefore take
    turns by mode: readers side by side, a writer once they are all closed. Writers
    are one at a time already, by the file lock they hold first (each attaches the file
    in an instance of its own, so two at once in one process would conflict)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._mode: bool | None = None
        self._open = 0

    @contextlib.contextmanager
    def hold(self, read_only: bool) -> Iterator[None]:
        with self._cond:
            while self._open and self._mode is not read_only:
                self._cond.wait()
            self._mode = read_only
            self._open += 1
        try:
            yield
        finally:
            with self._cond:
                self._open -= 1
                if not self._open:
                    self._cond.notify_all()


_GATES: dict[str, _ModeGate] = {}
_GATES_LOCK = threading.Lock()


def row_groups(con: duckdb.DuckDBPyConnection, table: str = "audit_records") -> tuple[int, int]:
    """(row groups, rows) of a table of the connection's default database."""
    groups = con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info(?)", [table]).fetchall()[0][0]
    return groups, con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def fragmented(groups: int, rows: int) -> bool:
    needed = -(-rows // WRITE_ROW_GROUP_SIZE)
    return groups > FRAGMENTED_FACTOR * needed + FRAGMENTED_SLACK


def _new_days(con: duckdb.DuckDBPyConnection, connector: str, days: list[dt.date]) -> bool:
    """Whether any of the connector's days was never loaded before (read before the load)."""
    # fetchall: a result left open keeps the connection from register() (_load_arrow)
    known = con.execute("SELECT count(*) FROM collected_partitions WHERE connector = ? AND list_contains(?, day)",
                        [connector, days]).fetchall()[0][0]
    return known < len(days)


def _merge_if_fragmented(con: duckdb.DuckDBPyConnection, new_days: bool) -> None:
    """Let the checkpoint at the writer's close merge row groups when a load of new days
    finds audit_records fragmented (FRAGMENTED_FACTOR)."""
    if new_days and fragmented(*row_groups(con)):
        # RESET: DuckDB's default number of merge tasks per checkpoint
        con.execute("RESET max_vacuum_tasks")


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block's statements committed together, or rolled back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _write_attempt(con: duckdb.DuckDBPyConnection, connector: str, ok: bool, first_day: dt.date | None,
                   last_day: dt.date | None, message: str = "") -> None:
    con.execute("INSERT INTO collection_attempts VALUES (?, now(), ?, ?, ?, ?)",
                [connector, ok, first_day, last_day, message[:500]])


def _write_capped(con: duckdb.DuckDBPyConnection, connector: str,
                  days: dict[dt.date, tuple[dt.datetime, list[tuple[dt.datetime, int]]]]) -> None:
    for day, (since, instants) in days.items():
        con.execute("DELETE FROM capped_instants WHERE connector = ? AND day = ? AND instant >= ?",
                    [connector, day, since])
        for instant, listed in instants:
            con.execute("INSERT OR REPLACE INTO capped_instants VALUES (?, ?, ?, ?, now())",
                        [connector, day, instant, listed])


def _gate(path: Path) -> _ModeGate:
    key = os.path.realpath(path)
    with _GATES_LOCK:
        return _GATES.setdefault(key, _ModeGate())


def _sandbox(con: duckdb.DuckDBPyConnection, dirs: list[Path]) -> None:
    # allowed_directories must be set while external access is still on; the lock
    # then keeps a query from turning either back (or anything else) on.
    allowed = [os.path.join(os.path.realpath(d), "") for d in dirs]
    con.execute("SET allowed_directories = ?", [allowed])
    con.execute("SET enable_external_access = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")


class Warehouse:
    def __init__(self, data_dir: Path, write_wait_s: float = 600.0, read_wait_s: float = 30.0,
                 applies_schema: bool = False):
        self.data_dir = Path(data_dir)
        # Only the pipeline's warehouse (defs.resources.StorageResource) applies the
        # schema before its first read; every other reader only reads.
        self.applies_schema = applies_schema
        self.path = db_path(self.data_dir)
        self.write_wait_s = write_wait_s
        self.read_wait_s = read_wait_s
        self._lock = FileLock(str(self.path) + ".lock", timeout=write_wait_s)
        self._gate = _gate(self.path)

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, held only for the `with` block, one process at a time.
        Its checkpoint (at close) merges no row groups (see FRAGMENTED_FACTOR)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock, self._gate.hold(read_only=False):
            con = _connect(self.path, read_only=False, wait_s=self.write_wait_s)
            try:
                # Row order inside the table means nothing (one row per id); not keeping
                # it lets a load stream instead of buffering.
                con.execute("SET preserve_insertion_order = false")
                con.execute("SET max_vacuum_tasks = 0")
                if str(self.path) not in _SCHEMA_APPLIED:
                    apply_schema(con)
                    _SCHEMA_APPLIED.add(str(self.path))
                yield con
            finally:
                con.close()

    def ensure_schema(self) -> None:
        """Apply the schema (new tables of a newer release included) once per process.
        Only the pipeline calls this; readers never run DDL nor take the writer's lock,
        so `jira-etl sql`, `status` and `findings` work on a read-only data directory."""
        if str(self.path) not in _SCHEMA_APPLIED:
            with self.writer():
                pass

    @contextlib.contextmanager
    def reader(self, sandbox_dirs: list[Path] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection. With `sandbox_dirs` (what `jira-etl sql` runs user
        queries on), it can read files under those directories only, write none outside
        them, load no extension, attach nothing, and cannot change its settings back."""
        if self.applies_schema:
            self.ensure_schema()
        with self._gate.hold(read_only=True):
            con = _connect(self.path, read_only=True, wait_s=self.read_wait_s)
            try:
                if sandbox_dirs is not None:
                    _sandbox(con, sandbox_dirs)
                yield con
            finally:
                con.close()

    def load_partitions(self, connector: str, files: dict[dt.date, "Path | str | pa.Table"]) -> dict[dt.date, int]:
        """Replace each connector-day with its Parquet file, all days in one transaction.

        A day is a local file (DuckDB reads it directly), an object-storage URI or the
        day's rows already read (a compacted month): DuckDB 2.0 has no httpfs here, so
        those are read through pyarrow and handed over as one Arrow table. When a load of
        new days finds the table fragmented, the checkpoint closing it merges part-full
        row groups (FRAGMENTED_FACTOR)."""
        if not files:
            return {}
        days = sorted(files)
        if not all(isinstance(v, os.PathLike) for v in files.values()):
            return self._load_arrow(connector, days, files)
        counts = {d: pq.ParquetFile(files[d]).metadata.num_rows for d in days}
        lo = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
        params = {"connector": connector, "days": days, "paths": [str(files[d]) for d in days],
                  "counts": [counts[d] for d in days], "lo": lo,
                  "hi": dt.datetime.combine(days[-1], dt.time(), dt.timezone.utc) + dt.timedelta(days=1)}
        with self.writer() as con:
            new_days = _new_days(con, connector, days)
            with _transaction(con):
                for stmt in schema.sql_file("load_partition.sql"):
                    con.execute(stmt, bind(stmt, params))
            _merge_if_fragmented(con, new_days)
        return counts

    def _load_arrow(self, connector: str, days: list[dt.date], files: dict) -> dict[dt.date, int]:
        tables = {d: files[d] if isinstance(files[d], pa.Table) else read_file(files[d]) for d in days}
        counts = {d: tables[d].num_rows for d in days}
        incoming = pa.concat_tables([tables[d] for d in days])
        params = {"connector": connector, "days": days, "counts": [counts[d] for d in days],
                  "lo": dt.datetime.combine(days[0], dt.time(), dt.timezone.utc),
                  "hi": dt.datetime.combine(days[-1], dt.time(), dt.timezone.utc) + dt.timedelta(days=1)}
        with self.writer() as con:
            new_days = _new_days(con, connector, days)
            con.register("jira_etl_incoming", incoming)
            try:
                with _transaction(con):
                    for stmt in schema.sql_file("load_partition.sql"):
                        stmt = stmt.replace("read_parquet($paths)", "jira_etl_incoming")
                        con.execute(stmt, bind(stmt, params))
            finally:
                con.unregister("jira_etl_incoming")
            _merge_if_fragmented(con, new_days)
        return counts

    def record_attempt(self, connector: str, ok: bool, first_day: dt.date | None, last_day: dt.date | None,
                       message: str = "") -> None:
        """Remember how a collection attempt ended (the message must be secret-free)."""
        with self.writer() as con:
            _write_attempt(con, connector, ok, first_day, last_day, message)

    def record_capped(self, connector: str, days: dict[dt.date, tuple[dt.datetime, list[tuple[dt.datetime, int]]]]) -> None:
        """For each collected day, (from when it was fetched, [(instant, records listed
        there)]): replace what is known of the day's capped instants from then on."""
        if not days:
            return
        with self.writer() as con, _transaction(con):
            _write_capped(con, connector, days)

    def record_collected(self, connector: str, days: dict[dt.date, tuple[dt.datetime, list[tuple[dt.datetime, int]]]],
                         first_day: dt.date, last_day: dt.date) -> None:
        """A complete walk: its capped instants (record_capped) and its successful attempt
        (record_attempt), in one transaction of one connection (two cost a connection
        each at the end of a run)."""
        with self.writer() as con, _transaction(con):
            _write_capped(con, connector, days)
            _write_attempt(con, connector, True, first_day, last_day)
