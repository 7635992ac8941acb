"""The one dg.Definitions: per-connector assets, jobs, schedules and resources."""

from __future__ import annotations

import os
import warnings

import dagster as dg

from jira_etl.defs.assets.audit_records import build_audit_records_assets
from jira_etl.defs.assets.connection import build_connection_check, build_connection_job
from jira_etl.defs.assets.extract import jira_resource_key
from jira_etl.connectors import configured_connectors
from jira_etl.defs.partitions import daily_partitions
from jira_etl.defs.resources import StorageResource, jira_resource
from jira_etl.defs.schedules import finalize_yesterday_schedule, refresh_today_schedule
from jira_etl.settings import load_env_file

load_env_file()
# BackfillPolicy is marked beta; it is the documented way to get single-run backfills.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def collection_assets(name: str) -> list[dg.AssetsDefinition]:
    """The connector's audit records only: Parquet and DuckDB (tests and harnesses)."""
    return [build_audit_records_assets(name, findings=False)]


def connector_assets(name: str) -> list[dg.AssetsDefinition]:
    """The connector's audit records and their findings, materialized by one op."""
    return [build_audit_records_assets(name, findings=True)]


def build_definitions() -> dg.Definitions:
    connectors = configured_connectors()
    assets, checks, jobs, schedules, resources = [], [], [], [], {}
    for c in connectors:
        assets.extend(connector_assets(c.name))
        job = dg.define_asset_job(f"collect_{c.name}", selection=dg.AssetSelection.groups(c.name),
                                  tags={"jira_etl/connector": c.name})
        jobs += [job, build_connection_job(c.name)]
        checks.append(build_connection_check(c.name))
        schedules += [refresh_today_schedule(job, c.name), finalize_yesterday_schedule(job, c.name)]
        resources[jira_resource_key(c.name)] = jira_resource(c)
    resources["storage"] = StorageResource(data_dir=os.environ.get("JIRA_ETL_DATA_DIR") or "data")
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=jobs, schedules=schedules, resources=resources)


defs = build_definitions()
__all__ = ["defs", "daily_partitions"]
