"""`<c>/ocsf_events`: a connector's audit records and findings of each day as OCSF 1.3.0
in the Amazon Security Lake custom-source layout under $JIRA_ETL_DATA_DIR/security_lake
(jira_etl/export). Thin: the asset reads its partition window and calls the export."""

import dagster as dg

from jira_etl.defs.assets.findings import findings_asset_key
from jira_etl.defs.assets.load import duckdb_asset_key
from jira_etl.collect import days_in_window
from jira_etl.export import security_lake
from jira_etl.export.source import export_ocsf_days
from jira_etl.defs.partitions import daily_partitions


def ocsf_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "ocsf_events"])


def build_ocsf_asset(connector: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=ocsf_asset_key(connector),
        deps=[duckdb_asset_key(connector), findings_asset_key(connector)],
        group_name=connector,
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"parquet", "ocsf"},
        required_resource_keys={"storage"},
        description=(f"OCSF 1.3.0 events of connector `{connector}` per UTC day (records by IAM class, findings "
                     "as Detection Finding 2004), as Parquet in the Security Lake custom-source layout: "
                     "security_lake/ext/<source>/region=<region>/accountId=external/eventDay=<YYYYMMDD>/. "
                     "A re-run replaces the day's files."),
    )
    def _ocsf(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        storage = context.resources.storage
        window = context.partition_time_window
        days = days_in_window(window.start, window.end)
        written = export_ocsf_days(storage.warehouse(), storage.path, connector, days)
        per_source: dict[str, int] = {}
        for counts in written.values():
            for source, n in counts.items():
                per_source[source] = per_source.get(source, 0) + n
        return dg.MaterializeResult(metadata={
            "dagster/row_count": sum(per_source.values()),
            "days": len(days),
            "region": security_lake.region(),
            "path": dg.MetadataValue.path(str(security_lake.lake_root(storage.path) / "ext")),
            **{f"source/{s}": dg.MetadataValue.int(n) for s, n in sorted(per_source.items())},
        })

    return _ocsf
