"""The monthly compaction of a connector's lake files, as an asset, its job and schedule.

Thousands of small day files make every scan slow; a closed month is rewritten into one
file (see `storage/compaction.py` for why readers see each record exactly once while it
runs). Its job carries the connector tag, so the run queue never runs it beside a
collection of the same connector."""

import datetime as dt

import dagster as dg

from jira_etl.defs.assets.extract import parquet_asset_key
from jira_etl.defs.assets.metadata import markdown
from jira_etl.storage import compaction, lake


def compaction_asset_key(connector: str) -> dg.AssetKey:
    return dg.AssetKey([connector, "lake_compaction"])


def build_compaction_asset(connector: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=compaction_asset_key(connector),
        deps=[parquet_asset_key(connector)],
        # Not the connector's group: its collect job selects that group, and this
        # asset is not daily-partitioned.
        group_name="lake_maintenance",
        kinds={"python", "parquet"},
        required_resource_keys={"storage"},
        description=(f"Closed months of `{connector}` rewritten into one Parquet file each "
                     "(connector=.../month=YYYY-MM/), replacing their day files; readers see "
                     "every record exactly once before, during and after."),
    )
    def _compact(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        data_dir = context.resources.storage.path
        done = compaction.compact_closed_months(data_dir, connector, dt.datetime.now(dt.timezone.utc).date())
        for c in done:
            context.log.info(f"{connector} {c.month:%Y-%m}: {c.rows} records of {c.days} day(s) in one file, "
                             f"{c.day_files_removed} day file(s) removed")
        import pandas as pd

        table = pd.DataFrame([{"month": f"{c.month:%Y-%m}", "days": c.days, "records": c.rows,
                               "day_files_removed": c.day_files_removed} for c in done])
        return dg.MaterializeResult(metadata={
            "months_compacted": len(done),
            "records": sum(c.rows for c in done),
            "lake": dg.MetadataValue.path(f"{lake.dataset_location(data_dir)}/connector={connector}"),
            "months": markdown(table, max_rows=24),
        })

    return _compact


def compaction_job(connector: str):
    return dg.define_asset_job(f"compact_{connector}", selection=[compaction_asset_key(connector)],
                               tags={"jira_etl/connector": connector})


def compaction_schedule(job, connector: str) -> dg.ScheduleDefinition:
    # The 2nd at 03:00 UTC: the last day of the month was finalized after midnight of the 1st.
    return dg.ScheduleDefinition(name=f"{connector}_compact_months", job=job, cron_schedule="0 3 2 * *",
                                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                                 description=f"Compact the closed months of {connector}'s lake files.")
