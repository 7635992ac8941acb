"""Cancellation in seconds: a failed slice, or the consumer stopping (what a Terminate
from the UI does to the step), ends every walking thread within moments, including a
thread sleeping out a long retry back-off. Real HTTP against the simulator."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time

import pytest
from support import day_window, fast_retry

from jira_etl.sources.client import AuthenticationError, Cancelled, JiraClient
from jira_etl.sources.slicing import fetch_window, iter_windows
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 2)
BACKOFF = 20.0  # what the 503 asks for: a thread that sleeps it out makes the test fail


def _sim(**faults) -> JiraSimulator:
    data = SiteData(seed=5, daily_volume=400, start=DAY - dt.timedelta(days=1))
    return JiraSimulator(data, faults=Faults(**faults))


def _client(sim) -> JiraClient:
    # Retry-After honoured up to BACKOFF: one thread really waits that long on main.
    return JiraClient(sim.url, email=sim.email, api_token=sim.token,
                      retry=fast_retry(max_retry_after=BACKOFF + 5))


def test_a_failed_slice_stops_a_thread_sleeping_in_a_back_off():
    # Request 2 is a 503 asking to come back in 20 s; from request 4 on the token is
    # revoked, so the other thread's next page is a 401 while the first one sleeps.
    with _sim(error_5xx_every=2, max_faults=1, error_retry_after=int(BACKOFF), revoke_after=3) as sim:
        client = _client(sim)
        start, end = day_window(DAY)
        t0 = time.monotonic()
        with pytest.raises(AuthenticationError):
            fetch_window(client, start, end, limit=10, slices=2, concurrency=2)
        took = time.monotonic() - t0
        assert sim.fault_counts.get("5xx", 0) == 1, sim.fault_counts
    assert took < 5, f"the failure took {took:.1f} s to come out: a thread slept through its back-off"


class Terminated(Exception):
    pass


def test_a_terminate_stops_threads_in_a_back_off():
    # Every audit request answers 503 with a 20 s Retry-After: both threads sleep. A
    # Terminate from the UI is a signal whose handler raises in the step's main thread,
    # inside the walk: the walk must end without waiting for the sleepers.
    with _sim(error_5xx_every=1, error_retry_after=int(BACKOFF)) as sim:
        client = _client(sim)
        sent: list[float] = []

        def terminate():
            deadline = time.monotonic() + 10
            while sim.fault_counts.get("5xx", 0) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            sent.append(time.monotonic())
            os.kill(os.getpid(), signal.SIGUSR1)

        def handler(signum, frame):
            raise Terminated

        previous = signal.signal(signal.SIGUSR1, handler)
        try:
            threading.Thread(target=terminate, daemon=True).start()
            with pytest.raises(Terminated):
                list(iter_windows(client, [day_window(DAY)], limit=10, slices=2, concurrency=2))
            took = time.monotonic() - sent[0]
        finally:
            signal.signal(signal.SIGUSR1, previous)
        assert sim.fault_counts.get("5xx", 0) >= 2  # both threads were in a back-off
    assert took < 3, f"the walk took {took:.1f} s to stop"


def test_a_stop_event_cancels_a_single_request_in_its_back_off():
    with _sim(error_5xx_every=1, error_retry_after=int(BACKOFF)) as sim:
        client = _client(sim)
        stop = threading.Event()
        start, end = day_window(DAY)
        threading.Timer(0.5, stop.set).start()
        t0 = time.monotonic()
        with pytest.raises(Cancelled):
            client.audit_page(start, end, stop=stop)
        assert time.monotonic() - t0 < 3
