"""`jira-etl`: test-connection, backfill, sql, simulator, demo.

Heavy imports (dagster, pandas) happen inside the commands, so `--help` and
`test-connection` answer quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import os
import sys
from pathlib import Path

from jira_etl import settings

UTC = dt.timezone.utc
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class CliError(Exception):
    pass


def _parse_date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: {value!r} is not a date in the form YYYY-MM-DD") from None


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, or the project's dagster_home/ (the one `make dev` uses)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path.cwd() / "dagster_home")
        os.environ["DAGSTER_HOME"] = home
    path = Path(home)
    path.mkdir(parents=True, exist_ok=True)
    cfg = path / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n")
    return path


# --- backfill ------------------------------------------------------------------------


def validate_range(start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    today = today or dt.datetime.now(UTC).date()
    first = settings.start_date()
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    if start < first:
        raise CliError(
            f"--start {start} is before the first partition {first} (set JIRA_ETL_START_DATE to collect earlier days)"
        )
    if end > today:
        raise CliError(f"--end {end} is in the future (today is {today} UTC)")


def run_backfill(start: dt.date, end: dt.date, connectors: list[str] | None = None, quiet: bool = False) -> dict:
    """Materialize every selected connector's assets over [start, end] in one run each.

    The runs are recorded in the Dagster instance the UI shows. One failing connector
    does not stop the others; the result maps connector -> (success, run_id, error).
    """
    validate_range(start, end)
    ensure_dagster_home()
    with _no_gc_while_loading():
        from jira_etl.detections.catalogue import load_catalogue_in_background

        load_catalogue_in_background()  # its dry run in DuckDB overlaps Dagster's imports
        import dagster as dg

        from jira_etl import definitions

        defs = definitions.build_definitions()
        names = [c.name for c in definitions.configured_connectors()]
        unknown = sorted(set(connectors or []) - set(names))
        if unknown:
            raise CliError(f"unknown connector(s) {', '.join(unknown)}; configured: {', '.join(names)}")
        instance = dg.DagsterInstance.get()
    outcome = {}
    for name in connectors or names:
        assets = definitions.connector_assets(name)
        resources = {k: v for k, v in defs.resources.items() if k in ("storage", f"jira_{name}")}
        if not quiet:
            print(f"backfill {name}: {start} .. {end} ({(end - start).days + 1} day(s))", flush=True)
        result = dg.materialize(
            assets,
            resources=resources,
            instance=instance,
            tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat(), "jira_etl/source": "cli"},
            # Progress lines (one per day) are INFO; Dagster's step events are DEBUG noise here.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING" if quiet else "INFO"}}}},
            raise_on_error=False,
        )
        error = None
        if not result.success:
            error = _run_failure(result)
        outcome[name] = {"success": result.success, "run_id": result.run_id, "error": error}
        if not quiet:
            state = "ok" if result.success else f"FAILED: {error}"
            print(f"backfill {name}: run {result.run_id} {state}", flush=True)
    return outcome


_frozen = False


@contextlib.contextmanager
def _no_gc_while_loading():
    """The cyclic GC off while Dagster, pandas, Arrow and SQLAlchemy are imported and the
    definitions built, then what they loaded frozen out of its walks (once a process).
    Loading makes ~250k objects that live as long as the process and almost no garbage,
    yet each full collection during it walked everything loaded so far: four of them,
    ~0.35 s of a backfill's start-up, before the first request."""
    global _frozen
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        if not _frozen:
            gc.freeze()
            _frozen = True
    finally:
        if was_enabled:
            gc.enable()


def _run_failure(result) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            err = event.step_failure_data.error
            while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError",):
                err = err.cause
            return err.message.strip().splitlines()[0] if err.message else err.cls_name
    return "run failed (see the Dagster UI)"


# --- commands --------------------------------------------------------------------------


