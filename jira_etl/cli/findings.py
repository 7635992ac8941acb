"""`jira-etl findings` and `jira-etl detections`.

Imports stay light at module level so `jira-etl --help` stays quick.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys

from jira_etl.cli.errors import CliError

SEVERITIES = ("low", "medium", "high", "critical")
FORMATS = ("table", "csv", "json")


def register(sub) -> None:
    """Add the two subcommands to jira-etl's subparsers."""
    s = sub.add_parser("findings", help="list the detections' findings (table `findings`)")
    s.add_argument("--since", help="first day, YYYY-MM-DD (UTC); default: 7 days ago")
    s.add_argument("--severity", choices=SEVERITIES, help="only this severity and above")
    s.add_argument("--connector", help="only this connector")
    s.add_argument("--detection", help="only this detection id")
    s.add_argument("--all", action="store_true",
                   help="also the findings an allow-list of detections.yaml suppressed (marked, with the reason)")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.set_defaults(func=cmd_findings)
    from jira_etl.cli.report import register_triage

    register_triage(s)  # findings ack|resolve|reopen ID

    s = sub.add_parser("detections", help="the detection catalogue with descriptions")
    s.add_argument("--format", choices=FORMATS, default="table")
    s.set_defaults(func=cmd_detections)


def query_findings(con, since: dt.date | None = None, severity: str | None = None,
                   connector: str | None = None, detection: str | None = None,
                   include_suppressed: bool = True) -> list[dict]:
    """The grouped findings (one row per finding and day), with count, first and last
    seen, the actor's name, and whether an allow-list suppressed it."""
    from jira_etl.storage.triage import triage_table

    levels = list(SEVERITIES[SEVERITIES.index(severity):]) if severity else list(SEVERITIES)
    sql = (
        "SELECT day, severity, detection_id, connector, coalesce(actor_name, actor_account_id) AS actor, "
        "actor_account_id, actor_name, coalesce(\"count\", len(record_ids)) AS count, first_seen, last_seen, "
        "object, remote_address, message, record_ids, finding_id, group_key, "
        "coalesce(suppressed, false) AS suppressed, suppression_reason, "
        f"coalesce(t.status, 'open') AS status FROM findings LEFT JOIN {triage_table(con)} t USING (finding_id) "
        "WHERE list_contains($levels, severity) AND day >= coalesce($since, DATE '1970-01-01') "
        "AND ($connector IS NULL OR connector = $connector) AND ($detection IS NULL OR detection_id = $detection) "
        "AND ($all OR NOT coalesce(suppressed, false)) "
        "ORDER BY day, list_position(['critical', 'high', 'medium', 'low'], severity), first_seen, detection_id"
    )
    cur = con.execute(sql, {"levels": levels, "since": since, "connector": connector, "detection": detection,
                            "all": include_suppressed})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def _jsonable(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _emit(rows: list[dict], fmt: str, table_cols: list[str], out=None) -> None:
    out = out or sys.stdout
    if fmt == "json":
        print(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], indent=1, default=str), file=out)
    elif fmt == "csv":
        if not rows:
            return
        w = csv.writer(out)
        w.writerow(list(rows[0]))
        for r in rows:
            w.writerow([" ".join(map(str, v)) if isinstance(v, list) else _jsonable(v) for v in r.values()])
    else:
        from tabulate import tabulate

        shown = [[_cell(r[c]) for c in table_cols] for r in rows]
        print(tabulate(shown, headers=table_cols, tablefmt="github"), file=out)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def cmd_findings(args: argparse.Namespace) -> int:
    import duckdb

    from jira_etl import settings
    from jira_etl.storage.warehouse import Warehouse

    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError:
            raise CliError(f"--since: {args.since!r} is not a date in the form YYYY-MM-DD") from None
    else:
        since = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
    wh = Warehouse(settings.data_dir())
    if not wh.path.exists():
        raise CliError(f"no warehouse at {wh.path} yet: run `jira-etl backfill` (or `make demo`) first")
    with wh.reader() as con:
        try:
            rows = query_findings(con, since, args.severity, args.connector, args.detection, include_suppressed=True)
        except duckdb.CatalogException:
            raise CliError("no findings yet: run `jira-etl backfill` (the findings asset runs after the load)") from None
    hidden = 0 if args.all else sum(1 for r in rows if r["suppressed"])
    if not args.all:
        rows = [r for r in rows if not r["suppressed"]]
    if args.format != "table":
        _emit(rows, args.format, [])
        return 0
    from jira_etl.cli.table_fit import terminal_width, wrap

    width = terminal_width()
    print(findings_table(rows, width))
    footer = (f"({len(rows)} finding(s) since {since}"
              + (f", severity {args.severity} and above" if args.severity else "")
              + (f"; {hidden} suppressed by detections.yaml not shown (--all shows them)" if hidden else "")
              + "; ids: their first 8+ characters serve `jira-etl findings ack|resolve ID`)")
    print("\n".join(wrap(footer, width)))
    return 0


