"""Per-connector schedules: refresh the running day often, finalize yesterday once,
settle the last three complete days once more (late records).

All ship stopped (turn them on under Automation in the UI). Their times follow
JIRA_ETL_REFRESH_MINUTES and JIRA_ETL_FINALIZE_GRACE_MINUTES.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from jira_etl.defs.assets.extract import SETTLE, TRIGGER_TAG
from jira_etl.settings import finalize_grace_minutes, refresh_minutes, start_date

UTC = dt.timezone.utc


def refresh_today_schedule(job, connector: str, every: int | None = None) -> dg.ScheduleDefinition:
    """Every N minutes: fetch what is new in today's partition and merge it, so a
    finding can appear minutes after the event without re-pulling the day. `every`: the
    connector's refresh_minutes from connectors.yaml (already checked), else the setting."""
    every = every or refresh_minutes()
    cron = f"*/{every} * * * *" if every < 60 else f"0 */{every // 60} * * *"

    @dg.schedule(name=f"{connector}_refresh_today", cron_schedule=cron, job=job, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"Refresh today's partition of {connector} every {every} min (incremental, merged by id).")
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.astimezone(UTC).date()
        return dg.RunRequest(partition_key=day.isoformat(), tags={"jira_etl/trigger": "refresh_today"})

    return _schedule


def finalize_yesterday_schedule(job, connector: str) -> dg.ScheduleDefinition:
    """Shortly after midnight UTC (a grace period for late writes), fetch yesterday whole."""
    grace = finalize_grace_minutes()

    @dg.schedule(name=f"{connector}_finalize_yesterday", cron_schedule=f"{grace % 60} {grace // 60} * * *",
                 job=job, execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"Collect yesterday's complete partition of {connector}, {grace} min after midnight UTC.")
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = (context.scheduled_execution_time.astimezone(UTC) - dt.timedelta(days=1)).date()
        return dg.RunRequest(run_key=f"{connector}-final-{day}", partition_key=day.isoformat(),
                             tags={"jira_etl/trigger": "finalize_yesterday"})

    return _schedule


SETTLE_DAYS = 3
SETTLE_HOUR, SETTLE_MINUTE = 3, 30


def settle_range(today: dt.date, days: int = SETTLE_DAYS) -> tuple[dt.date, dt.date] | None:
    """The last `days` complete days before `today` (none before the first partition)."""
    first, last = max(today - dt.timedelta(days=days), start_date()), today - dt.timedelta(days=1)
    return (first, last) if first <= last else None


def settle_recent_schedule(job, connector: str, days: int = SETTLE_DAYS) -> dg.ScheduleDefinition:
    """Once a day, the last `days` complete days again in one range run: Jira may index a
    record hours after its `created`, after the day was finalized. Each day is fetched
    whole and merged by id with what the lake holds; the records it did not hold are
    counted per partition as `late_records` (Parquet asset metadata)."""

    @dg.schedule(name=f"{connector}_settle_recent", cron_schedule=f"{SETTLE_MINUTE} {SETTLE_HOUR} * * *", job=job,
                 execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"Re-collect the last {days} complete days of {connector} at "
                             f"{SETTLE_HOUR:02d}:{SETTLE_MINUTE:02d} UTC, counting late records.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        today = context.scheduled_execution_time.astimezone(UTC).date()
        span = settle_range(today, days)
        if span is None:
            return dg.SkipReason("no complete day since the first partition yet")
        first, last = span
        # A range run of the single-run assets: one run for the days, as a UI range backfill.
        return dg.RunRequest(run_key=f"{connector}-settle-{today}", tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(), TRIGGER_TAG: SETTLE})

    return _schedule
