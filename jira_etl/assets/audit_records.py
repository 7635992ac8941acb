"""Assets: a connector's audit records as Parquet day files and as rows of the DuckDB
table `audit_records`, materialized by one op so that loading overlaps collecting."""


import dagster as dg

from jira_etl.assets.extract import extract, jira_resource_key, parquet_asset_key, parquet_check_specs, parquet_spec
from jira_etl.assets.load import day_files, duckdb_asset_key, duckdb_check_specs, duckdb_spec, loaded
from jira_etl.partitions import daily_partitions
from jira_etl.storage.loader import DayLoader


def build_audit_records_assets(connector: str) -> dg.AssetsDefinition:
    parquet_key, duckdb_key = parquet_asset_key(connector), duckdb_asset_key(connector)

    @dg.multi_asset(
        name=f"{connector}__audit_records",
        specs=[parquet_spec(connector), duckdb_spec(connector)],
        check_specs=parquet_check_specs(connector) + duckdb_check_specs(connector),
        # Either half alone too: Parquet only, or DuckDB reloaded from the files.
        can_subset=True,
        partitions_def=daily_partitions,
        # One run for a whole range, so a UI backfill of a year is one run, not 365.
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={jira_resource_key(connector), "storage"},
    )
    def _audit_records(context: dg.AssetExecutionContext):
        selected = context.selected_asset_keys
        if parquet_key not in selected:
            yield loaded(context, connector,
                         context.resources.storage.warehouse().load_partitions(connector, day_files(context, connector)))
            return
        # Both: each day is loaded while the next ones are fetched (the collector mostly
        # waits on the API then), not all of them after the last.
        loader = DayLoader(context.resources.storage.warehouse(), connector) if duckdb_key in selected else None
        try:
            result = extract(context, connector, on_published=loader.add if loader else None)
        except BaseException:
            if loader is not None:
                loader.abandon()
            raise
        yield result
        if loader is not None:
            yield loaded(context, connector, loader.finish())

    return _audit_records
