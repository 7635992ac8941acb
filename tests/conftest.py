"""Shared fixtures: a running simulator over real HTTP, a temp data dir, a temp Dagster instance."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg
import pytest
from hypothesis import settings as hypothesis_settings
from support import fast_retry

from jira_etl.sources.client import JiraClient
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc

# CI replays the same generated examples every time (a landing must not hinge on a
# lucky draw); developers' runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def env(tmp_path):
    """A subprocess environment for `jira-etl` runs: no JIRA_* settings of the caller's,
    data and the Dagster instance under the test's tmp_path."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    e["JIRA_ETL_DATA_DIR"] = str(tmp_path / "data")
    e["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    return e


@pytest.fixture
def site() -> SiteData:
    return SiteData(seed=11)


@pytest.fixture
def sim(site):
    with JiraSimulator(site, faults=Faults()) as s:
        yield s


@pytest.fixture
def client(sim) -> JiraClient:
    return JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(path))
    return path


@pytest.fixture
def instance(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch):
    # Tests never talk to a real site, whatever the developer's shell or .env holds.
    for var in ("JIRA_SITE", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_CONNECTOR", "JIRA_CLOUD_ID",
                "JIRA_OAUTH_TOKEN", "JIRA_ETL_CONNECTORS", "JIRA_DEPLOYMENT", "JIRA_PAT", "JIRA_USERNAME",
                "JIRA_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    yield


# The cluster tests start PostgreSQL, Redis, an S3 server and Dagster's daemons and
# need the `cluster` extra: .ci/run runs them as a step of their own after `make test`.
collect_ignore_glob = [] if os.environ.get("JIRA_ETL_CLUSTER_TESTS") else ["cluster/*"]
