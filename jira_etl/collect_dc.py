"""One Jira Data Center connector-day from the auditing API to its Parquet file.

Each UTC day is one cursor chain over [00:00:00.000, 23:59:59.999] (both inclusive, as the
API's from/to are), walked to `lastPage`, keyed (normalize_dc.py), and published
atomically, so a partial day is never visible. The running day is fetched whole again on
each refresh: keys are stable, so the file is simply replaced. collect.py hands Data
Center clients (`deployment == "datacenter"`) to `collect_days` here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from jira_etl import collect, normalize, normalize_dc, transform
from jira_etl.sources.stats import WalkStats
from jira_etl.storage import lake

UTC = dt.timezone.utc


def fetch_window(client, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Every entity of [start, end] in served order (newest first)."""
    return list(client.iter_events(start, end))


def day_table(client, connector: str, day: dt.date, ingested: dt.datetime) -> tuple[pa.Table, int]:
    """The day's rows (newest first) and how many entities were served for it."""
    start, end = collect.day_bounds(day)
    entities = fetch_window(client, start, end)
    table = normalize_dc.to_table(entities, connector, ingested)
    if table.num_rows > 1:
        # Newest first, served order kept within a millisecond (a stable sort).
        table = table.take(pc.sort_indices(table, sort_keys=[("created", "descending")]))
    return transform.apply(table), len(entities)


def collect_days(client, connector: str, days: list[dt.date], data_dir: Path, **_tuning) -> Iterator[collect.DayResult]:
    """Complete days, one cursor chain each, yielded as each file is published."""
    ingested = dt.datetime.now(UTC)
    for day in days:
        before = client.stats.requests
        table, served = day_table(client, connector, day, ingested)
        path = lake.write_partition(table, data_dir, connector, day)
        start, end = collect.day_bounds(day)
        duplicates, outside = collect.check_counts(table, start, end)
        walk = WalkStats(requests=client.stats.requests - before, pages_nonempty=0, records_received=served)
        preview = normalize.to_dataframe(table.slice(0, 5))[collect.PREVIEW_COLUMNS]
        yield collect.DayResult(day=day, path=path, rows=table.num_rows, preview=preview, walk=walk,
                                duplicate_ids=duplicates, outside_window=outside,
                                unique_received=len(pc.unique(table.column("id"))), kept_from_previous=0, fetched_from=start)


collect.DEPLOYMENT_COLLECTORS["datacenter"] = collect_days
