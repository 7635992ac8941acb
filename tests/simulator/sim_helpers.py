"""Shared helpers for the simulator tests (unique module name: tests have no __init__)."""
from datetime import datetime, timezone

import pytest
import requests

from jira_etl.simulator import Faults, JiraSimulator, SiteData

UTC = timezone.utc

AUDIT = "/rest/api/3/auditing/record"


class Client:
    def __init__(self, sim: JiraSimulator):
        self.sim = sim
        self.s = requests.Session()
        self.s.auth = (sim.email, sim.token)

    def get(self, path, params=None, timeout=10, **kw):
        return self.s.get(self.sim.url + path, params=params, timeout=timeout, **kw)

    def audit(self, **params):
        return self.get(AUDIT, params=params)

# Fixtures (imported by name into the test modules; no conftest.py here so the
# project-level tests/conftest.py stays the only module named 'conftest').


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
