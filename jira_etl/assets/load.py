"""Asset: the DuckDB table `audit_records`, loaded from the day files idempotently."""


import datetime as dt

import dagster as dg
import pandas as pd

from jira_etl.assets.extract import FRESHNESS, parquet_asset_key
from jira_etl.assets.metadata import column_schema, markdown
from jira_etl.collect import days_in_window
from jira_etl.partitions import daily_partitions
from jira_etl.storage import parquet


def duckdb_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "audit_records_duckdb"])


def build_load_asset(connector: str) -> dg.AssetsDefinition:
    key = duckdb_asset_key(connector)

    @dg.asset(
        key=key,
        deps=[parquet_asset_key(connector)],
        group_name=connector,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={"storage"},
        kinds={"duckdb"},
        freshness_policy=FRESHNESS,
        description=(
            f"Rows of connector `{connector}` in DuckDB table `audit_records` "
            "(primary key connector, id). Each day is replaced in one transaction."
        ),
        check_specs=[
            dg.AssetCheckSpec("no_duplicate_ids", asset=key, description="Each (connector, id) once in the window."),
            dg.AssetCheckSpec("rows_match_parquet", asset=key,
                              description="The table holds exactly the rows of the day files."),
        ],
    )
    def _load(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage = context.resources.storage
        window = context.partition_time_window
        days = days_in_window(window.start, window.end)
        files = {d: parquet.partition_file(storage.path, connector, d) for d in days}
        missing = [d.isoformat() for d, p in files.items() if not p.exists()]
        if missing:
            raise dg.Failure(
                f"No Parquet file for {connector} on {', '.join(missing[:5])}"
                f"{' ...' if len(missing) > 5 else ''}: materialize the extraction asset first."
            )
        warehouse = storage.warehouse()
        counts = warehouse.load_partitions(connector, files)
        lo = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
        hi = dt.datetime.combine(days[-1], dt.time(), dt.timezone.utc) + dt.timedelta(days=1)
        with warehouse.reader() as con:
            rows, distinct = con.execute(
                "SELECT count(*), count(DISTINCT id) FROM audit_records "
                "WHERE connector = ? AND created >= ? AND created < ?",
                [connector, lo, hi],
            ).fetchone()
            preview = con.execute(
                "SELECT id, created, summary, category, author_account_id, object_item_name "
                "FROM audit_records WHERE connector = ? AND created >= ? AND created < ? "
                "ORDER BY created DESC LIMIT 5",
                [connector, lo, hi],
            ).df()
        expected = sum(counts.values())
        context.log.info(f"{connector}: loaded {expected} records over {len(days)} day(s) into {warehouse.path}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": int(rows),
                "dagster/column_schema": column_schema(),
                "dagster/table_name": "jira_audit.main.audit_records",
                "path": dg.MetadataValue.path(str(warehouse.path)),
                "records_per_day": markdown(
                    pd.DataFrame([{"date": d.isoformat(), "records": n} for d, n in counts.items()]), max_rows=62
                ),
                "preview": markdown(preview, max_rows=5),
            },
            check_results=[
                dg.AssetCheckResult(check_name="no_duplicate_ids", passed=bool(rows == distinct),
                                    metadata={"rows": int(rows), "distinct_ids": int(distinct)}),
                dg.AssetCheckResult(check_name="rows_match_parquet", passed=bool(rows == expected),
                                    metadata={"table_rows": int(rows), "parquet_rows": int(expected)}),
            ],
        )

    return _load
