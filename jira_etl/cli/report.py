"""`jira-etl report` and the triage actions `jira-etl findings ack|resolve|reopen ID`.

The command bodies are plain functions; `register` and `register_triage` add them to the
parsers in a few lines. Heavy imports (altair, DuckDB) happen inside the commands.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
from pathlib import Path

from jira_etl.cli.errors import CliError, parse_date

UTC = dt.timezone.utc
TRIAGE_ACTIONS = {"ack": "acknowledged", "resolve": "resolved", "reopen": "open", "false-positive": "false_positive"}


def _error(message: str) -> Exception:
    return CliError(message)




def report_period(start: str | None, end: str | None, days: int | None,
                  today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """--start/--end, or the --days (default 30) ending yesterday (today with --end)."""
    today = today or dt.datetime.now(UTC).date()
    if start and days:
        raise _error("give --start/--end or --days, not both")
    last = parse_date(end, "--end") if end else today - dt.timedelta(days=1)
    first = parse_date(start, "--start") if start else last - dt.timedelta(days=(days or 30) - 1)
    if days is not None and days < 1:
        raise _error("--days must be at least 1")
    if last < first:
        raise _error(f"--end {last} is before --start {first}")
    if (last - first).days > 366:
        raise _error("the period is longer than a year; pick a shorter one")
    return first, last


def write_reports(connectors: list[str], start: dt.date, end: dt.date, out: Path | None = None,
                  data_dir: Path | None = None) -> list[tuple[Path, object]]:
    """One report per connector (default paths), or one for all of them in `out`."""
    from jira_etl import settings
    from jira_etl.report.render import build_report, default_path, write_report
    from jira_etl.storage.warehouse import Warehouse

    data_dir = data_dir or settings.data_dir()
    warehouse = Warehouse(data_dir)
    if out is not None:
        report = build_report(warehouse, connectors, start, end)
        return [(write_report(report, out), report)]
    written = []
    for name in connectors:
        report = build_report(warehouse, [name], start, end)
        written.append((write_report(report, default_path(data_dir, name, end)), report))
    return written


def cmd_report(args: argparse.Namespace) -> int:
    from jira_etl.connectors import configured_connectors

    names = [c.name for c in configured_connectors()]
    if args.connector and args.connector not in names:
        raise _error(f"unknown connector {args.connector}; configured: {', '.join(names)}")
    chosen = [args.connector] if args.connector else names
    start, end = report_period(args.start, args.end, args.days)
    out = Path(args.out) if args.out else None
    if out is not None and out.is_dir():
        out = out / f"report-{end.isoformat()}.html"
    for path, report in write_reports(chosen, start, end, out):
        print(f"report {start} .. {end}: {path} ({path.stat().st_size / 1024:.0f} KiB)")
        print(report.summary().split("\n", 2)[2])
    return 0


def register(sub) -> None:
    s = sub.add_parser("report", help="write the HTML report (collection status, charts, findings)")
    who = s.add_mutually_exclusive_group()
    who.add_argument("--connector", help="only this connector")
    who.add_argument("--all", action="store_true", help="every configured connector (the default)")
    s.add_argument("--start", help="first day, YYYY-MM-DD (UTC)")
    s.add_argument("--end", help="last day, YYYY-MM-DD (UTC), inclusive; default yesterday")
    s.add_argument("--days", type=int, help="the N days ending --end (default 30)")
    s.add_argument("--out", help="one file for the selected connectors "
                                 "(default: $JIRA_ETL_DATA_DIR/reports/<connector>/<end>.html each)")
    s.set_defaults(func=cmd_report)


# --- triage ----------------------------------------------------------------------------


def triage(finding_id: str, action: str, note: str | None = None, by: str | None = None,
           data_dir: Path | None = None) -> dict:
    from jira_etl import settings
    from jira_etl.storage.triage import TriageError, set_status
    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(data_dir or settings.data_dir())
    if not wh.path.exists():
        raise _error(f"no warehouse at {wh.path} yet: run `jira-etl backfill` (or `make demo`) first")
    with wh.writer() as con:
        try:
            return set_status(con, finding_id, TRIAGE_ACTIONS[action], by or _user(), note)
        except TriageError as exc:
            raise _error(str(exc)) from None


def _user() -> str:
    try:
        return os.environ.get("JIRA_ETL_ANALYST") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def cmd_triage(args: argparse.Namespace) -> int:
    done = triage(args.finding_id, args.action, args.note, args.by)
    print(f"{done['finding_id']} ({done['severity']} {done['detection_id']}, {done['connector']}, "
          f"actor {done['actor'] or '-'}): {done['previous']} -> {done['status']}")
    return 0


def register_triage(findings_parser: argparse.ArgumentParser) -> None:
    """`findings ack|resolve|reopen|false-positive ID`: optional sub-actions, so plain
    `jira-etl findings --since ...` keeps listing."""
    actions = findings_parser.add_subparsers(dest="action", metavar="{ack,resolve,reopen,false-positive}")
    for action, status in TRIAGE_ACTIONS.items():
        a = actions.add_parser(action, help=f"mark a finding {status.replace('_', ' ')}")
        a.add_argument("finding_id", help="the finding's id (or its first 8+ characters)")
        a.add_argument("--note", help="why (kept with the status)")
        a.add_argument("--by", help="who (default $JIRA_ETL_ANALYST or the login name)")
        a.set_defaults(func=cmd_triage)


# --- after a backfill (the demo) ---------------------------------------------------------


def materialize_analyst_assets(connector: str, day: dt.date) -> dict:
    """`<c>/report` for `day`, `<c>/open_findings` and `<c>/collection_health`, as one
    run recorded in the Dagster instance (the demo calls this after its backfill)."""
    import dagster as dg

    from jira_etl.cli.job_run import collect_job_name, run_job
    from jira_etl.defs.assets.analyst import health_key, open_findings_key, report_key

    # A run of the connector's job `collect_<c>`, as the UI launches it (re-executable there).
    result = run_job(collect_job_name(connector), instance=dg.DagsterInstance.get(),
                     asset_selection=[report_key(connector), open_findings_key(connector), health_key(connector)],
                     tags={"dagster/partition": day.isoformat(), "jira_etl/source": "cli"},
                     run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        if mat.asset_key == report_key(connector):
            meta = {k: v.value for k, v in mat.metadata.items()}
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    return {"success": result.success, "path": meta.get("path"), "summary": meta.get("summary"), "checks": checks}
