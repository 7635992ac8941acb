"""collect_days: several complete days through one pool of threads, slices spilling
into their day's file as they go."""

import datetime as dt

import pyarrow.parquet as pq
import pytest

from support import day_window, fast_retry
from jira_etl import collect
from jira_etl.sources.client import JiraClient, RetriesExhaustedError
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator
from jira_etl.storage import lake

UTC = dt.timezone.utc
DAYS = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(3)]


def site() -> SiteData:
    data = SiteData.empty(seed=3)
    for n, day in enumerate(DAYS):
        t = dt.datetime.combine(day, dt.time(8, 0), UTC)
        data.add_records([{"created": t + dt.timedelta(milliseconds=97 * i)} for i in range(1500 + 700 * n)])
        data.add_records([{"created": t + dt.timedelta(hours=2)} for _ in range(250)])  # a bulk instant
        data.add_records([{"created": dt.datetime.combine(day, dt.time(), UTC)},
                          {"created": dt.datetime.combine(day, dt.time(23, 59, 59, 999000), UTC)}])
    return data


def test_days_share_threads_and_spill_yet_each_file_is_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "SPILL_ROWS", 40)  # spill every page or two
    data = site()
    with JiraSimulator(data, faults=Faults(limit_clamp=90, error_5xx_every=9, max_faults=4)) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        results = list(collect.collect_days(client, "c1", DAYS, tmp_path, slices=4, concurrency=5))
    assert sorted(r.day for r in results) == DAYS
    for r in results:
        ids = pq.read_table(lake.partition_file(tmp_path, "c1", r.day), columns=["id"]).column("id").to_pylist()
        assert len(ids) == len(set(ids)) == r.rows == r.unique_received
        assert set(ids) == data.truth_ids(*day_window(r.day)), f"{r.day} differs"
        assert r.duplicate_ids == r.outside_window == 0


def test_a_failing_day_publishes_nothing_new(tmp_path):
    data = site()
    with JiraSimulator(data, faults=Faults(error_5xx_every=1)) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry(max_retries=1))
        with pytest.raises(RetriesExhaustedError):
            list(collect.collect_days(client, "c1", DAYS, tmp_path, slices=4, concurrency=4))
    folder = lake.dataset_root(tmp_path) / "connector=c1"
    leftovers = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    assert leftovers == [], f"files left behind: {leftovers}"
