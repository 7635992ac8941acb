"""The DuckDB half of a connector's audit records: its spec, checks and the result of
loading the day files (table `audit_records`). Materialized with the Parquet half in
`assets/audit_records.py`."""


import datetime as dt

import dagster as dg

from jira_etl.defs.assets.extract import FRESHNESS, parquet_asset_key, partition_key
from jira_etl.defs.assets.metadata import column_schema, markdown, selected_checks
from jira_etl.collect import days_in_window
from jira_etl.storage import compaction


def duckdb_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "audit_records_duckdb"])


def duckdb_spec(connector: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        duckdb_asset_key(connector),
        deps=[parquet_asset_key(connector)],
        group_name=connector,
        kinds={"duckdb"},
        freshness_policy=FRESHNESS,
        description=(
            f"Rows of connector `{connector}` in DuckDB table `audit_records` "
            "(primary key connector, id). Each day is replaced in one transaction, "
            "as soon as its Parquet file is published when both are materialized together."
        ),
    )


def duckdb_check_specs(connector: str) -> list[dg.AssetCheckSpec]:
    key = duckdb_asset_key(connector)
    return [
        dg.AssetCheckSpec("rows_match_parquet", asset=key,
                          description="The table holds exactly the rows of the day files."),
    ]


def day_files(context: dg.AssetExecutionContext, connector: str) -> dict[dt.date, object]:
    """The run's day files, which must all exist (DuckDB materialized on its own)."""
    storage = context.resources.storage
    window = context.partition_time_window
    days = days_in_window(window.start, window.end)
    # Day files, or the days' rows from their compacted month files.
    files = compaction.day_sources(storage.path, connector, days)
    missing = [d.isoformat() for d in days if d not in files]
    if missing:
        raise dg.Failure(
            f"No Parquet file for {connector} on {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}: materialize the extraction asset first."
        )
    return files


def loaded(context: dg.AssetExecutionContext, connector: str, counts: dict[dt.date, int]) -> dg.MaterializeResult:
    """The DuckDB asset's result once every day of the run is loaded: what the table
    holds for the window, checked against the files' row counts."""
    storage = context.resources.storage
    window = context.partition_time_window
    days = days_in_window(window.start, window.end)
    warehouse = storage.warehouse()
    lo = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
    hi = dt.datetime.combine(days[-1], dt.time(), dt.timezone.utc) + dt.timedelta(days=1)
    with warehouse.reader() as con:
        # (connector, id) is the table's primary key: no duplicate can be counted here
        # (ids unique across each day's file is the Parquet asset's `ids_unique` check).
        # The UTC day by epoch arithmetic: a cast to DATE would follow the session's time zone.
        by_day = {dt.date(1970, 1, 1) + dt.timedelta(days=int(n)): c for n, c in con.execute(
            "SELECT epoch_ms(created) // 86400000, count(*) FROM audit_records "
            "WHERE connector = ? AND created >= ? AND created < ? GROUP BY 1",
            [connector, lo, hi],
        ).fetchall()}
        rows = sum(by_day.values())
        preview = con.execute(
            "SELECT id, created, summary, category, author_account_id, object_item_name "
            "FROM audit_records WHERE connector = ? AND created >= ? AND created < ? "
            "ORDER BY created DESC LIMIT 5",
            [connector, lo, hi],
        ).df()
    expected = sum(counts.values())
    context.log.info(f"{connector}: loaded {expected} records over {len(days)} day(s) into {warehouse.path}")
    key = duckdb_asset_key(connector)
    checks = [
        dg.AssetCheckResult(asset_key=key, check_name="rows_match_parquet", passed=bool(rows == expected),
                            metadata={"table_rows": int(rows), "parquet_rows": int(expected)}),
    ]
    import pandas as pd  # on first use: importing it cost the start-up of every command ~0.4 s

    for day in days:  # each partition its own day's rows
        n = int(by_day.get(day, 0))
        context.add_asset_metadata({"dagster/row_count": n, "records": n}, asset_key=key, partition_key=partition_key(day))
    return dg.MaterializeResult(
        asset_key=key,
        metadata={
            "records_in_run": int(rows),
            "dagster/column_schema": column_schema(),
            "dagster/table_name": "jira_audit.main.audit_records",
            "path": dg.MetadataValue.path(str(warehouse.path)),
            "records_per_day": markdown(
                pd.DataFrame([{"date": d.isoformat(), "records": n} for d, n in sorted(counts.items())]), max_rows=62
            ),
            "preview": markdown(preview, max_rows=5),
        },
        check_results=selected_checks(context, checks),
    )
