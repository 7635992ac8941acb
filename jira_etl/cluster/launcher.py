"""dagster-celery's run launcher, with a health check that notices a dead worker.

Celery leaves a task whose worker was killed in state STARTED, which dagster-celery
reports as running, so run monitoring would wait for ever. Here a STARTED run whose
worker (the hostname Celery recorded when the task started) no longer refreshes its
liveness key is reported FAILED: run monitoring marks the run failed, its pool slots
are freed, and run retries launch it again on a live worker."""

from __future__ import annotations

from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster_celery.launcher import CeleryRunLauncher as _CeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

from jira_etl.cluster import liveness


class CeleryRunLauncher(_CeleryRunLauncher):
    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        health = super().check_run_worker_health(run)
        if health.status != WorkerStatus.RUNNING:
            return health
        info = self.celery.AsyncResult(run.tags[DAGSTER_CELERY_TASK_ID_TAG]).info
        host = info.get("hostname") if isinstance(info, dict) else None
        if host and liveness.alive(self.broker, host) is False:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker {host} stopped (no heartbeat)")
        return health
