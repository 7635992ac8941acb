from datetime import datetime, timezone

import pytest

from jira_etl.simulator import Faults, JiraSimulator, SiteData
from sim_helpers import Client

UTC = timezone.utc


@pytest.fixture
def fixed_now():
    return datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def site(fixed_now):
    return SiteData(seed=7, clock=lambda: fixed_now)


@pytest.fixture
def sim(site):
    with JiraSimulator(site, faults=Faults()) as s:
        yield s


@pytest.fixture
def client(sim):
    c = Client(sim)
    yield c
    c.s.close()
