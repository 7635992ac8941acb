"""new_ip_for_actor: fire / near-miss / clean, and no "new for the actor" while it is
learning (jira_etl/detections/rules/new_ip_for_actor.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ADMIN_IP, DAY, at, days_before

RULE = "new_ip_for_actor"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_an_address_new_for_an_actor_with_history(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.routine([DAY], per_day=2)
    new = [site.add(at(DAY, 13), "Project updated", ip="192.0.2.200"),
           site.add(at(DAY, 14), "Workflow updated", "workflows", ip="192.0.2.200")]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [new]
    assert found[0]["remote_address"] == "192.0.2.200" and ADMIN_IP in found[0]["message"]


def test_fires_again_after_31_days(site):
    site.routine(days_before(DAY, 10), per_day=2)
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", ip="10.1.1.1")
    rid = site.add(at(DAY, 10), "Project updated", ip="10.1.1.1")
    site.load()
    assert ids(site.run(RULE)) == [[rid]]


def test_the_system_actor_has_its_own_addresses(site):
    for d in days_before(DAY, 10):
        site.add(at(d, 2), "Group updated", "group management", actor=None, ip="10.0.0.9")
    site.add(at(DAY, 2), "Group updated", "group management", actor=None, ip="10.0.0.9")
    rid = site.add(at(DAY, 3), "Group updated", "group management", actor=None, ip="198.51.100.66")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]] and found[0]["actor_account_id"] == "(system)"


def test_near_misses(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Project updated", ip="10.1.1.1")   # used 29 days ago
    site.add(at(DAY, 10), "Project updated", ip="10.1.1.1")
    site.add(at(DAY, 11), "Project updated", actor="acct-newcomer", ip="192.0.2.1")  # no history: skipped
    site.add(at(DAY, 12), "Project updated", actor=None, ip="192.0.2.2")             # system, no history
    site.load()
    assert site.run(RULE) == []


def test_an_actor_in_learning_is_skipped(site):
    # 6 active days (of 7 needed), many events: still learning, nothing is new for it yet
    for d in days_before(DAY, 6):
        site.routine([d], actor="acct-joiner", per_day=10)
    site.add(at(DAY, 10), "Project updated", actor="acct-joiner", ip="192.0.2.77")
    site.load()
    assert site.run(RULE) == []
    # a seventh active day ends the learning period
    site.routine([DAY - dt.timedelta(days=7)], actor="acct-joiner", per_day=1)
    site.load()
    assert len(site.run(RULE)) == 1
    assert site.run(RULE, learning_days=8) == []