def cmd_backfill(args) -> int:
    start = _parse_date(args.start, "--start")
    end = _parse_date(args.end, "--end")
    outcome = run_backfill(start, end, args.connector)
    return 0 if all(o["success"] for o in outcome.values()) else 1


def cmd_test_connection(args) -> int:
    from jira_etl.connection import test_connection

    return 0 if test_connection(args) else 1


def cmd_status(args) -> int:
    from tabulate import tabulate

    from jira_etl.connectors import configured_connectors
    from jira_etl.status import HEADERS, collection_status
    from jira_etl.storage.warehouse import Warehouse

    rows = collection_status(configured_connectors(), Warehouse(settings.data_dir()))
    if args.format == "json":
        import json

        print(json.dumps([dict(zip(HEADERS, r.row())) for r in rows], indent=1))
    else:
        print(tabulate([r.row() for r in rows], headers=HEADERS, tablefmt="github"))
    return 0


def cmd_sql(args) -> int:
    from tabulate import tabulate

    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(settings.data_dir())
    if not wh.path.exists():
        raise CliError(f"no warehouse at {wh.path} yet: run `jira-etl backfill` (or `make demo`) first")
    import duckdb

    with wh.reader() as con:
        try:
            cur = con.execute(args.query)
        except duckdb.Error as exc:
            raise CliError(f"query failed: {exc}") from None
        if cur.description is None:
            return 0
        cols = [d[0] for d in cur.description]
        rows = cur.fetchmany(args.max_rows + 1)
    fmt = args.format
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(cols)
        w.writerows(rows[: args.max_rows])
    elif fmt == "json":
        import json

        print(json.dumps([dict(zip(cols, r)) for r in rows[: args.max_rows]], default=str, indent=1))
    else:
        print(tabulate(rows[: args.max_rows], headers=cols, tablefmt="github"))
        if len(rows) > args.max_rows:
            print(f"(first {args.max_rows} rows shown; use --max-rows)")
    return 0


def cmd_simulator(args) -> int:
    from jira_etl.simulator.server import serve

    serve(port=args.port, seed=args.seed, volume=args.volume, tz=args.tz, plant=args.plant)
    return 0


DEMO_SCENARIOS = ["global_permission_added", "new_site_admin", "privilege_escalation_chain", "mass_user_removal"]


