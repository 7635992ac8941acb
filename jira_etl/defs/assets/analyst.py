"""What an analyst looks at in the UI, per connector, beside the collection assets:

- `<c>/report` (daily): the HTML report of the 30 days ending each day, written to
  $JIRA_ETL_DATA_DIR/reports/<c>/<day>.html, its path and a summary in the metadata;
- `<c>/open_findings` (unpartitioned): every high or critical finding still open or
  acknowledged, whichever run found it; its check fails while any is still untriaged;
- `<c>/collection_health` (unpartitioned): Active / Failing / Incomplete / Stale / Never collected
  with last partition, lag, last error and gaps, the UI's `jira-etl status`; its check
  fails when the connector is not Active (WARN when Stale, ERROR when Failing or past
  the freshness policy's fail window).

Thin assets over plain functions (jira_etl.report, jira_etl.status, jira_etl.storage.triage).
"""


import datetime as dt

import dagster as dg

from jira_etl.defs.assets.extract import FRESHNESS_FAIL
from jira_etl.defs.assets.findings import findings_asset_key
from jira_etl.defs.assets.load import duckdb_asset_key
from jira_etl.defs.assets.metadata import markdown
from jira_etl.collect import days_in_window
from jira_etl.defs.partitions import daily_partitions
from jira_etl.settings import refresh_minutes
from jira_etl.status import connector_status, format_lag
from jira_etl.storage.triage import open_findings

UTC = dt.timezone.utc
REPORT_DAYS = 30
OPEN_CHECK = "no_untriaged_high_or_critical"
HEALTH_CHECK = "collection_active"


def report_key(c: str) -> dg.AssetKey:
    return dg.AssetKey([c, "report"])


def open_findings_key(c: str) -> dg.AssetKey:
    return dg.AssetKey([c, "open_findings"])


def health_key(c: str) -> dg.AssetKey:
    return dg.AssetKey([c, "collection_health"])


def write_day_reports(warehouse, connector: str, days: list[dt.date], now: dt.datetime | None = None):
    """The report of the REPORT_DAYS days ending each of `days`; returns the last one."""
    # The report (pandas, jinja2) is imported when one is built, not when the definitions load.
    from jira_etl.report.render import build_report, default_path, write_report

    last = None
    for day in days:
        report = build_report(warehouse, [connector], day - dt.timedelta(days=REPORT_DAYS - 1), day, now)
        path = write_report(report, default_path(warehouse.data_dir, connector, day))
        last = (path, report)
    return last


def build_report_asset(c: str) -> dg.AssetsDefinition:
    @dg.asset(key=report_key(c), deps=[findings_asset_key(c)], group_name=c, kinds={"html"},
              partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
              required_resource_keys={"storage"},
              description=f"HTML report of connector `{c}`: collection status, charts and findings of the "
                          f"{REPORT_DAYS} days ending each day (reports/{c}/<day>.html, self-contained).")
    def _report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        window = context.partition_time_window
        days = days_in_window(window.start, window.end)
        path, report = write_day_reports(context.resources.storage.warehouse(), c, days)
        context.log.info(f"{c}: {len(days)} report(s), the last {path}")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)),
            "summary": dg.MetadataValue.md(report.summary()),
            "reports_written": len(days),
            "size_kib": round(path.stat().st_size / 1024),
        })

    return _report


def open_findings_table(rows: list[dict]) -> dg.TableMetadataValue:
    cols = ["severity", "status", "detection_id", "actor", "count", "first_seen", "last_seen", "message", "finding_id"]
    records = [dg.TableRecord({k: ("" if r[k] is None else str(r[k]) if k != "count" else int(r[k] or 0))
                               for k in cols}) for r in rows]
    schema = dg.TableSchema(columns=[dg.TableColumn(k, "int" if k == "count" else "string") for k in cols])
    return dg.MetadataValue.table(records=records, schema=schema)


def build_open_findings_asset(c: str) -> dg.AssetsDefinition:
    @dg.asset(key=open_findings_key(c), deps=[findings_asset_key(c)], group_name=c, kinds={"duckdb"},
              required_resource_keys={"storage"},
              check_specs=[dg.AssetCheckSpec(OPEN_CHECK, asset=open_findings_key(c),
                                             description="Fails while any high or critical finding of the connector "
                                                         "is open (not acknowledged, resolved or a false positive), "
                                                         "whatever day it was found on.")],
              description=f"Every high or critical finding of `{c}` that still needs attention (open or "
                          "acknowledged, not suppressed), from all days, not only the last run's. Triage with "
                          "`jira-etl findings ack|resolve|reopen ID`.")
    def _open(context: dg.AssetExecutionContext):
        with context.resources.storage.warehouse().reader() as con:
            rows = open_findings(con, c)
        untriaged = [r for r in rows if r["status"] == "open"]
        critical = sum(1 for r in untriaged if r["severity"] == "critical")
        yield dg.MaterializeResult(metadata={
            "dagster/row_count": len(rows),
            "open_findings": open_findings_table(rows),
            "untriaged": len(untriaged),
            "acknowledged": len(rows) - len(untriaged),
        })
        import pandas as pd

        yield dg.AssetCheckResult(
            check_name=OPEN_CHECK, passed=not untriaged,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            description=(f"{len(untriaged)} untriaged high/critical finding(s)" if untriaged
                         else "no untriaged high or critical finding"),
            metadata={"untriaged_critical": critical, "untriaged_high": len(untriaged) - critical,
                      "untriaged": markdown(pd.DataFrame(untriaged, columns=[
                          "severity", "detection_id", "actor", "first_seen", "message", "finding_id"]), 20)})

    return _open


