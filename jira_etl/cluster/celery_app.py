"""The Celery app of the run workers (`deploy/worker.sh`): dagster-celery's tasks on the
broker and backend of DAGSTER_CELERY_BROKER_URL / DAGSTER_CELERY_BACKEND_URL (the same
variables deploy/dagster.yaml gives the launcher), plus the liveness heartbeat."""

from __future__ import annotations

import os

from celery import signals
from dagster_celery.config import DEFAULT_CONFIG
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from jira_etl.cluster import liveness

BROKER = os.environ["DAGSTER_CELERY_BROKER_URL"]
app = make_app({"broker": BROKER, "backend": os.environ["DAGSTER_CELERY_BACKEND_URL"], "include": [],
                "config_source": dict(DEFAULT_CONFIG)})
execute_plan = create_task(app)
execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **_):
    liveness.start(BROKER, sender.hostname)
