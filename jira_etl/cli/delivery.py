"""`jira-etl deliver` and `jira-etl export`, and the delivery lines of `jira-etl status`.

Imports stay light at module level so `jira-etl --help` stays quick.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from jira_etl import settings
from jira_etl.cli.errors import CliError


def register(sub) -> None:
    s = sub.add_parser("deliver", help="one delivery pass: send due findings to the configured destinations")
    s.add_argument("--retry-failed", action="store_true",
                   help="first put deliveries refused earlier (4xx) back in the queue")
    s.add_argument("--quiet", action="store_true", help="print only problems")
    s.set_defaults(func=cmd_deliver)

    s = sub.add_parser("export", help="export audit records and findings as ECS or OCSF NDJSON")
    s.add_argument("--format", choices=["ecs", "ocsf"], required=True)
    s.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
    s.add_argument("--end", required=True, help="last day, YYYY-MM-DD (UTC), inclusive")
    s.add_argument("--connector", help="only this connector")
    s.add_argument("--out", help="write to this file (default: standard output)")
    s.set_defaults(func=cmd_export)


def _date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: {value!r} is not a date in the form YYYY-MM-DD") from None


def cmd_deliver(args) -> int:
    from jira_etl.delivery.config import configured_destinations
    from jira_etl.delivery.ledger import retry_failed, run_pass
    from jira_etl.storage.warehouse import Warehouse

    destinations = configured_destinations()
    if not destinations:
        print("deliver: no destination configured (set JIRA_ETL_WEBHOOK_URL, JIRA_ETL_SLACK_WEBHOOK_URL, "
              "JIRA_ETL_TEAMS_WEBHOOK_URL, JIRA_ETL_SYSLOG_URL or write delivery.yaml); nothing to do")
        return 0
    wh = Warehouse(settings.data_dir())
    if args.retry_failed:
        n = retry_failed(wh, [d.name for d in destinations])
        print(f"deliver: {n} failed delivery(ies) queued again")
    result = run_pass(wh, destinations, on_event=None if args.quiet else (lambda line: print(line, flush=True)))
    if not args.quiet or not result.clean:
        print(f"deliver: {result.sent} sent ({result.updates} update(s)) to "
              f"{', '.join(d.name for d in destinations)}", flush=True)
    if result.clean:
        return 0
    for reason in result.reasons():
        print(f"deliver: {reason}", file=sys.stderr)
    return 1


def status_lines() -> list[list[str]]:
    """Rows for `jira-etl status`: destination, delivered, pending, failed, last error."""
    from jira_etl.delivery.config import configured_destinations
    from jira_etl.delivery.ledger import delivery_status
    from jira_etl.storage.warehouse import Warehouse

    destinations = configured_destinations()
    if not destinations:
        return []
    return [[n, str(a), str(b), str(c), e or "-"] for n, a, b, c, e in
            delivery_status(Warehouse(settings.data_dir()), destinations)]


STATUS_HEADERS = ["destination", "delivered", "pending", "failed", "last error"]


def print_status() -> None:
    from tabulate import tabulate

    rows = status_lines()
    if rows:
        print()
        print(tabulate(rows, headers=STATUS_HEADERS, tablefmt="github"))


def cmd_export(args) -> int:
    from jira_etl.export import ecs, ocsf, source
    from jira_etl.storage.warehouse import Warehouse

    start, end = _date(args.start, "--start"), _date(args.end, "--end")
    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    wh = Warehouse(settings.data_dir())
    if not wh.path.exists():
        raise CliError(f"no warehouse at {wh.path} yet: run `jira-etl backfill` (or `make demo`) first")
    attack = source.attack_by_detection()
    to_record, to_finding = ((ecs.record_document, ecs.finding_document) if args.format == "ecs"
                             else (ocsf.record_event, ocsf.finding_event))
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    n = 0
    try:
        with wh.reader() as con:
            for rec in source.records(con, start, end, args.connector):
                out.write(json.dumps(to_record(rec), ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
            for f in source.findings(con, start, end, args.connector):
                out.write(json.dumps(to_finding(f, attack.get(f["detection_id"])), ensure_ascii=False,
                                     separators=(",", ":")) + "\n")
                n += 1
    finally:
        if args.out:
            out.close()
    if args.out:
        print(f"export: {n} {args.format.upper()} document(s) written to {args.out}", file=sys.stderr)
    return 0
