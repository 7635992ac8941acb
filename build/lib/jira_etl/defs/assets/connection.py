"""Test Connection in the UI: a job per connector and a check on its extraction asset.

Both give the same answer as `jira-etl test-connection`: "Connection successful" with a
time stamp, or the precise failure and its remedy.
"""

import dagster as dg

from jira_etl.defs.assets.extract import jira_resource_key, parquet_asset_key
from jira_etl.connection import ConnectionResult, check_with


def _run_check(context, connector: str) -> ConnectionResult:
    jira = getattr(context.resources, jira_resource_key(connector))
    return check_with(connector, lambda: jira.get_client(quick=True))


def build_connection_check(connector: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=parquet_asset_key(connector),
        name="connection",
        required_resource_keys={jira_resource_key(connector)},
        description="Reachability, credentials, the Administer Jira permission and audit-log availability.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        result = _run_check(context, connector)
        return dg.AssetCheckResult(
            passed=result.ok,
            description=result.line(),
            metadata={"message": result.message, "remedy": result.remedy or "-"},
        )

    return _check


def build_connection_job(connector: str) -> dg.JobDefinition:
    @dg.op(name=f"check_connection_{connector}", required_resource_keys={jira_resource_key(connector)})
    def _test(context: dg.OpExecutionContext) -> None:
        result = _run_check(context, connector)
        if not result.ok:
            raise dg.Failure(description=result.line(), metadata={"remedy": result.remedy or "-"},
                             allow_retries=False)
        context.log.info(result.line())

    @dg.job(name=f"test_connection_{connector}", description=f"Test Connection for Jira connector {connector}.")
    def _job():
        _test()

    return _job
