"""Plain helpers shared by tests (import as `from support import ...`; conftest files
are not importable reliably once several exist)."""

from __future__ import annotations

import datetime as dt

from jira_etl.sources.client import RetryPolicy

UTC = dt.timezone.utc


def fast_retry(**over) -> RetryPolicy:
    """Real retries with tiny waits, so fault tests run in seconds."""
    kw = dict(max_retries=6, base_delay=0.01, max_delay=0.05, max_retry_after=0.05, timeout=5.0, connect_timeout=2.0)
    kw.update(over)
    return RetryPolicy(**kw)


def day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), UTC)
    return start, start + dt.timedelta(days=1) - dt.timedelta(milliseconds=1)