def _seen(first: dt.datetime | None, last: dt.datetime | None) -> str:
    if first is None:
        return _cell(last)
    a = first.astimezone(dt.timezone.utc)
    b = (last or first).astimezone(dt.timezone.utc)
    if a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0):
        return a.strftime("%Y-%m-%d %H:%M")
    if a.date() == b.date():
        return a.strftime("%Y-%m-%d %H:%M") + " - " + b.strftime("%H:%M")
    return a.strftime("%Y-%m-%d %H:%M") + " - " + b.strftime("%Y-%m-%d %H:%M")


def findings_table(rows: list[dict], width: int) -> str:
    """The findings as a table no wider than `width`: finding id (its first 12
    characters) over the triage status, severity, detection (with the connector when
    there are several), actor, count, first - last seen (UTC), and the message, led by
    the suppression's reason for a suppressed finding (--all)."""
    from jira_etl.cli.table_fit import fit, narrowest, stacked

    several = len({r["connector"] for r in rows}) > 1
    headers = ["finding_id", "severity", "detection", "actor", "count", "seen (UTC)", "message"]
    shown = []
    for r in rows:
        status = "suppressed" if r["suppressed"] else r["status"]
        lead = f"[suppressed: {r['suppression_reason'] or ''}] " if r["suppressed"] else ""
        shown.append([f"{(r['finding_id'] or '')[:12]}\n{status}", r["severity"],
                      r["detection_id"] + (f" ({r['connector']})" if several else ""),
                      r["actor"] or "system", f"{int(r['count'] or 0):,}", _seen(r["first_seen"], r["last_seen"]),
                      lead + (r["message"] or "")])
    minimums = {"finding_id": 12, "severity": 8, "detection": 9, "actor": 6, "count": 5, "seen (UTC)": 10,
                "message": 20}
    caps = {"detection": 18, "actor": 16, "seen (UTC)": 16}
    if width < narrowest(headers, minimums):
        return stacked([([c[1], c[2], c[3], f"count {c[4]}", c[5], "id " + c[0].replace("\n", " (") + ")"], c[6])
                        for c in shown], width)
    return fit(headers, shown, width, minimums, first="message", caps=caps)


def catalogue_rows() -> list[dict]:
    from jira_etl.detections.catalogue import load_catalogue

    return [{"id": d.id, "severity": d.severity, "section": d.section, "title": d.title,
             "attack": d.attack or "", "rationale": d.rationale, "description": d.description,
             "parameters": d.parameters, "optional": d.optional} for d in load_catalogue()]


def cmd_detections(args: argparse.Namespace) -> int:
    from jira_etl.detections.catalogue import CatalogueError
    from jira_etl.storage.schema import load_hunting_views

    try:
        rows = catalogue_rows()
    except CatalogueError as exc:
        raise CliError(str(exc)) from None
    if args.format == "table":
        _emit(rows, "table", ["id", "severity", "section", "title", "attack"])
        print("\nRationale and parameters (override in detections.yaml or $JIRA_ETL_DETECTIONS_CONFIG):")
        for r in rows:
            params = ", ".join(f"{k}={v}" for k, v in r["parameters"].items())
            print(f"  {r['id']}: {r['rationale']}" + (f"\n      [{params}]" if params else ""))
        print("\nHunting views (query with `jira-etl sql`):")
        for v in load_hunting_views():
            print(f"  {v.view_name}: {v.title}. {v.description}")
    else:
        if args.format == "csv":
            for r in rows:
                r["parameters"] = json.dumps(r["parameters"])
        _emit(rows, args.format, [])
    return 0
