"""head_start: a backfill's walk begun before its Dagster run, claimed by the run's step
only for exactly the walk it would make, and otherwise discarded without a trace."""

import datetime as dt

import pyarrow.parquet as pq
import pytest

from support import day_window, fast_retry
from jira_etl import collect, head_start
from jira_etl.connectors import Connector
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator
from jira_etl.sources.client import JiraClient, RetryPolicy
from jira_etl.storage import lake

UTC = dt.timezone.utc
DAYS = [dt.date(2026, 3, 2) + dt.timedelta(days=i) for i in range(3)]
AUDIT = "/rest/api/3/auditing/record"


def site() -> SiteData:
    data = SiteData.empty(seed=4)
    for n, day in enumerate(DAYS):
        t = dt.datetime.combine(day, dt.time(8, 0), UTC)
        data.add_records([{"created": t + dt.timedelta(milliseconds=131 * i)} for i in range(1800 + 900 * n)])
    return data


def files_under(root):
    folder = lake.dataset_root(root) / "connector=c1"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(autouse=True)
def no_walk_left():
    yield
    head_start.discard()


def test_a_claimed_walk_publishes_every_day_exactly_without_a_second_walk(tmp_path):
    data = site()
    with JiraSimulator(data) as sim:
        ahead_client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        head_start.start(ahead_client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        # The step builds its own client from the resource: same site, token and policy.
        step_client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        ahead = head_start.claim(step_client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        assert ahead is not None and ahead.client is ahead_client
        results = list(collect.collect_days(step_client, "c1", DAYS, tmp_path, slices=4, concurrency=4, ahead=ahead))
        walked = sim.path_counts[AUDIT]
    assert sorted(r.day for r in results) == DAYS
    for r in results:
        ids = pq.read_table(lake.partition_file(tmp_path, "c1", r.day), columns=["id"]).column("id").to_pylist()
        assert len(ids) == len(set(ids)) == r.rows == r.unique_received
        assert set(ids) == data.truth_ids(*day_window(r.day)), f"{r.day} differs"
    # Every audit request was the head start's: the step did not walk again.
    assert walked == ahead_client.stats.requests and step_client.stats.requests == 0
    assert head_start.claim(step_client, "c1", DAYS, tmp_path, slices=4, concurrency=4) is None  # claimed once


def test_days_walked_ahead_are_sealed_unpublished_then_placed_as_sealed(tmp_path):
    """A day complete in the walk ahead is finished in its temporary file (all of
    publishing but the rename) before any step claims it; the step's publish places
    exactly that file and judges it."""
    data = site()
    with JiraSimulator(data) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        ahead = head_start.start(client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        ahead._thread.join(30)  # the whole walk done, nothing claimed yet
        assert not ahead._thread.is_alive()
        assert sorted(ahead._ready) == [0, 1, 2]
        sealed = {}
        for i in ahead._ready:
            day = ahead.open_days.get(i)
            tmp = day.writer.seal()  # idempotent: the file the walk finished
            assert tmp.exists() and not lake.partition_file(tmp_path, "c1", DAYS[i]).exists()
            sealed[DAYS[i]] = pq.read_table(tmp, columns=["id"]).column("id").to_pylist()
        assert all(len(ids) == len(set(ids)) == len(data.truth_ids(*day_window(d))) for d, ids in sealed.items())
        first = ahead.open_days.get(0).writer
        with pytest.raises(RuntimeError, match="sealed"):  # nothing can slip in after the file is finished
            first.write(pq.read_table(first.seal()).slice(0, 1))
        claimed = head_start.claim(client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        results = list(collect.collect_days(client, "c1", DAYS, tmp_path, slices=4, concurrency=4, ahead=claimed))
    for r in results:
        placed = pq.read_table(lake.partition_file(tmp_path, "c1", r.day), columns=["id"]).column("id").to_pylist()
        assert placed == sealed[r.day] and r.rows == len(placed) and r.duplicate_ids == r.outside_window == 0
    assert [p.name for p in files_under(tmp_path)] == ["data.parquet"] * 3  # no temporary file left


@pytest.mark.parametrize("change", ["days", "token", "data_dir", "slices"])
def test_a_walk_for_anything_else_is_not_handed_over_and_leaves_no_file(tmp_path, change):
    data = site()
    with JiraSimulator(data) as sim:
        ahead_client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        ahead = head_start.start(ahead_client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        token = "another-token" if change == "token" else sim.token
        step_client = JiraClient(sim.url, email=sim.email, api_token=token, retry=fast_retry())
        days = DAYS[:2] if change == "days" else DAYS
        data_dir = tmp_path / "elsewhere" if change == "data_dir" else tmp_path
        slices = 8 if change == "slices" else 4
        assert head_start.claim(step_client, "c1", days, data_dir, slices=slices, concurrency=4) is None
        assert not ahead._thread.is_alive()  # stopped, not left walking
    assert files_under(tmp_path) == [], "a discarded walk left files (or published a day)"


def test_an_unclaimed_walk_is_discarded_with_its_temporary_files(tmp_path):
    data = site()
    with JiraSimulator(data) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        ahead = head_start.start(client, "c1", DAYS, tmp_path, slices=4, concurrency=4)
        ahead._thread.join(30)  # the whole walk done, its days waiting in temporary files
        assert list(ahead._ready) and files_under(tmp_path)
        head_start.discard("c1")
    assert files_under(tmp_path) == []
    assert not any(lake.partition_file(tmp_path, "c1", d).exists() for d in DAYS)


def test_a_bad_token_sends_no_audit_request(tmp_path, monkeypatch):
    data = site()
    with JiraSimulator(data) as sim:
        monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("TEST_TOKEN", "not-the-token")
        conn = Connector("c1", site=sim.url, email=sim.email, token_env="TEST_TOKEN", slices=4, concurrency=4)
        today = dt.datetime.now(UTC).date()
        ahead = head_start.begin(conn, today - dt.timedelta(days=3), today - dt.timedelta(days=1))
        ahead._thread.join(30)
        assert isinstance(ahead.error, head_start.PrecheckFailed)
        assert "not-the-token" not in str(ahead.error)
        assert sim.path_counts[AUDIT] == 0 and sim.path_counts["/rest/api/3/myself"] == 1
        client = JiraClient(sim.url, email=sim.email, api_token="not-the-token")
        assert head_start.claim(client, "c1", ahead.days, tmp_path, slices=4, concurrency=4) is None


def test_begin_leaves_to_the_run_what_it_does_otherwise(tmp_path, monkeypatch):
    today = dt.datetime.now(UTC).date()
    monkeypatch.setenv("TEST_TOKEN", "t0ken")
    cloud = dict(site="https://acme.atlassian.net", email="a@b.co", token_env="TEST_TOKEN")
    # the simulator, Data Center, OAuth, only the running day, no token: no walk ahead
    assert head_start.begin(Connector("demo"), today - dt.timedelta(days=2), today - dt.timedelta(days=1)) is None
    assert head_start.begin(Connector("dc", site="https://jira.example", deployment="datacenter", pat_env="TEST_TOKEN"),
                            today - dt.timedelta(days=1), today - dt.timedelta(days=1)) is None
    assert head_start.begin(Connector("o", cloud_id="abc", oauth_env="TEST_TOKEN"), today, today) is None
    assert head_start.begin(Connector("c1", **cloud), today, today) is None
    monkeypatch.delenv("TEST_TOKEN")
    assert head_start.begin(Connector("c1", **cloud), today - dt.timedelta(days=1), today - dt.timedelta(days=1)) is None


def test_clients_are_the_same_only_with_the_same_site_credentials_and_policy():
    a = JiraClient("https://acme.atlassian.net", email="a@b.co", api_token="t1")
    assert a.same_site_and_identity(JiraClient("https://acme.atlassian.net/", email="a@b.co", api_token="t1"))
    assert not a.same_site_and_identity(JiraClient("https://acme.atlassian.net", email="a@b.co", api_token="t2"))
    assert not a.same_site_and_identity(JiraClient("https://acme.atlassian.net", email="c@b.co", api_token="t1"))
    assert not a.same_site_and_identity(JiraClient("https://other.atlassian.net", email="a@b.co", api_token="t1"))
    assert not a.same_site_and_identity(JiraClient("https://acme.atlassian.net", email="a@b.co", api_token="t1",
                                                   retry=RetryPolicy(max_retries=1)))
    b = JiraClient("https://api.atlassian.com/ex/jira/x", bearer_token="tok", gateway=True)
    assert b.same_site_and_identity(JiraClient("https://api.atlassian.com/ex/jira/x", bearer_token="tok", gateway=True))
    assert not b.same_site_and_identity(JiraClient("https://api.atlassian.com/ex/jira/x", bearer_token="tik",
                                                   gateway=True))
    assert "t1" not in repr(a)
