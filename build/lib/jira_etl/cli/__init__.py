"""The `jira-etl` command line (console script `jira_etl.cli:run`)."""

from jira_etl.cli.backfill import run_backfill  # noqa: F401 - the backfill used by tests and harnesses
from jira_etl.cli.errors import CliError  # noqa: F401
from jira_etl.cli.main import main, run  # noqa: F401
