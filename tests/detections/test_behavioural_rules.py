"""Section B: behavioural rules fire on their scenario and stay silent on near-misses."""

from __future__ import annotations

import datetime as dt

from det_helpers import (ADMIN_IP, ALICE, BOB, DAY, MALLORY, VICTIMS, at, days_before, group_item, project_item,
                         user_item)


def ids(findings):
    return [f["record_ids"] for f in findings]


# --- privilege_escalation_chain ------------------------------------------------------


def test_privilege_escalation_chain_created_then_admin(site):
    c = site.create_user(at(DAY, 10, 0), "acct-backdoor", actor=MALLORY)
    a = site.add_to_group(at(DAY, 10, 59), "acct-backdoor", "site-admins", actor=MALLORY)
    site.load()
    found = site.run("privilege_escalation_chain")
    assert ids(found) == [[c, a]]
    assert found[0]["severity"] == "critical" and "site-admins" in found[0]["message"]


def test_privilege_escalation_chain_reactivated_then_admin(site):
    r = site.add(at(DAY, 10, 0), "User updated", "user management", obj=user_item("acct-old"),
                 changed=[{"fieldName": "Active", "changedFrom": "false", "changedTo": "true"}])
    a = site.add_to_group(at(DAY, 10, 30), "acct-old", "jira-administrators")
    site.load()
    assert ids(site.run("privilege_escalation_chain")) == [[r, a]]


def test_privilege_escalation_chain_across_midnight_belongs_to_the_later_day(site):
    c = site.create_user(at(DAY - dt.timedelta(days=1), 23, 40), "acct-night")
    a = site.add_to_group(at(DAY, 0, 20), "acct-night", "site-admins")
    site.load()
    assert site.run("privilege_escalation_chain", DAY - dt.timedelta(days=1)) == []
    assert ids(site.run("privilege_escalation_chain")) == [[c, a]]


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
    assert site.run("privilege_escalation_chain") == []


# --- mass_deletion ---------------------------------------------------------------------


DELETIONS = [("Project deleted", "projects", {"name": "Old", "typeName": "PROJECT"}),
             ("Workflow deleted", "workflows", {"name": "Bug Workflow", "typeName": "WORKFLOW"}),
             ("Permission scheme deleted", "permissions", {"name": "PS", "typeName": "SCHEME"}),
             ("Field Configuration scheme deleted", "fields", {"name": "FS", "typeName": "SCHEME"}),
             ("Custom field deleted", "fields", {"name": "Team", "typeName": "CUSTOM_FIELD"})]


def test_mass_deletion_fires_at_5_within_an_hour(site):
    rids = [site.add(at(DAY, 11, 12 * i), s, c, obj=o) for i, (s, c, o) in enumerate(DELETIONS)]
    site.load()
    found = site.run("mass_deletion")
    assert ids(found) == [rids] and found[0]["severity"] == "high"


def test_mass_deletion_near_misses(site):
    for i, (s, c, o) in enumerate(DELETIONS[:4]):                 # 4 deletions
        site.add(at(DAY, 9, i), s, c, obj=o)
    for i, (s, c, o) in enumerate(DELETIONS):                     # 5 over 64 minutes
        site.add(at(DAY, 13, 0) + dt.timedelta(minutes=16 * i), s, c, obj=o)
    for i in range(5):                                            # 5 user deletions are not config
        site.add(at(DAY, 18, i), "User deleted", "user management", obj=user_item(VICTIMS[i]))
    site.load()
    assert site.run("mass_deletion") == []


# --- dormant_actor_returns -------------------------------------------------------------


def test_dormant_actor_returns_after_31_days(site):
    site.routine(days_before(DAY, 40), per_day=1)                        # Alice keeps the site alive
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", actor="acct-farah")
    rid = site.add_to_group(at(DAY, 10), "acct-x", "developers", actor="acct-farah")
    site.load()
    found = site.run("dormant_actor_returns")
    assert ids(found) == [[rid]] and "31 days" in found[0]["message"]


