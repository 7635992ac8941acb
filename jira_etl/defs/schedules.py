"""Per-connector schedules: refresh the running day often, finalize yesterday once.

Both ship stopped (turn them on under Automation in the UI). Their times follow
JIRA_ETL_REFRESH_MINUTES and JIRA_ETL_FINALIZE_GRACE_MINUTES.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from jira_etl.settings import finalize_grace_minutes, refresh_minutes

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
