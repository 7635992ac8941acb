"""Assets: a connector's audit records as Parquet day files and as rows of the DuckDB
table `audit_records`, and the findings of the detections over them, materialized by
one op so that loading and evaluating overlap collecting."""


import dagster as dg

from jira_etl.defs.assets.extract import extract, jira_resource_key, parquet_asset_key, parquet_check_specs, parquet_spec
from jira_etl.defs.assets.findings import (
    FindingsAsLoaded,
    FindingsRun,
    findings_asset_key,
    findings_check_specs,
    findings_spec,
)
from jira_etl.defs.assets.load import day_files, duckdb_asset_key, duckdb_check_specs, duckdb_spec, loaded
from jira_etl.collect import days_in_window
from jira_etl.defs.partitions import daily_partitions
from jira_etl.storage.loader import DayLoader


def build_audit_records_assets(connector: str, findings: bool = True) -> dg.AssetsDefinition:
    """The op behind `<c>/audit_records_parquet`, `<c>/audit_records_duckdb` and (unless
    `findings` is false: collection only, for tests and harnesses) `<c>/findings`."""
    parquet_key, duckdb_key, findings_key = (parquet_asset_key(connector), duckdb_asset_key(connector),
                                             findings_asset_key(connector))
    specs = [parquet_spec(connector), duckdb_spec(connector)] + ([findings_spec(connector)] if findings else [])
    checks = (parquet_check_specs(connector) + duckdb_check_specs(connector)
              + (findings_check_specs(connector) if findings else []))

    @dg.multi_asset(
        name=f"{connector}__audit_records",
        specs=specs,
        check_specs=checks,
        # Any part alone too: Parquet only, DuckDB reloaded from the files, findings
        # re-evaluated over what is loaded.
        can_subset=True,
        partitions_def=daily_partitions,
        # One run for a whole range, so a UI backfill of a year is one run, not 365.
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={jira_resource_key(connector), "storage"},
    )
    def _audit_records(context: dg.AssetExecutionContext):
        selected = context.selected_asset_keys
        run = FindingsRun(context, connector) if findings_key in selected else None
        window = context.partition_time_window
        days = days_in_window(window.start, window.end)
        if parquet_key not in selected:
            if duckdb_key in selected:
                storage = context.resources.storage
                yield loaded(context, connector, storage.warehouse().load_partitions(connector, day_files(context, connector)))
            if run is not None:
                run.evaluate(days)
                yield run.result(context)
            return
        # Each day is loaded while the next ones are fetched (the collector mostly waits
        # on the API then), not all of them after the last, and its findings evaluated
        # as soon as the run's days up to it are loaded.
        progressive = FindingsAsLoaded(run, days) if run is not None and duckdb_key in selected else None
        loader = (DayLoader(context.resources.storage.warehouse(), connector,
                            on_loaded=progressive.on_loaded if progressive else None)
                  if duckdb_key in selected else None)
        deferred: list = []  # the warehouse's record of the walk (extract's `deferred`)
        try:
            result = extract(context, connector, on_published=loader.add if loader else None, deferred=deferred)
        except BaseException:
            if loader is not None:
                loader.abandon()
            raise
        # The results' events are written while the last days' findings are evaluated
        # on the loader's thread (DuckDB, without the GIL): the Parquet result first,
        # then the DuckDB result once the days are loaded, then what waits for the
        # findings (the warehouse write of the walk's record, the findings result).
        try:
            yield result
            if loader is not None:
                yield loaded(context, connector, loader.wait_loaded())
        finally:
            for write in deferred:
                write()
        if loader is not None:
            loader.finish()
        if progressive is not None:
            try:
                progressive.finish()
            except BaseException:
                run.log_warnings(context)
                raise
        elif run is not None:
            run.evaluate(days)  # findings without the load: over what DuckDB holds
        if run is not None:
            yield run.result(context)

    return _audit_records
