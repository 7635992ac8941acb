"""Section A: each single-event rule fires on its event and stays silent on near-misses."""

from __future__ import annotations

import datetime as dt

from det_helpers import ADMIN_IP, ALICE, BOB, DAY, MALLORY, at, days_before, group_item, project_item, user_item


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_clean_day_is_silent_for_every_rule(site):
    site.routine(days_before(DAY, 20) + [DAY], actor=ALICE, per_day=8)
    site.routine(days_before(DAY, 20) + [DAY], actor=BOB, per_day=5, ip="10.20.0.30",
                 summary="Workflow updated", category="workflows")
    site.add_to_group(at(DAY, 10), "acct-dev", "developers")
    site.add(at(DAY, 11), "Project version released", "projects", obj={"name": "1.2.0", "typeName": "VERSION"})
    site.add(at(DAY, 12), "Workflow deleted", "workflows", obj={"name": "Bug Workflow", "typeName": "WORKFLOW"})
    site.load()
    assert site.run_all() == []


def test_global_permission_added(site):
    rid = site.add(at(DAY, 10), "Global permission added", "permissions", actor=MALLORY,
                   obj={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"}, assoc=[group_item("contractors")])
    site.add(at(DAY, 11), "Global permission removed", "permissions", obj={"name": "Browse users"})
    site.load()
    found = site.run("global_permission_added")
    assert ids(found) == [[rid]]
    assert found[0]["severity"] == "medium" and "Administer Jira" in found[0]["message"]
    assert "contractors" in found[0]["message"]
    assert site.run("global_permission_added", DAY - dt.timedelta(days=1)) == []


def test_new_site_admin_fires_on_admin_groups_only(site):
    a = site.add_to_group(at(DAY, 9), "acct-x", "site-admins")
    b = site.add_to_group(at(DAY, 9, 5), "acct-y", "Jira-Administrators")
    site.add_to_group(at(DAY, 9, 10), "acct-z", "site-admins-readonly")
    site.add_to_group(at(DAY, 9, 15), "acct-z", "developers")
    site.load()
    found = site.run("new_site_admin")
    assert sorted(ids(found)) == [[a], [b]]
    assert found[0]["severity"] == "high"
    assert found[0]["actor_account_id"] == ALICE
    # the list is a parameter
    assert ids(site.run("new_site_admin", admin_groups=["developers"])) != []


def test_site_admin_password_changed_within_14_days(site):
    add = site.add_to_group(at(DAY - dt.timedelta(days=13), 10), "acct-new-admin", "org-admins")
    pw = site.password_changed(at(DAY, 22), "acct-new-admin", ip="198.51.100.9")
    site.load()
    found = site.run("site_admin_password_changed")
    assert ids(found) == [sorted([add, pw])]
    assert "13 day" in found[0]["message"]


def test_site_admin_password_changed_near_misses(site):
    # added 15 days before: outside the 14-day window
    site.add_to_group(at(DAY - dt.timedelta(days=15), 10), "acct-old-admin", "site-admins")
    site.password_changed(at(DAY, 10), "acct-old-admin")
    # added to an ordinary group
    site.add_to_group(at(DAY - dt.timedelta(days=2), 10), "acct-dev", "developers")
    site.password_changed(at(DAY, 11), "acct-dev")
    # admin added after the password change
    site.password_changed(at(DAY, 8), "acct-later")
    site.add_to_group(at(DAY, 9), "acct-later", "site-admins")
    site.load()
    assert site.run("site_admin_password_changed") == []


def test_new_user_created_only_for_user_objects(site):
    rid = site.create_user(at(DAY, 10), "acct-joiner")
    site.add(at(DAY, 10, 1), "User created", "user management", obj={"name": "svc", "typeName": "APP"})
    site.add(at(DAY, 10, 2), "User updated", "user management", obj=user_item("acct-joiner"))
    site.load()
    assert ids(site.run("new_user_created")) == [[rid]]


def test_permission_scheme_changed(site):
    a = site.add(at(DAY, 10), "Permission scheme updated", "permissions", obj={"name": "Default Permission Scheme", "typeName": "SCHEME"})
    b = site.add(at(DAY, 11), "Permission scheme deleted", "permissions", obj={"name": "Old", "typeName": "SCHEME"})
    c = site.add(at(DAY, 12), "Permission scheme added to project", "permissions",
                 obj={"name": "Restricted", "typeName": "SCHEME"}, assoc=[project_item("Payments")])
    site.add(at(DAY, 13), "Permission scheme created", "permissions", obj={"name": "New", "typeName": "SCHEME"})
    site.add(at(DAY, 13), "Workflow scheme updated", "workflows", obj={"name": "WS", "typeName": "SCHEME"})
    site.load()
    found = site.run("permission_scheme_changed")
    assert ids(found) == [[a], [b], [c]]
    assert "Payments" in found[2]["message"]


def test_project_roles_changed(site):
    rid = site.add(at(DAY, 10), "Project roles changed", "projects",
                   obj={"name": "Administrators", "typeName": "PROJECT_ROLE", "parentName": "Website"})
    site.add(at(DAY, 11), "Project role deleted", "projects", obj={"name": "Old role", "typeName": "PROJECT_ROLE"})
    site.load()
    assert ids(site.run("project_roles_changed")) == [[rid]]


def test_password_changed_from_many_ips(site):
    a = site.password_changed(at(DAY, 10, 0), "acct-victim", ip="198.51.100.9")
    b = site.password_changed(at(DAY, 10, 29), "acct-victim", ip="192.0.2.66")
    site.load()
    found = site.run("password_changed_from_many_ips")
    assert ids(found) == [[a, b]]
    assert "2 IPs" in found[0]["message"] and found[0]["severity"] == "high"


def test_password_changed_from_many_ips_near_misses(site):
    # two IPs but 31 minutes apart
    site.password_changed(at(DAY, 10, 0), "acct-a", ip="198.51.100.9")
    site.password_changed(at(DAY, 10, 31), "acct-a", ip="192.0.2.66")
    # same IP twice within minutes
    site.password_changed(at(DAY, 12, 0), "acct-b", ip="198.51.100.9")
    site.password_changed(at(DAY, 12, 5), "acct-b", ip="198.51.100.9")
    # two different users from two IPs
    site.password_changed(at(DAY, 14, 0), "acct-c", ip="198.51.100.9")
    site.password_changed(at(DAY, 14, 1), "acct-d", ip="192.0.2.66")
    site.load()
    assert site.run("password_changed_from_many_ips") == []


def test_user_removed_from_group_and_project(site):
    g = site.remove_from_group(at(DAY, 10), "acct-leaver", "developers")
    p = site.add(at(DAY, 11), "User removed from project", "projects",
                 obj=user_item("acct-leaver"), assoc=[project_item("Payments")])
    site.add_to_group(at(DAY, 12), "acct-leaver", "qa-team")
    site.load()
    assert ids(site.run("user_removed_from_group")) == [[g]]
    found = site.run("user_removed_from_project")
    assert ids(found) == [[p]] and "Payments" in found[0]["message"]


def test_workflow_scheme_copied(site):
    rid = site.add(at(DAY, 10), "Workflow scheme copied", "workflows", obj={"name": "Software Workflow Scheme", "typeName": "SCHEME"})
    site.add(at(DAY, 10), "Workflow scheme created", "workflows", obj={"name": "Copy", "typeName": "SCHEME"})
    site.load()
    assert ids(site.run("workflow_scheme_copied")) == [[rid]]


def test_records_outside_the_day_or_connector_are_ignored(site, tmp_path):
    site.add(at(DAY - dt.timedelta(days=1), 23, 59, 59, 999), "Global permission added", "permissions")
    site.add(at(DAY + dt.timedelta(days=1), 0, 0), "Global permission added", "permissions")
    site.load()
    assert site.run("global_permission_added") == []
    assert ADMIN_IP  # silence linters on the shared import
