"""Shared parts of the reliability harness: the CLI as users run it, the simulator's
truth, and what readers would see on disk (Parquet files, DuckDB).

Everything here uses real parts: `jira-etl` subprocesses, the simulator over loopback
HTTP, real Parquet files and a real DuckDB file. Nothing talks to an address outside
127.0.0.0/8.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from jira_etl.measure import wait_with_rusage

UTC = dt.timezone.utc
BIN = Path(sys.executable).parent / "jira-etl"
CONNECTOR = "acme"
DEAD_PROXY = "http://127.0.0.1:9"


def new_token(email: str = "demo@jira-etl.local") -> str:
    """A distinctive API token, so a scan for it has no false positives (remembered with
    the email it is used with, for the secrets scan)."""
    from jira_etl.reliability.secrets_scan import remember

    token = "reltok-" + secrets.token_hex(12)
    remember(email, token)
    return token


def yesterday() -> dt.date:
    return dt.datetime.now(UTC).date() - dt.timedelta(days=1)


def day_range(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def truth(site, start: dt.date, end: dt.date) -> set[int]:
    lo = dt.datetime.combine(start, dt.time(), UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC) - dt.timedelta(milliseconds=1)
    return site.truth_ids(lo, hi)


def truth_by_day(site, start: dt.date, end: dt.date) -> dict[dt.date, set[int]]:
    return {d: truth(site, d, d) for d in day_range(start, end)}


# --- captured text (scanned for secrets at the end) ---------------------------------


class Capture:
    """Every stdout/stderr/exception text the harness saw, kept on disk under `root`."""

    def __init__(self, root: Path):
        self.dir = Path(root) / "captured"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def add(self, label: str, text: str) -> None:
        self._n += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:60]
        (self.dir / f"{os.getpid()}-{self._n:05d}-{safe}.txt").write_text(text or "", errors="backslashreplace")


# --- the CLI ---------------------------------------------------------------------------


def cli_env(root: Path, *, site_url: str | None = None, email: str | None = None, token: str | None = None,
            connector: str = CONNECTOR, start_date: str = "2020-01-01", **extra: str) -> dict[str, str]:
    """A fresh environment: no JIRA_* of the developer, own data dir and Dagster home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    env.pop("DAGSTER_HOME", None)
    env.update(JIRA_ETL_DATA_DIR=str(Path(root) / "data"), DAGSTER_HOME=str(Path(root) / "dagster_home"),
               JIRA_ETL_START_DATE=start_date, PYTHONUNBUFFERED="1")
    # Should a malformed site ever get past validation, its request goes to a dead
    # loopback proxy, never to the network (and no DNS look-up happens either).
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[var] = DEAD_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost,::1"
    if site_url is not None:
        env["JIRA_SITE"] = site_url
    if email is not None:
        env["JIRA_EMAIL"] = email
    if token is not None:
        env["JIRA_API_TOKEN"] = token
    if connector:
        env["JIRA_CONNECTOR"] = connector
    env.update(extra)
    return env


def sim_env(root: Path, sim, **extra) -> dict[str, str]:
    return cli_env(root, site_url=sim.url, email=sim.email, token=sim.token, **extra)


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float = 0.0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], env: dict, *, capture: Capture | None = None, timeout: float = 900,
            cwd: Path | None = None) -> CliResult:
    """Run `jira-etl ARGS` to completion; also measures the process's peak RSS."""
    t0 = time.monotonic()
    cwd = cwd or Path(env["JIRA_ETL_DATA_DIR"]).parent  # never the project's .env
    cwd.mkdir(parents=True, exist_ok=True)
    with open(cwd / f".out-{os.getpid()}-{time.monotonic_ns()}", "w+") as out, \
            open(cwd / f".err-{os.getpid()}-{time.monotonic_ns()}", "w+") as err:
        proc = subprocess.Popen([str(BIN), *args], env=env, cwd=str(cwd), stdout=out, stderr=err)
        code, rusage = wait_with_rusage(proc, timeout - (time.monotonic() - t0), poll_s=0.05)
        out.seek(0), err.seek(0)
        res = CliResult(list(args), code, out.read(), err.read(), time.monotonic() - t0,
                        rusage.ru_maxrss / 1024)
        for f in (out, err):
            os.unlink(f.name)
    if capture is not None:
        capture.add(args[0], f"$ jira-etl {' '.join(args)}\n--- stdout\n{res.stdout}\n--- stderr\n{res.stderr}")
    return res


def backfill_args(start: dt.date, end: dt.date) -> list[str]:
    return ["backfill", "--start", start.isoformat(), "--end", end.isoformat()]


# --- what readers see -------------------------------------------------------------------


@dataclass
class DiskState:
    parquet_files: int = 0
    corrupt: list[str] = field(default_factory=list)
    temporaries: list[str] = field(default_factory=list)
    file_ids: dict[dt.date, list[int]] = field(default_factory=dict)
    duckdb_ok: bool = True
    duckdb_error: str = ""
    table_ids: list[int] = field(default_factory=list)
    half_loaded: list[str] = field(default_factory=list)
    glob_rows: int | None = None

    def problems(self) -> list[str]:
        out = [f"corrupt Parquet: {c}" for c in self.corrupt]
        out += [f"temporary file left: {t}" for t in self.temporaries]
        if not self.duckdb_ok:
            out.append(f"DuckDB does not open: {self.duckdb_error}")
        out += [f"half-loaded day: {h}" for h in self.half_loaded]
        dup = len(self.table_ids) - len(set(self.table_ids))
        if dup:
            out.append(f"{dup} duplicated id(s) in audit_records")
        for day, ids in self.file_ids.items():
            if len(ids) != len(set(ids)):
                out.append(f"duplicated ids in the Parquet file of {day}")
        return out


