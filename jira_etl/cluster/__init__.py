"""Pieces of the cluster deployment (deploy/): the instance's Postgres storage, the
Celery run launcher with worker liveness, the Celery app the run workers serve.
Imported only by a Dagster instance configured with deploy/dagster.yaml (the
`cluster` extra installs what they need)."""
