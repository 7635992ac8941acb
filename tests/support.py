"""Plain helpers shared by tests (import as `from support import ...`; conftest files
are not importable reliably once several exist)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess

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


def free_port() -> int:
    """A port free on loopback now, for a server started in another process (which
    must bind it itself; a caller retries if another process took it meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    """Stop a server started with start_new_session=True and its children: SIGTERM to
    the process group, SIGKILL if it has not exited after `grace` seconds."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
