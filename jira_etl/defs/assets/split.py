"""The cluster shape of a connector's assets: collection and warehouse load as two ops.

On one machine one op collects, loads and evaluates (`audit_records.py`) so the three
overlap. Across machines, collection runs anywhere and only writes the lake, while the
load and the findings step takes a slot of the `warehouse_writer` pool (size 1 in
`deploy/dagster.yaml`), so steps from many workers never queue on the DuckDB file lock
holding a run slot, and a killed worker's slot is freed by run monitoring. Same asset
keys, checks, partitions and single-run policy; chosen by JIRA_ETL_SPLIT_LOAD=1."""

import dagster as dg

from jira_etl.defs.assets.extract import extract, jira_resource_key, parquet_check_specs, parquet_spec
from jira_etl.defs.assets.findings import FindingsRun, findings_asset_key, findings_check_specs, findings_spec
from jira_etl.defs.assets.load import day_files, duckdb_asset_key, duckdb_check_specs, duckdb_spec, loaded
from jira_etl.collect import days_in_window
from jira_etl.defs.partitions import daily_partitions

WAREHOUSE_POOL = "warehouse_writer"


def build_split_assets(connector: str) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        name=f"{connector}__collect",
        specs=[parquet_spec(connector)],
        check_specs=parquet_check_specs(connector),
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={jira_resource_key(connector), "storage"},
    )
    def _collect(context: dg.AssetExecutionContext):
        yield extract(context, connector)

    @dg.multi_asset(
        name=f"{connector}__load",
        specs=[duckdb_spec(connector), findings_spec(connector)],
        check_specs=duckdb_check_specs(connector) + findings_check_specs(connector),
        can_subset=True,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        required_resource_keys={jira_resource_key(connector), "storage"},
    )
    def _load(context: dg.AssetExecutionContext):
        selected = context.selected_asset_keys
        if duckdb_asset_key(connector) in selected:
            warehouse = context.resources.storage.warehouse()
            yield loaded(context, connector, warehouse.load_partitions(connector, day_files(context, connector)))
        if findings_asset_key(connector) in selected:
            run = FindingsRun(context, connector)
            window = context.partition_time_window
            run.evaluate(days_in_window(window.start, window.end))
            yield run.result(context)

    return [_collect, _load]
