"""The one dg.Definitions: per-connector assets, jobs, schedules and resources."""

from __future__ import annotations

import logging
import os
import warnings

import dagster as dg

from jira_etl.defs.assets.analyst import analyst_assets, health_job, health_schedule
from jira_etl.defs.assets.audit_records import build_audit_records_assets
from jira_etl.defs.assets.compaction import build_compaction_asset, compaction_job, compaction_schedule
from jira_etl.defs.assets.connection import build_connection_asset, build_connection_job
from jira_etl.defs.assets.extract import connection_asset_key, jira_resource_key, parquet_asset_key
from jira_etl.defs.assets.findings import findings_asset_key
from jira_etl.defs.assets.load import duckdb_asset_key
from jira_etl.defs.assets.split import build_split_assets
from jira_etl.defs.assets.ocsf import build_ocsf_asset
from jira_etl.connectors import configured_connectors, simulator_notice
from jira_etl.defs.partitions import daily_partitions
from jira_etl.defs.resources import StorageResource, jira_resource
from jira_etl.defs.schedules import finalize_yesterday_schedule, refresh_today_schedule, settle_recent_schedule
from jira_etl.defs.sensors import deliver_findings
from jira_etl.settings import load_env_file

load_env_file()
# BackfillPolicy is marked beta; it is the documented way to get single-run backfills.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def collection_assets(name: str) -> list[dg.AssetsDefinition]:
    """The connector's audit records only: Parquet and DuckDB (tests and harnesses)."""
    return [build_audit_records_assets(name, findings=False)]


def connector_assets(name: str) -> list[dg.AssetsDefinition]:
    """The connector's audit records and their findings, materialized by one op (or,
    with JIRA_ETL_SPLIT_LOAD=1 for a cluster, collection and load as two ops)."""
    if os.environ.get("JIRA_ETL_SPLIT_LOAD") == "1":
        return build_split_assets(name)
    return [build_audit_records_assets(name, findings=True)]


def collection_keys(name: str) -> list[dg.AssetKey]:
    """What a CLI backfill of the connector materializes in its job `collect_<c>`: the
    preflight, the audit records (Parquet and DuckDB) and their findings."""
    return [connection_asset_key(name), parquet_asset_key(name), duckdb_asset_key(name), findings_asset_key(name)]


def build_definitions() -> dg.Definitions:
    connectors = configured_connectors()
    notice = simulator_notice(connectors)
    if notice and not os.environ.get("JIRA_ETL_QUIET_SIMULATOR"):
        logging.getLogger("jira_etl").warning(notice)
    assets, jobs, schedules, resources = [], [], [], {}
    for c in connectors:
        # <c>/jira_connection: the preflight step of every collection run.
        assets.extend([build_connection_asset(c.name)] + connector_assets(c.name) + analyst_assets(c.name))
        assets.append(build_ocsf_asset(c.name))  # <c>/ocsf_events: the Security Lake export
        job = dg.define_asset_job(f"collect_{c.name}", selection=dg.AssetSelection.groups(c.name),
                                  tags={"jira_etl/connector": c.name})
        health = health_job(c.name)  # also alone, so a failed collection still shows
        jobs += [job, health, build_connection_job(c.name)]
        schedules += [refresh_today_schedule(job, c.name, c.refresh_minutes), finalize_yesterday_schedule(job, c.name),
                      settle_recent_schedule(job, c.name),
                      health_schedule(health, c.name)]
        assets.append(build_compaction_asset(c.name))
        jobs.append(compaction_job(c.name))
        schedules.append(compaction_schedule(jobs[-1], c.name))
        resources[jira_resource_key(c.name)] = jira_resource(c)
    resources["storage"] = StorageResource(data_dir=os.environ.get("JIRA_ETL_DATA_DIR") or "data")
    return dg.Definitions(assets=assets, jobs=jobs, schedules=schedules, resources=resources,
                          sensors=[deliver_findings])


defs = build_definitions()
__all__ = ["defs", "daily_partitions"]
