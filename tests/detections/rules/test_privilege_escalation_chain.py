"""privilege_escalation_chain: fire / near-miss / clean (cases moved from test_behavioural_rules.py)."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, MALLORY, at, days_before, user_item

RULE = "privilege_escalation_chain"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_privilege_escalation_chain_created_then_admin(site):
    c = site.create_user(at(DAY, 10, 0), "acct-backdoor", actor=MALLORY)
    a = site.add_to_group(at(DAY, 10, 59), "acct-backdoor", "site-admins", actor=MALLORY)
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[c, a]]
    assert found[0]["severity"] == "critical" and "site-admins" in found[0]["message"]


def test_privilege_escalation_chain_reactivated_then_admin(site):
    r = site.add(at(DAY, 10, 0), "User updated", "user management", obj=user_item("acct-old"),
                 changed=[{"fieldName": "Active", "changedFrom": "false", "changedTo": "true"}])
    a = site.add_to_group(at(DAY, 10, 30), "acct-old", "jira-administrators")
    site.load()
    assert ids(site.run(RULE)) == [[r, a]]


def test_privilege_escalation_chain_across_midnight_belongs_to_the_later_day(site):
    c = site.create_user(at(DAY - dt.timedelta(days=1), 23, 40), "acct-night")
    a = site.add_to_group(at(DAY, 0, 20), "acct-night", "site-admins")
    site.load()
    assert site.run(RULE, DAY - dt.timedelta(days=1)) == []
    assert ids(site.run(RULE)) == [[c, a]]


def test_privilege_escalation_chain_near_misses(site):
    site.create_user(at(DAY, 8, 0), "acct-slow")
    site.add_to_group(at(DAY, 9, 1), "acct-slow", "site-admins")           # 61 minutes later
    site.create_user(at(DAY, 10, 0), "acct-dev")
    site.add_to_group(at(DAY, 10, 5), "acct-dev", "developers")            # not an admin group
    site.create_user(at(DAY, 11, 0), "acct-one")
    site.add_to_group(at(DAY, 11, 5), "acct-other", "site-admins")         # someone else
    site.add(at(DAY, 12, 0), "User updated", "user management", obj=user_item("acct-upd"),
             changed=[{"fieldName": "Full name", "changedTo": "X"}])
    site.add_to_group(at(DAY, 12, 5), "acct-upd", "site-admins")            # an update, not a re-activation
    site.load()
    assert site.run(RULE) == []


def test_clean_day_joiners_and_a_promotion_days_later_are_silent(site):
    """The realistic background's new admins: created, promoted a day or two later."""
    site.routine(days_before(DAY, 10) + [DAY], per_day=5)
    site.create_user(at(DAY - dt.timedelta(days=1), 2, 12), "acct-leo", actor=None, ip=None)
    site.add_to_group(at(DAY, 9, 20), "acct-leo", "jira-administrators")
    site.create_user(at(DAY, 10), "acct-joiner")
    site.add_to_group(at(DAY, 10, 1), "acct-joiner", "jira-software-users")
    site.load()
    assert site.run(RULE) == []
