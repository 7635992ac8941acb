"""Test Connection in the UI, and the same test as the first step of every collection run.

`test_connection_<c>` is a job of its own; `<c>/jira_connection` is the preflight of the
job `collect_<c>` (upstream of the Parquet asset): /myself and one audit-log page, its
check `connection` blocking, so a bad token or a missing permission fails the run in
seconds with the remedy, before any slice is walked. Both give the same answer as
`jira-etl test-connection`: "Connection successful" with a time stamp, or the precise
failure and its remedy.
"""

import dagster as dg

from jira_etl.collect import days_in_window
from jira_etl.connection import ConnectionResult, check_with
from jira_etl.defs.assets.extract import connection_asset_key, jira_resource_key, one_line
from jira_etl.defs.partitions import daily_partitions


def _run_check(context, connector: str) -> ConnectionResult:
    jira = getattr(context.resources, jira_resource_key(connector))
    return check_with(connector, lambda: jira.get_client(quick=True))


def _check_result(key: dg.AssetKey, result: ConnectionResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key=key, check_name="connection", passed=result.ok,
                               description=result.line(),
                               metadata={"message": result.message, "remedy": result.remedy or "-"})


def build_connection_asset(connector: str) -> dg.AssetsDefinition:
    """The preflight: same partitions and single-run policy as the collection, so a
    range run stays one run; two requests whatever the range."""
    key = connection_asset_key(connector)

    @dg.multi_asset(
        name=f"{connector}__connection",
        specs=[dg.AssetSpec(key, group_name=connector, kinds={"python"},
                            description=f"Jira connector `{connector}` reachable with its credentials, the "
                                        "Administer Jira permission and the audit log readable, as checked by "
                                        "the collection run that materialized it (its first step).")],
        check_specs=[dg.AssetCheckSpec("connection", asset=key, blocking=True,
                                       description="Reachability, credentials, the Administer Jira permission "
                                                   "and audit-log availability.")],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        required_resource_keys={jira_resource_key(connector), "storage"},
    )
    def _preflight(context: dg.AssetExecutionContext):
        result = _run_check(context, connector)
        if not result.ok:
            yield _check_result(key, result)
            # A failed collection for `jira-etl status` (Failing, with the error), as when
            # the collection step itself fails.
            window = context.partition_time_window
            days = days_in_window(window.start, window.end)
            try:
                context.resources.storage.warehouse().record_attempt(connector, False, days[0], days[-1],
                                                                     " ".join(result.message.split())[:300])
            except Exception as exc:  # never hide the real failure behind this one
                context.log.warning(f"could not record the failed attempt: {one_line(exc)}")
            raise dg.Failure(description=result.line(), metadata={"remedy": result.remedy or "-"},
                             allow_retries=False)
        context.log.info(result.line())
        yield dg.MaterializeResult(asset_key=key, metadata={"connection": result.message},
                                   check_results=[_check_result(key, result)])

    return _preflight


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
