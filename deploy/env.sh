# Sourced by the deploy scripts: the environment every Dagster process of the cluster shares.
: "${DAGSTER_PG_URL:?set DAGSTER_PG_URL=postgresql://user:password@host:port/db}"
: "${DAGSTER_CELERY_BROKER_URL:?set DAGSTER_CELERY_BROKER_URL=redis://host:6379/0}"
: "${DAGSTER_CELERY_BACKEND_URL:?set DAGSTER_CELERY_BACKEND_URL=redis://host:6379/1}"
: "${DAGSTER_HOME:?set DAGSTER_HOME to a folder holding deploy/dagster.yaml as dagster.yaml}"
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$DEPLOY_DIR")"
VENV="${JIRA_ETL_VENV:-$REPO_DIR/.venv}"
export PATH="$VENV/bin:$PATH"          # dagster-celery and celery start sub-commands by name
export JIRA_ETL_SPLIT_LOAD="${JIRA_ETL_SPLIT_LOAD:-1}"   # load steps take the warehouse_writer pool
cd "$REPO_DIR"
