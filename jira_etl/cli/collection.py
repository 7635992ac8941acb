"""`jira-etl test-connection`, `status` and `sql`."""

from __future__ import annotations

import sys

from jira_etl import settings
from jira_etl.cli.errors import CliError


def cmd_test_connection(args) -> int:
    return 0 if test_connection(args) else 1


def test_connection(args) -> bool:
    from jira_etl.connectors import configured_connectors, simulator_notice
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
    notice = simulator_notice(connectors)
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    return ok


def cmd_status(args) -> int:
    from tabulate import tabulate

    from jira_etl.connectors import configured_connectors, simulator_notice
    from jira_etl.status import HEADERS, collection_status
    from jira_etl.storage.warehouse import Warehouse

    connectors = configured_connectors()
    if args.connector:
        connectors = [c for c in connectors if c.name in args.connector]
        unknown = sorted(set(args.connector) - {c.name for c in connectors})
        if unknown:
            names = ", ".join(c.name for c in configured_connectors())
            raise CliError(f"unknown connector(s) {', '.join(unknown)}; configured: {names}")
    rows = collection_status(connectors, Warehouse(settings.data_dir()))
    if args.format == "json":
        import json

        print(json.dumps([dict(zip(HEADERS, r.row())) for r in rows], indent=1))
    else:
        print(tabulate([r.row() for r in rows], headers=HEADERS, tablefmt="github"))
    notice = simulator_notice(connectors)
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    return 0


READ_STATEMENTS = ("SELECT", "EXPLAIN")


def refuse_writes(query: str) -> None:
    """`jira-etl sql` runs queries, nothing else: every statement must be a SELECT (SHOW,
    DESCRIBE, SUMMARIZE and WITH are SELECTs too) or an EXPLAIN. COPY, EXPORT, ATTACH,
    SET, INSTALL, CREATE ... are refused before anything runs; the connection itself is
    read-only and sandboxed to the data directory (Warehouse.reader)."""
    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise CliError(f"query failed: {exc}") from None
    for stmt in statements:
        kind = stmt.type.name
        if kind not in READ_STATEMENTS:
            raise CliError(f"`jira-etl sql` is read-only: {kind} statements are not allowed "
                           "(query the warehouse or read_parquet under the data directory)")


def cmd_sql(args) -> int:
    from tabulate import tabulate

    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(settings.data_dir())
    if not wh.path.exists():
        raise CliError(f"no warehouse at {wh.path} yet: run `jira-etl backfill` (or `make demo`) first")
    import duckdb

    from jira_etl.storage import lake

    refuse_writes(args.query)
    with wh.reader(sandbox_dirs=[wh.data_dir, lake.dataset_root(wh.data_dir)]) as con:
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
