"""Jira Data Center collection over real HTTP against the simulator in Data Center mode:
cursor paging, inclusive bounds, twins in one millisecond, stable keys, each error class."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from support import fast_retry

from jira_etl import collect, collect_dc, normalize_dc  # noqa: F401 - collect_dc registers itself
from jira_etl.simulator.dc_api import EVENTS, DCSimulator
from jira_etl.simulator.dc_render import entity, iso, to_ms
from jira_etl.sources.datacenter import (
    AuditingUnavailableError, DataCenterClient, DCAuthenticationError, DCPermissionDeniedError,
)
from jira_etl.sources.errors import RetriesExhaustedError
from jira_etl.storage import lake

UTC = dt.timezone.utc
DAY = dt.date(2026, 10, 1)


def day_ms(day: dt.date) -> int:
    return to_ms(dt.datetime.combine(day, dt.time(), UTC))


def truth(sim: DCSimulator, day: dt.date) -> Counter:
    """What the server holds for the day (its own store, not the API), as a multiset."""
    start = day_ms(day)
    return Counter(json.dumps(e, sort_keys=True) for _, _, e in sim.log.window(start, start + 86_400_000 - 1))


def collected(data_dir, connector, day) -> tuple[list[int], Counter]:
    table = lake.read_partition(data_dir, connector, day)
    raws = table.column("raw").to_pylist()
    return table.column("id").to_pylist(), Counter(json.dumps(json.loads(r), sort_keys=True) for r in raws)


def client_for(sim: DCSimulator, **kw) -> DataCenterClient:
    auth = kw.pop("auth", {"pat": sim.pat})
    return DataCenterClient(sim.url, retry=fast_retry(**kw), **auth)


@pytest.fixture
def dc():
    with DCSimulator(context_path="/jira") as sim:
        yield sim


def test_cursor_paging_over_many_pages_with_inclusive_bounds(dc, tmp_path, monkeypatch):
    dc.log.populate([DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)], per_day=900, seed=3)
    start = day_ms(DAY)
    # The day's first and last millisecond are inside, the neighbours' are not.
    for ms, action in ((start, "first"), (start + 86_400_000 - 1, "last"), (start - 1, "before"),
                       (start + 86_400_000, "after")):
        dc.log.add(ms, entity(ms, dc.url, action=("system", action, "k"), source="203.0.113.9, 10.0.0.5"))
    client = client_for(dc)
    monkeypatch.setattr(client, "page_limit", 37)
    (result,) = collect.collect_days(client, "dc", [DAY], tmp_path)
    ids, got = collected(tmp_path, "dc", DAY)
    assert got == truth(dc, DAY) and result.rows == 902
    assert len(ids) == len(set(ids)) and result.duplicate_ids == 0 and result.outside_window == 0
    summaries = {json.loads(r)["type"]["action"] for r in lake.read_partition(tmp_path, "dc", DAY).column("raw").to_pylist()}
    assert {"first", "last"} <= summaries and not {"before", "after"} & summaries
    asked = dc.events_requests()
    assert len(asked) == -(-902 // 37)  # one request per page, the cursor chain to its end
    assert all(q["from"] == iso(start) and q["to"] == iso(start + 86_400_000 - 1) for q in asked)
    assert "pageCursor" not in asked[0] and all("pageCursor" in q for q in asked[1:])
    # The mapping onto the Cloud columns: the client's address is the chain's first.
    table = lake.read_partition(tmp_path, "dc", DAY)
    row = next(r for r in table.to_pylist() if r["summary"] == "first")
    assert row["remote_address"] == "203.0.113.9" and row["category"] == "system"
    assert row["author_account_id"] == "10002" and row["author_key"] == "ada.admin"
    assert row["event_source"] == "Browser" and row["created"] == dt.datetime.combine(DAY, dt.time(), UTC)


def test_1500_identical_twins_in_one_millisecond_are_all_kept_with_stable_keys(dc, tmp_path):
    ms = day_ms(DAY) + 43_200_271
    twin = entity(ms, dc.url, objects=[("10101", "jira-software-users", "GROUP"), ("10005", "dave", "USER")],
                  source="198.51.100.10")
    dc.log.add_twins(ms, 1500, twin)
    dc.log.populate([DAY], per_day=100, seed=5)
    client = client_for(dc)
    (first,) = collect.collect_days(client, "dc", [DAY], tmp_path / "a")
    (again,) = collect.collect_days(client, "dc", [DAY], tmp_path / "b")
    ids_a, got = collected(tmp_path / "a", "dc", DAY)
    ids_b, _ = collected(tmp_path / "b", "dc", DAY)
    assert first.rows == again.rows == 1600 and got == truth(dc, DAY)
    assert len(set(ids_a)) == 1600 and all(0 <= i < 2**63 for i in ids_a)
    assert sorted(ids_a) == sorted(ids_b)  # a re-run gives every entity the same key
    # Keys do not depend on the server's base URL (uri, avatarUri, system are dropped).
    moved = [json.loads(json.dumps(twin).replace(dc.url, "https://jira.new.example")) for _ in range(3)]
    assert normalize_dc.keys_for(moved) == normalize_dc.keys_for([dict(twin) for _ in range(3)])
    # A twin arriving later in the same millisecond leaves the others' keys as they were.
    assert normalize_dc.keys_for([dict(twin)] * 4)[1:] == normalize_dc.keys_for([dict(twin)] * 3)


def test_running_day_refresh_replaces_the_file_with_the_same_keys(dc, tmp_path):
    dc.log.populate([DAY], per_day=300, seed=9, twins=20)
    client = client_for(dc)
    first = collect.collect_day(client, "dc", DAY, tmp_path, incremental=True)
    ids_before, _ = collected(tmp_path, "dc", DAY)
    ms = day_ms(DAY) + 80_000_000
    dc.log.add(ms, entity(ms, dc.url, author=None, method=None, node=None))  # no author, no node, no method
    second = collect.collect_day(client, "dc", DAY, tmp_path, incremental=True)
    ids_after, got = collected(tmp_path, "dc", DAY)
    assert (first.rows, second.rows) == (320, 321) and got == truth(dc, DAY)
    assert set(ids_before) < set(ids_after)


@pytest.mark.parametrize("setup, auth, error, words", [
    ({}, {"pat": "pat-Zq81x"}, DCAuthenticationError, ["401", "personal access token"]),
    ({}, {"username": "admin", "password": "pw-Kk27y"}, DCAuthenticationError, ["401"]),
    ({"admin": False}, None, DCPermissionDeniedError, ["403", "system administrator"]),
    ({"legacy": True}, None, AuditingUnavailableError, ["auditing API not available: Jira older than 8.8?"]),
])
def test_each_error_class_with_its_remedy(tmp_path, setup, auth, error, words):
    with DCSimulator(**setup) as sim:
        sim.log.populate([DAY], per_day=5)
        client = client_for(sim, auth=auth or {"pat": sim.pat})
        with pytest.raises(error) as err:
            list(collect.collect_days(client, "dc", [DAY], tmp_path))
    for w in words:
        assert w in str(err.value)
    assert err.value.remedy and "pat-Zq81x" not in str(err.value) and "pw-Kk27y" not in str(err.value)
    assert not (tmp_path / "audit_records").exists() or not list(tmp_path.rglob("*.parquet"))


def test_missing_context_path_is_a_404_whose_remedy_names_it(dc, tmp_path):
    client = DataCenterClient(dc.url.removesuffix("/jira"), pat=dc.pat, retry=fast_retry())
    with pytest.raises(AuditingUnavailableError) as err:
        client.events_page(*collect.day_bounds(DAY))
    assert "context path" in err.value.remedy


def test_basic_auth_collects_too(dc, tmp_path):
    dc.log.populate([DAY], per_day=50)
    client = client_for(dc, auth={"username": dc.username, "password": dc.password})
    (result,) = collect.collect_days(client, "dc", [DAY], tmp_path)
    assert result.rows == 50 and {s for *_, s in dc.request_log} == {"basic"}


@pytest.mark.parametrize("status_503", [False, True])
def test_429_and_503_with_retry_after_are_retried_and_nothing_is_lost(tmp_path, status_503):
    with DCSimulator(rate_limit_every=3, retry_after=0, status_503=status_503) as sim:
        sim.log.populate([DAY], per_day=500, seed=2)
        client = client_for(sim)
        client.page_limit = 40
        (result,) = collect.collect_days(client, "dc", [DAY], tmp_path)
        _, got = collected(tmp_path, "dc", DAY)
        assert got == truth(sim, DAY) and result.rows == 500
        assert sim.status_counts[503 if status_503 else 429] >= 4 and client.stats.retries >= 4


def test_a_server_that_always_throttles_exhausts_the_retries(tmp_path):
    with DCSimulator(rate_limit_every=1, retry_after=0) as sim:
        client = client_for(sim, max_retries=2)
        with pytest.raises(RetriesExhaustedError):
            list(collect.collect_days(client, "dc", [DAY], tmp_path))
        assert [s for p, _, s, _ in sim.request_log if p.endswith(EVENTS)] == [429, 429, 429]