def test_dormant_actor_never_seen_with_full_coverage(site):
    site.routine(days_before(DAY, 35), per_day=1)
    rid = site.add(at(DAY, 10), "Permission scheme updated", "permissions", actor="acct-farah")
    site.load()
    assert ids(site.run("dormant_actor_returns")) == [[rid]]


def test_dormant_actor_near_misses(site):
    site.routine(days_before(DAY, 40), per_day=1)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Project updated", actor="acct-farah")   # 29 days
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.create_user(at(DAY - dt.timedelta(days=3), 10), "acct-joiner")                    # new account
    site.add(at(DAY, 11), "Project updated", actor="acct-joiner")
    site.load()
    assert site.run("dormant_actor_returns") == []


def test_dormant_unknown_actor_needs_30_collected_days(site):
    site.routine(days_before(DAY, 20), per_day=1)
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.load()
    assert site.run("dormant_actor_returns") == []


# --- security_scheme_removed -----------------------------------------------------------


def test_security_scheme_removed(site):
    a = site.add(at(DAY, 10), "Issue Security scheme deleted", "permissions", obj={"name": "HR Restricted", "typeName": "SCHEME"})
    b = site.add(at(DAY, 11), "Issue Security scheme removed from project", "permissions",
                 obj={"name": "Confidential", "typeName": "SCHEME"}, assoc=[project_item("Payments")])
    c = site.add(at(DAY, 12), "Permission scheme deleted", "permissions", obj={"name": "PS", "typeName": "SCHEME"})
    site.add(at(DAY, 13), "Issue Security scheme added to project", "permissions", obj={"name": "C", "typeName": "SCHEME"})
    site.add(at(DAY, 14), "Notification scheme deleted", "notifications", obj={"name": "N", "typeName": "SCHEME"})
    site.load()
    found = site.run("security_scheme_removed")
    assert ids(found) == [[a], [b], [c]] and found[0]["severity"] == "high"


# --- audit_gap -------------------------------------------------------------------------


def busy(site, days, per_day):
    for d in days:
        for i in range(per_day):
            site.add(at(d, 8 + i % 10, i % 60), "Project updated")


def test_audit_gap_on_a_collected_empty_day(site):
    busy(site, days_before(DAY, 14), 60)
    site.load(extra_days=[DAY])
    found = site.run("audit_gap")
    assert len(found) == 1 and found[0]["record_ids"] == [] and found[0]["actor_account_id"] is None
    assert "averaged 60" in found[0]["message"]


def test_audit_gap_near_misses(site):
    busy(site, days_before(DAY, 14), 50)                          # averaged exactly 50: not more
    site.load(extra_days=[DAY])
    assert site.run("audit_gap") == []
    assert site.run("audit_gap", DAY + dt.timedelta(days=1)) == []  # never collected: not judged
    busy(site, days_before(DAY, 14), 1)                           # now 51 a day
    site.add(at(DAY, 9), "Project updated")                       # but the day holds a record
    site.load()
    assert site.run("audit_gap") == []


def test_audit_gap_day_in_progress_is_not_judged(site):
    today = dt.datetime.now(dt.timezone.utc).date()
    busy(site, days_before(today, 14), 60)
    site.load(extra_days=[today])
    assert site.run("audit_gap", today) == []


def test_all_rules_silent_on_quiet_month(site):
    for actor, ip, hours in ((ALICE, ADMIN_IP, (8, 17)), (BOB, "10.20.0.30", (9, 18)), (MALLORY, "198.51.100.7", (7, 16))):
        site.routine(days_before(DAY, 35) + [DAY], actor=actor, ip=ip, per_day=6, hours=hours)
        site.add_to_group(at(DAY - dt.timedelta(days=5), hours[0] + 1), "acct-dev", "developers", actor=actor, ip=ip)
        site.add_to_group(at(DAY, hours[0] + 1), "acct-dev2", "qa-team", actor=actor, ip=ip)
    site.load()
    assert site.run_all() == []
    assert group_item  # shared import


