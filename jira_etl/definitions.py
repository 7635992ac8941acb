"""The one dg.Definitions: per-connector assets, jobs, schedules and resources."""

from __future__ import annotations

import datetime as dt
import os
import warnings

import dagster as dg

from jira_etl.assets.extract import build_extract_asset, jira_resource_key
from jira_etl.assets.findings import build_findings_asset
from jira_etl.assets.load import build_load_asset
from jira_etl.connectors import configured_connectors
from jira_etl.partitions import daily_partitions
from jira_etl.resources import StorageResource
from jira_etl.settings import load_env_file

load_env_file()
# BackfillPolicy is marked beta; it is the documented way to get single-run backfills.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def connector_assets(name: str) -> list[dg.AssetsDefinition]:
    return [build_extract_asset(name), build_load_asset(name), build_findings_asset(name)]


def yesterday_schedule(job: dg.UnresolvedAssetJobDefinition, name: str) -> dg.ScheduleDefinition:
    """Finalize yesterday shortly after midnight UTC (the day partition is then complete)."""

    @dg.schedule(name=f"{name}_daily_yesterday", cron_schedule="30 0 * * *", job=job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED)
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = (context.scheduled_execution_time.astimezone(dt.timezone.utc) - dt.timedelta(days=1)).date()
        return dg.RunRequest(run_key=f"{name}-{day}", partition_key=day.isoformat())

    return _schedule


def build_definitions() -> dg.Definitions:
    connectors = configured_connectors()
    assets, jobs, schedules, resources = [], [], [], {}
    for c in connectors:
        assets.extend(connector_assets(c.name))
        job = dg.define_asset_job(f"collect_{c.name}", selection=dg.AssetSelection.groups(c.name))
        jobs.append(job)
        schedules.append(yesterday_schedule(job, c.name))
        resources[jira_resource_key(c.name)] = c.resource()
    resources["storage"] = StorageResource(data_dir=os.environ.get("JIRA_ETL_DATA_DIR") or "data")
    return dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, resources=resources)


defs = build_definitions()
__all__ = ["defs", "daily_partitions"]
