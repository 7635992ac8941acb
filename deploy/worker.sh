#!/usr/bin/env bash
# One Celery run worker for this repository's code: deploy/worker.sh NAME
# (JIRA_ETL_WORKER_QUEUES=warehouse on the warehouse node: runs tagged dagster-celery/queue=warehouse)
# It runs whole Dagster runs handed over by the daemon, one at a time (--pool=solo: the
# run's own executor may then start processes, which a prefork child may not).
set -euo pipefail
NAME="${1:?usage: deploy/worker.sh NAME}"
source "$(dirname "$0")/env.sh"
exec celery -A jira_etl.cluster.celery_app worker --pool=solo --concurrency=1 --prefetch-multiplier=1 \
    -Q "${JIRA_ETL_WORKER_QUEUES:-dagster}" -n "$NAME@%h" --loglevel="${CELERY_LOGLEVEL:-INFO}" --without-gossip --without-mingle