def cmd_demo(args) -> int:
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.scenarios import PLANTERS
    from jira_etl.simulator.server import JiraSimulator

    today = dt.datetime.now(UTC).date()
    start, end = today - dt.timedelta(days=args.days), today - dt.timedelta(days=1)
    data = SiteData()
    # A few planted attacks inside the week, so the detections have something to find.
    for i, detection in enumerate(DEMO_SCENARIOS):
        day = end - dt.timedelta(days=i + 1)
        PLANTERS[detection](data, dt.datetime.combine(day, dt.time(10 + i, 17), UTC))
    sim = JiraSimulator(data)
    url = sim.start()
    # The demo always talks to the simulator, whatever .env says.
    # The partitions of the simulator connector start at the demo's first day (also for
    # a later `make dev`), not at the default start date hundreds of days earlier.
    first = settings.remember_demo_start(start)
    os.environ.update(JIRA_SITE=url, JIRA_EMAIL=sim.email, JIRA_API_TOKEN=sim.token, JIRA_CONNECTOR="demo")
    os.environ.pop("JIRA_ETL_CONNECTORS", None)
    os.environ.setdefault("JIRA_ETL_START_DATE", first.isoformat())
    print(f"simulator: {url} (built-in Jira Cloud API, deterministic data, {len(DEMO_SCENARIOS)} planted attacks)")
    try:
        outcome = run_backfill(start, end, ["demo"])
    finally:
        sim.stop()
    data_dir = settings.data_dir()
    from jira_etl.storage import parquet
    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(data_dir)
    with wh.reader() as con:
        rows = con.execute(
            "SELECT day, record_count FROM collected_partitions WHERE connector = 'demo' "
            "AND day BETWEEN ? AND ? ORDER BY day", [start, end]
        ).fetchall()
        found = con.execute(
            "SELECT severity, detection_id, count(*) FROM findings WHERE connector = 'demo' "
            "AND first_seen >= ? GROUP BY ALL ORDER BY 1, 2",
            [dt.datetime.combine(start, dt.time(), UTC)],
        ).fetchall()
    print("\nrecords per day (connector demo):")
    for day, n in rows:
        print(f"  {day}  {n:6d}")
    print("\nfindings:" if found else "\nfindings: none")
    for severity, detection, n in found:
        print(f"  {severity:8s} {detection:32s} {n}")
    print(f"\nParquet:  {parquet.dataset_root(data_dir)}/connector=demo/date=*/data.parquet")
    print(f"DuckDB:   {wh.path} (tables audit_records, findings, users)")
    print("Query:    .venv/bin/jira-etl sql \"SELECT summary, count(*) FROM audit_records GROUP BY 1 ORDER BY 2 DESC\"")
    print("Findings: .venv/bin/jira-etl findings --severity high")
    print("Status:   .venv/bin/jira-etl status")
    print("UI:       make dev, then open http://127.0.0.1:3000 (Assets > demo > Materialize / backfill)")
    if not outcome["demo"]["success"]:
        return 1
    from jira_etl.cli_report import materialize_analyst_assets

    shown = materialize_analyst_assets("demo", end)
    print(f"Report:   {shown['path'] or 'not written (see the run in the UI)'}")
    return 0 if shown["success"] else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jira-etl", description="Collect Jira Cloud audit records into Parquet and DuckDB.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("test-connection", help="check the site, the credentials and audit-log access")
    s.add_argument("--connector", help="connector name (default: every configured one)")
    s.add_argument("--all", action="store_true", help="test every configured connector")
    s.set_defaults(func=cmd_test_connection)

    s = sub.add_parser("backfill", help="collect an inclusive date range through the Dagster assets")
    s.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
    s.add_argument("--end", required=True, help="last day, YYYY-MM-DD (UTC), inclusive")
    s.add_argument("--connector", action="append", help="only this connector (repeatable)")
    s.set_defaults(func=cmd_backfill)

    s = sub.add_parser("status", help="collection status per connector")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("sql", help="run a read-only SQL query on the DuckDB warehouse")
    s.add_argument("query")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--max-rows", type=int, default=1000)
    s.set_defaults(func=cmd_sql)

    s = sub.add_parser("simulator", help="serve the built-in Jira Cloud API simulator")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--seed", type=int, default=7, help="data are deterministic per seed and day")
    s.add_argument("--volume", type=int, default=None, help="records per day (default: realistic, ~150-400 on weekdays)")
    s.add_argument("--tz", default="+0000", help="offset `created` is written in, e.g. +0530")
    s.add_argument("--plant", action="store_true", help="plant every detection scenario over the last 30 days")
    s.set_defaults(func=cmd_simulator)

    s = sub.add_parser("demo", help="collect the last days from the built-in simulator")
    s.add_argument("--days", type=int, default=7)
    s.set_defaults(func=cmd_demo)

    from jira_etl import cli_findings  # findings, detections

    cli_findings.register(sub)
    from jira_etl import cli_report  # report; findings ack|resolve|reopen

    cli_report.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    settings.load_env_file()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, settings.ConfigError) as exc:
        print(f"jira-etl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jira-etl: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The `jira-etl` console script: `main`, then a fast exit.

    Once a command has returned, everything it wrote is closed: Parquet files are
    fsynced and renamed, DuckDB connections closed, Dagster's SQLite storage committed.
    What is left is the interpreter's teardown of everything dagster, pandas and
    pyarrow loaded, ~0.5 s after a backfill, so the process ends as soon as the output
    is flushed. `main` itself returns normally (tests call it in-process)."""
    code = main()
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away (`| head`) or a closed stream
            pass
    os._exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    run()
