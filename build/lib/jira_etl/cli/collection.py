"""`jira-etl test-connection`, `status` and `sql`."""

from __future__ import annotations

import sys

from jira_etl import settings
from jira_etl.cli.errors import CliError


def cmd_test_connection(args) -> int:
    return 0 if test_connection(args) else 1


def test_connection(args) -> bool:
    from jira_etl.connectors import configured_connectors
    from jira_etl.defs.resources import check_connector

    connectors = configured_connectors()
    if getattr(args, "connector", None) and not getattr(args, "all", False):
        connectors = [c for c in connectors if c.name == args.connector]
        if not connectors:
            names = ", ".join(c.name for c in configured_connectors())
            print(f"jira-etl: error: unknown connector {args.connector!r}; configured: {names}")
            return False
    ok = True
    for c in connectors:
        result = check_connector(c)
        print(result.line(), flush=True)
        ok &= result.ok
    return ok


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
