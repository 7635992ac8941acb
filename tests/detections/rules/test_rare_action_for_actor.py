"""rare_action_for_actor: fire / near-miss / clean, and no "never performed before"
while the actor is learning (jira_etl/detections/rules/rare_action_for_actor.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, at, days_before

RULE = "rare_action_for_actor"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_a_sensitive_action_new_for_the_actor(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add_to_group(at(DAY - dt.timedelta(days=3), 10), "acct-dev", "developers")
    a = site.remove_from_group(at(DAY, 10), "acct-x", "site-admins")     # admin group: new for Alice
    b = site.add(at(DAY, 11), "Issue Security scheme deleted", "permissions", obj={"name": "HR", "typeName": "SCHEME"})
    site.load()
    found = site.run(RULE)
    assert sorted(ids(found)) == [[a], [b]]


def test_near_misses(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Permission scheme updated", "permissions")
    site.add(at(DAY, 10), "Permission scheme updated", "permissions")             # done 29 days ago
    site.add_to_group(at(DAY, 11), "acct-dev", "developers")                       # not sensitive
    site.add(at(DAY, 12), "Global permission added", "permissions", actor="acct-newcomer")  # no history
    site.load()
    assert site.run(RULE) == []


def test_an_actor_in_learning_is_skipped(site):
    site.routine(days_before(DAY, 4), actor="acct-joiner", per_day=6)             # 4 active days
    site.add(at(DAY, 12), "Global permission added", "permissions", actor="acct-joiner")
    site.load()
    assert site.run(RULE) == []
    assert len(site.run(RULE, learning_days=4)) == 1


def test_the_system_actor_is_an_actor(site):
    for d in days_before(DAY, 10):
        site.add_to_group(at(d, 2), "acct-m", "team-a", actor=None, ip=None)
    rid = site.remove_from_group(at(DAY, 2), "acct-m", "site-admins", actor=None, ip=None)
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]] and found[0]["actor_account_id"] == "(system)"


def test_an_addition_to_an_admin_group_is_left_to_new_site_admin(site):
    # a new admin joins: new_site_admin (high) reports the record, a behavioural "never
    # did this before" on the same record would add nothing; a removal is still rare
    site.routine(days_before(DAY, 20), per_day=2)
    add = site.add_to_group(at(DAY, 9, 20), "acct-leo", "jira-administrators")
    removal = site.remove_from_group(at(DAY, 10), "acct-old-admin", "site-admins")
    site.load()
    assert ids(site.run(RULE)) == [[removal]]
    assert ids(site.run("new_site_admin")) == [[add]]
