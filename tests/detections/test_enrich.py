"""Author enrichment (users table via user/bulk) and IP context (ip_info)."""

from __future__ import annotations

import datetime as dt

import pytest
from det_helpers import ALICE, DAY, at, user_item

from jira_etl.enrich import ip as ipctx
from jira_etl.enrich.users import refresh_users
from jira_etl.sources.client import JiraClient
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc


class FakeClient:
    def __init__(self, known: dict[str, str]):
        self.known = known
        self.calls: list[list[str]] = []

    def users_bulk(self, ids):
        self.calls.append(list(ids))
        return [{"accountId": a, "displayName": self.known[a], "accountType": "atlassian", "active": True}
                for a in ids if a in self.known]


def window():
    start = dt.datetime.combine(DAY, dt.time(), UTC)
    return start, start + dt.timedelta(days=1)


def names(site):
    with site.warehouse.reader() as con:
        return dict(con.execute("SELECT account_id, display_name FROM users").fetchall())


def test_users_are_cached_and_refreshed_not_per_record(site):
    for i in range(50):
        site.add(at(DAY, 9, i), "User updated", "user management", obj=user_item("acct-target"))
    site.add_to_group(at(DAY, 10), "acct-member", "developers")
    site.load()
    fake = FakeClient({ALICE: "Alice Nguyen", "acct-target": "Tom Target"})
    res = refresh_users(site.warehouse, lambda: fake, site.connector, *window())
    assert fake.calls == [sorted([ALICE, "acct-member", "acct-target"])]      # one batch, each id once
    assert (res.looked_up, res.found, res.not_found, res.error) == (3, 2, 1, None)
    assert names(site) == {ALICE: "Alice Nguyen", "acct-target": "Tom Target", "acct-member": None}
    # cached: a second run asks nothing
    refresh_users(site.warehouse, lambda: fake, site.connector, *window())
    assert len(fake.calls) == 1
    # stale entries are refreshed; a later miss never erases a known name
    gone = FakeClient({})
    refresh_users(site.warehouse, lambda: gone, site.connector, *window(), max_age=dt.timedelta(0))
    assert len(gone.calls) == 1 and names(site)[ALICE] == "Alice Nguyen"
    # findings show names
    found = site.run("user_removed_from_group") + site.run_all()
    assert found == []
    site.remove_from_group(at(DAY, 11), "acct-target", "developers")
    site.load()
    f = site.run("user_removed_from_group")[0]
    assert f["actor_name"] == "Alice Nguyen" and "Alice Nguyen removed Tom Target" in f["message"]


def test_lookup_failure_never_raises(site):
    site.add(at(DAY, 9), "Project updated")
    site.load()

    def broken():
        raise RuntimeError("site unreachable")

    res = refresh_users(site.warehouse, broken, site.connector, *window())
    assert res.error and "site unreachable" in res.error
    assert site.run_all() == []


def test_users_bulk_against_the_simulator(site):
    data = SiteData(seed=3)
    alice = data.admins()[0]
    site.add(at(DAY, 9), "Project updated", actor=alice.accountId)
    site.add(at(DAY, 9, 5), "Project updated", actor="unknown-account")
    site.load()
    with JiraSimulator(data, faults=Faults()) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token)
        res = refresh_users(site.warehouse, lambda: client, site.connector, *window())
    assert res.error is None and res.found == 1
    assert names(site)[alice.accountId] == alice.displayName


@pytest.mark.parametrize("value,kind", [
    (None, "missing"), ("", "missing"), ("  ", "missing"), ("not-an-ip", "invalid"),
    ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("172.20.1.1", "private"), ("100.64.0.1", "private"),
    ("127.0.0.1", "private"), ("fd00::1", "private"), ("fe80::1%eth0", "private"), ("::ffff:10.0.0.1", "private"),
    ("8.8.8.8", "public"), ("203.0.113.10", "public"), ("2001:4860:4860::8888", "public"),
])
def test_ip_classification(value, kind):
    assert ipctx.classify(value) == kind


def test_country_offline():
    assert ipctx.country("10.0.0.1") is None and ipctx.country(None) is None
    if ipctx._country_code is not None:
        assert ipctx.country("8.8.8.8") == "US"


def test_ip_info_table_and_view(site):
    site.add(at(DAY, 9), "Project updated", ip="10.0.0.7")
    site.add(at(DAY, 9, 1), "Project updated", ip="8.8.8.8")
    site.add(at(DAY, 9, 2), "Project updated", ip=None)
    site.load()
    start, end = window()
    assert ipctx.refresh_ip_info(site.warehouse, site.connector, start, end) == 2
    assert ipctx.refresh_ip_info(site.warehouse, site.connector, start, end) == 0
    with site.warehouse.reader() as con:
        rows = con.execute("SELECT remote_address, ip_kind FROM audit_events ORDER BY id").fetchall()
    assert rows == [("10.0.0.7", "private"), ("8.8.8.8", "public"), (None, "missing")]