def inspect(data_dir: Path, connector: str = CONNECTOR) -> DiskState:
    """Read every Parquet file where readers look and the DuckDB file as a reader would."""
    from jira_etl.storage import lake

    state = DiskState()
    root = lake.dataset_root(data_dir)
    if root.exists():
        state.temporaries = sorted(str(p.relative_to(data_dir)) for p in root.rglob("*.tmp"))
        for f in sorted(root.glob(f"connector={connector}/date=*/*.parquet")):
            state.parquet_files += 1
            try:
                table = pq.read_table(f, columns=["id"])
                day = dt.date.fromisoformat(f.parent.name.removeprefix("date="))
                state.file_ids[day] = table.column("id").to_pylist()
            except Exception as exc:  # noqa: BLE001 - any failure to read is corruption
                state.corrupt.append(f"{f.relative_to(data_dir)}: {type(exc).__name__}: {exc}")
        if state.parquet_files and not state.corrupt:
            # The glob the README tells users to query must read cleanly too.
            try:
                with duckdb.connect() as con:
                    state.glob_rows = con.execute(
                        f"SELECT count(*) FROM read_parquet('{root}/*/*/*.parquet', hive_partitioning=true)"
                    ).fetchone()[0]
            except Exception as exc:  # noqa: BLE001
                state.corrupt.append(f"read_parquet glob: {type(exc).__name__}: {exc}")
    db = Path(data_dir) / "jira_audit.duckdb"
    if db.exists():
        try:
            con = _open_read_only(db)
            try:
                state.table_ids = [r[0] for r in con.execute(
                    "SELECT id FROM audit_records WHERE connector = ?", [connector]).fetchall()]
                state.half_loaded = [f"{d}: collected_partitions says {n}, audit_records holds {m}" for d, n, m in
                                     con.execute(HALF_LOADED_SQL, [connector]).fetchall()]
            finally:
                con.close()
        except Exception as exc:  # noqa: BLE001
            state.duckdb_ok, state.duckdb_error = False, f"{type(exc).__name__}: {exc}"
    return state


# A day whose collected_partitions count disagrees with its rows is half loaded.
HALF_LOADED_SQL = """
SELECT c.day, c.record_count, count(a.id)
FROM collected_partitions c
LEFT JOIN audit_records a
  ON a.connector = c.connector
 AND a.created >= c.day::TIMESTAMP AT TIME ZONE 'UTC'
 AND a.created < (c.day + 1)::TIMESTAMP AT TIME ZONE 'UTC'
WHERE c.connector = ?
GROUP BY ALL
HAVING c.record_count <> count(a.id)
ORDER BY 1
"""


def _open_read_only(db: Path, wait_s: float = 60.0):
    deadline = time.monotonic() + wait_s
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            con.execute("SET TimeZone = 'UTC'")
            return con
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def compare(state: DiskState, expected: set[int], days: dict[dt.date, set[int]] | None = None) -> list[str]:
    """Problems of a finished collection against the truth: lost, duplicated, extra."""
    out = state.problems()
    got = set(state.table_ids)
    if got != expected or len(state.table_ids) != len(expected):
        lost, extra = expected - got, got - expected
        out.append(f"DuckDB: {len(lost)} lost, {len(extra)} unexpected, "
                   f"{len(state.table_ids) - len(got)} duplicated (of {len(expected)})")
    for day, ids in (days or {}).items():
        have = state.file_ids.get(day)
        if have is None:
            out.append(f"no Parquet file for {day}")
        elif set(have) != ids or len(have) != len(ids):
            out.append(f"Parquet {day}: {len(ids - set(have))} lost, {len(set(have) - ids)} unexpected")
    return out


def partial_problems(state: DiskState, days: dict[dt.date, set[int]]) -> list[str]:
    """After a failed run: whatever was published must be whole (a file = its full day,
    a day in DuckDB = all of its records or none)."""
    out = state.problems()
    for day, ids in state.file_ids.items():
        want = days.get(day)
        if want is not None and (set(ids) != want or len(ids) != len(want)):
            out.append(f"partial Parquet for {day}: {len(ids)} of {len(want)} records")
    got = set(state.table_ids)
    every = set().union(*days.values()) if days else set()
    if got - every:
        out.append(f"DuckDB holds {len(got - every)} record(s) that are not in the truth")
    for day, want in days.items():
        n = len(want & got)
        if 0 < n < len(want):
            out.append(f"partial DuckDB day {day}: {n} of {len(want)} records")
    return out


def machine() -> str:
    import platform

    from jira_etl.measure import cpu_model, memory_gib

    cpu, gib = cpu_model(), memory_gib()
    mem = f"{gib:.1f} GiB RAM" if gib is not None else ""
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} CPU(s) {cpu}, {mem}, "
            f"Python {platform.python_version()}").replace("  ", " ")
