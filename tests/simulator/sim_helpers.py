"""Shared helpers for the simulator tests (unique module name: tests have no __init__)."""
import requests

from jira_etl.simulator import JiraSimulator

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