def health_result(con, c: str, now: dt.datetime, days: int = REPORT_DAYS) -> tuple[dict, dg.AssetCheckResult]:
    import pandas as pd

    from jira_etl.report.data import day_states

    status = connector_status(con, c, now)
    today = now.astimezone(UTC).date()
    # Gaps: days of the last `days` complete days never collected or failed (the running
    # day is not a gap yet).
    first = con.execute("SELECT min(day) FROM collected_partitions WHERE connector = ?", [c]).fetchone()[0]
    start = max(today - dt.timedelta(days=days), first) if first else today - dt.timedelta(days=days)
    gaps = [d for d in day_states(con, c, start, today - dt.timedelta(days=1)) if d.state in ("failed", "never")]
    metadata = {
        "state": status.state,
        "last_partition": str(status.last_partition or "-"),
        "lag": format_lag(status.lag),
        "lag_hours": round(status.lag.total_seconds() / 3600, 1) if status.lag is not None else -1.0,
        "last_error": status.last_error or "-",
        "records_1d": status.records_1d,
        "records_7d": status.records_7d,
        "gap_days": len(gaps),
        "gaps": markdown(pd.DataFrame([{"day": str(g.day), "state": g.state, "error": g.error} for g in gaps]), 31),
    }
    bad = status.state in ("Failing", "Incomplete", "Never collected") or (status.lag is not None and status.lag > FRESHNESS_FAIL)
    check = dg.AssetCheckResult(
        check_name=HEALTH_CHECK, asset_key=health_key(c), passed=status.state == "Active",
        severity=dg.AssetCheckSeverity.ERROR if bad else dg.AssetCheckSeverity.WARN,
        description=f"{status.state}: last partition {metadata['last_partition']}, lag {metadata['lag']}"
                    + (f", {status.last_error}" if status.last_error else ""),
        metadata={k: metadata[k] for k in ("state", "lag", "last_error", "gap_days")})
    return metadata, check


def build_health_asset(c: str) -> dg.AssetsDefinition:
    @dg.asset(key=health_key(c), deps=[duckdb_asset_key(c)], group_name=c, kinds={"duckdb"},
              required_resource_keys={"storage"},
              check_specs=[dg.AssetCheckSpec(HEALTH_CHECK, asset=health_key(c),
                                             description="Passes while the connector is Active; WARN when Stale "
                                                         "(newest data older than JIRA_ETL_STALE_HOURS, the "
                                                         "freshness policy's warn window), ERROR when Failing, never "
                                                         "collected or past the fail window.")],
              description=f"Collection status of `{c}` as `jira-etl status` shows it: state, last partition, "
                          "lag, last error and the gap days of the last 30, refreshed after each collection "
                          f"and by the schedule `{c}_collection_health`.")
    def _health(context: dg.AssetExecutionContext):
        with context.resources.storage.warehouse().reader() as con:
            metadata, check = health_result(con, c, dt.datetime.now(UTC))
        context.log.info(check.description)
        yield dg.MaterializeResult(metadata=metadata)
        yield check

    return _health


def analyst_assets(c: str) -> list[dg.AssetsDefinition]:
    return [build_report_asset(c), build_open_findings_asset(c), build_health_asset(c)]


def health_job(c: str):
    return dg.define_asset_job(f"collection_health_{c}", selection=[health_key(c), open_findings_key(c)],
                               tags={"jira_etl/connector": c})


def health_schedule(job, c: str) -> dg.ScheduleDefinition:
    """The health and the open findings every refresh interval, on their own, so a
    connector whose collection fails (its downstream steps skipped) still turns red."""
    every = refresh_minutes()
    cron = f"*/{every} * * * *" if every < 60 else f"0 */{every // 60} * * *"
    return dg.ScheduleDefinition(name=f"{c}_collection_health", cron_schedule=cron, job=job,
                                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                                 description=f"Collection health and open findings of {c} every {every} min.")

