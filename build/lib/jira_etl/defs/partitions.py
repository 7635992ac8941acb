"""The single partitions object every asset shares: one UTC day of audit records."""

import dagster as dg

from jira_etl.settings import load_env_file, start_date

load_env_file()

# end_offset=1 adds the day in progress: it fills up during the day and is refreshed
# by schedule, while complete days are final once collected after midnight.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=start_date().isoformat(), timezone="UTC", end_offset=1
)
