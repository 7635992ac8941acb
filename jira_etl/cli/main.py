"""`jira-etl`: the parser and the dispatch. One module per group of commands beside this
one; heavy imports (dagster, pandas) happen inside the commands, so `--help` and
`test-connection` answer quickly."""

from __future__ import annotations

import argparse
import os
import sys

# No command does linear algebra, yet numpy's OpenBLAS starts a worker thread per core
# when numpy is imported, and its workers spin after a call (a backfill: ~0.1 CPU s in
# blas_thread_server, by perf, on a 2-core machine where the collector's CPU is the
# wall). One thread, unless the user chose otherwise; set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from jira_etl import settings  # noqa: E402 - after the variable above
from jira_etl.cli import backfill, collection, delivery, demo, findings, report  # noqa: E402
from jira_etl.cli.errors import CliError  # noqa: E402


EPILOG = """\
where the data lives:
  $JIRA_ETL_DATA_DIR (default ./data)      jira_audit.duckdb (tables audit_records, findings, ...)
  $JIRA_ETL_DATA_DIR/parquet/audit_records  Parquet, hive-partitioned by connector and date
  $DAGSTER_HOME (default ./dagster_home)   the Dagster instance: runs of the UI and the CLI

variables that matter (also read from ./.env; the real environment wins):
  JIRA_SITE, JIRA_EMAIL, JIRA_API_TOKEN     one Jira Cloud site (or JIRA_CLOUD_ID + JIRA_OAUTH_TOKEN)
  JIRA_ETL_CONNECTORS                        a connectors.yaml for several sites (default ./connectors.yaml)
  JIRA_ETL_START_DATE                        first daily partition
  JIRA_ETL_DETECTIONS_CONFIG                 detections.yaml with overrides and suppressions
  With no site configured, every command talks to the built-in simulator (and says so).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jira-etl", description="Collect Jira audit records into Parquet and DuckDB, watch them with detections.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("test-connection", help="check the site, the credentials and audit-log access")
    s.add_argument("--connector", help="connector name (default: every configured one)")
    s.add_argument("--all", action="store_true", help="test every configured connector")
    s.set_defaults(func=collection.cmd_test_connection)

    s = sub.add_parser("backfill", help="collect an inclusive date range through the Dagster assets")
    s.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
    s.add_argument("--end", required=True, help="last day, YYYY-MM-DD (UTC), inclusive")
    s.add_argument("--connector", action="append", help="only this connector (repeatable)")
    s.add_argument("--settle", action="store_true",
                   help="a settle pass (as the schedule <c>_settle_recent): count records the days did not hold "
                        "before (late_records) and keep held ones Jira no longer returns")
    s.set_defaults(func=backfill.cmd_backfill)

    s = sub.add_parser("status", help="collection status per connector")
    s.add_argument("--connector", action="append", help="only this connector (repeatable)")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.set_defaults(func=collection.cmd_status)

    s = sub.add_parser("sql", help="run a read-only SQL query on the DuckDB warehouse")
    s.add_argument("query")
    s.add_argument("--format", choices=["table", "csv", "json"], default="table")
    s.add_argument("--max-rows", type=int, default=1000)
    s.set_defaults(func=collection.cmd_sql)

    s = sub.add_parser("simulator", help="serve the built-in Jira Cloud (or Data Center) API simulator")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--seed", type=int, default=7, help="data are deterministic per seed and day")
    s.add_argument("--volume", type=int, default=None, help="records per day (default: realistic, ~150-400 on weekdays)")
    s.add_argument("--tz", default="+0000", help="offset `created` is written in, e.g. +0530")
    s.add_argument("--plant", action="store_true", help="plant every detection scenario over the last 30 days")
    s.add_argument("--deployment", choices=["cloud", "datacenter"], default="cloud",
                   help="datacenter: serve /rest/auditing/1.0/events (Jira Data Center) instead of Cloud's API")
    s.add_argument("--context-path", default="", help="datacenter only: the server's context path, e.g. /jira")
    s.set_defaults(func=demo.cmd_simulator)

    s = sub.add_parser("demo", help="collect the last days from the built-in simulator")
    s.add_argument("--days", type=int, default=7)
    s.set_defaults(func=demo.cmd_demo)

    findings.register(sub)
    delivery.register(sub)  # deliver, export
    report.register(sub)
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
