"""End-to-end evaluation: a simulated site over real HTTP, 45 days of clean background
with one planted scenario per detection, the full pipeline (extract -> load -> findings)
in one dg.materialize range run, then TP / FP / misses per detection.

Fails on any miss and on any finding over the clean background. The scenarios here are
planted through SiteData.add_record; jira_etl/simulator/scenarios.py (the simulator's
own catalogue of scenarios) is evaluated the same way when it is present.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from jira_etl.definitions import connector_assets
from jira_etl.detections import catalogue
from jira_etl.detections.evaluation import Planted, failures, score, table
from jira_etl.resources import JiraResource, StorageResource
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
END = dt.date(2026, 3, 31)
START = END - dt.timedelta(days=44)
GAP_DAY = END - dt.timedelta(days=35)  # a Tuesday without planted records


def t(day_offset: int, hh: int, mm: int = 0) -> dt.datetime:
    """A time on the day `day_offset` days before END."""
    d = END - dt.timedelta(days=day_offset)
    return dt.datetime(d.year, d.month, d.day, hh, mm, tzinfo=UTC)


def _user(u):
    return {"id": u.accountId, "name": u.accountId, "typeName": "USER", "parentId": "10000",
            "parentName": "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"}


def _group(name):
    return {"name": name, "typeName": "GROUP", "parentId": "10000",
            "parentName": "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"}


def plant(site: SiteData) -> list[Planted]:
    admins = site.admins()
    a0, a1, a2, a3, a4 = admins[:5]
    users = site.regular_users()
    farah = next(u for u in site.user_objects() if u.displayName == "Farah Haddad")
    scenarios: list[Planted] = []

    def rec(when, actor, summary, category, remote=None, **fields):
        extra = {"remoteAddress": remote} if remote else {}
        return site.add_record(when, actor=actor, summary=summary, category=category, **fields, **extra)["id"]

    def planted(name, dets, ids, days=()):
        scenarios.append(Planted(name, frozenset(dets), frozenset(ids), frozenset(days)))

    planted("global_permission", {"global_permission_added", "rare_action_for_actor"}, [
        rec(t(12, 10), a1, "Global permission added", "permissions",
            objectItem={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"}, associatedItems=[_group("contractors")])])
    planted("new_admin", {"new_site_admin"}, [
        rec(t(11, 11), a0, "User added to group", "group management",
            objectItem=_group("jira-administrators"), associatedItems=[_user(users[0])])])
    add_id = rec(t(10, 10), a0, "User added to group", "group management",
                 objectItem=_group("site-admins"), associatedItems=[_user(users[1])])
    pw_id = rec(t(5, 14), users[1], "User's password changed", "user management", objectItem=_user(users[1]))
    planted("admin_password", {"site_admin_password_changed", "new_site_admin"}, [add_id, pw_id])
    hire = site.add_user("Nina Newhire")
    planted("new_user", {"new_user_created"}, [
        rec(t(9, 9, 30), a2, "User created", "user management", objectItem=_user(hire))])
    planted("perm_scheme", {"permission_scheme_changed"}, [
        rec(t(9, 12), a3, "Permission scheme updated", "permissions",
            objectItem={"id": "10200", "name": "Default Permission Scheme", "typeName": "SCHEME"})])
    planted("roles", {"project_roles_changed"}, [
        rec(t(8, 13), a1, "Project roles changed", "projects",
            objectItem={"id": "10002", "name": "Administrators", "typeName": "PROJECT_ROLE", "parentName": "Website"})])
    planted("pw_many_ips", {"password_changed_from_many_ips"}, [
        rec(t(8, 15, 0), users[2], "User's password changed", "user management", objectItem=_user(users[2])),
        rec(t(8, 15, 12), users[2], "User's password changed", "user management", remote="192.0.2.50",
            objectItem=_user(users[2]))])
    planted("removed_group", {"user_removed_from_group"}, [
        rec(t(7, 10), a0, "User removed from group", "group management",
            objectItem=_group("developers"), associatedItems=[_user(users[3])])])
    planted("removed_project", {"user_removed_from_project"}, [
        rec(t(7, 11), a2, "User removed from project", "projects", objectItem=_user(users[4]),
            associatedItems=[{"id": "10003", "name": "Payments", "typeName": "PROJECT"}])])
    planted("wf_copied", {"workflow_scheme_copied"}, [
        rec(t(7, 12), a3, "Workflow scheme copied", "workflows",
            objectItem={"id": "10101", "name": "Software Workflow Scheme", "typeName": "SCHEME"})])
    backdoor = site.add_user("Svc Backup")
    planted("escalation", {"privilege_escalation_chain", "new_user_created", "new_site_admin"}, [
        rec(t(6, 10), a4, "User created", "user management", objectItem=_user(backdoor)),
        rec(t(6, 10, 25), a4, "User added to group", "group management",
            objectItem=_group("site-admins"), associatedItems=[_user(backdoor)])])
    planted("mass_removal", {"mass_user_removal", "user_removed_from_group"}, [
        rec(t(6, 14, i), a1, "User removed from group", "group management",
            objectItem=_group("jira-software-users"), associatedItems=[_user(users[5 + i])]) for i in range(12)])
    kinds = [("Workflow deleted", "workflows", {"name": "Bug Workflow", "typeName": "WORKFLOW"}),
             ("Project deleted", "projects", {"id": "10005", "name": "Operations", "typeName": "PROJECT"}),
             ("Field Configuration scheme deleted", "fields", {"id": "10110", "name": "Ops Field Scheme", "typeName": "SCHEME"}),
             ("Workflow scheme deleted", "workflows", {"id": "10103", "name": "Ops Workflow Scheme", "typeName": "SCHEME"}),
             ("Custom field deleted", "fields", {"id": "customfield_10018", "name": "Cost Center", "typeName": "CUSTOM_FIELD"}),
             ("Notification scheme deleted", "notifications", {"id": "10120", "name": "Ops Paging", "typeName": "SCHEME"})]
    planted("mass_deletion", {"mass_deletion"}, [
        rec(t(5, 11, 7 * i), a2, s, c, objectItem=o) for i, (s, c, o) in enumerate(kinds)])
    planted("config_burst", {"config_change_burst"}, [
        rec(t(4, 13, i), a3, "Workflow updated", "workflows",
            objectItem={"name": "Release Workflow", "typeName": "WORKFLOW"}) for i in range(30)])
    planted("new_ip", {"new_ip_for_actor"}, [
        rec(t(4, 10), a4, "Project updated", "projects", remote="192.0.2.77",
            objectItem={"id": "10001", "name": "Website", "typeName": "PROJECT"})])
    planted("off_hours", {"off_hours_admin_activity"}, [
        rec(t(3, 2, 30), a0, "User added to group", "group management",
            objectItem=_group("qa-team"), associatedItems=[_user(users[6])])])
    planted("rare_action", {"rare_action_for_actor"}, [
        rec(t(3, 11), a2, "Issue Security scheme added to project", "permissions",
            objectItem={"id": "10300", "name": "Confidential Issues", "typeName": "SCHEME"},
            associatedItems=[{"id": "10008", "name": "Payments", "typeName": "PROJECT"}])])
    planted("dormant", {"dormant_actor_returns"}, [
        rec(t(2, 10), farah, "Project updated", "projects",
            objectItem={"id": "10004", "name": "Security Engineering", "typeName": "PROJECT"})])
    planted("security_scheme", {"security_scheme_removed", "rare_action_for_actor"}, [
        rec(t(2, 14), a1, "Issue Security scheme deleted", "permissions",
            objectItem={"id": "10301", "name": "HR Restricted", "typeName": "SCHEME"})])
    planted("audit_gap", {"audit_gap"}, [], [GAP_DAY])
    # A located actor: 20 days from a GB address, then one change from a CN address.
    traveller = site.add_user("Tara Traveller", ip="81.2.69.160")
    history = [rec(t(30 - i, 11), traveller, "Project updated", "projects",
                   objectItem={"id": "10001", "name": "Website", "typeName": "PROJECT"}) for i in range(20)]
    planted("new_country", {"new_country_or_network_for_actor", "new_ip_for_actor"}, history + [
        rec(t(1, 11), traveller, "Project updated", "projects", remote="175.16.199.1",
            objectItem={"id": "10001", "name": "Website", "typeName": "PROJECT"})])
    return scenarios


def run_pipeline(site, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance, JiraSimulator(site, faults=Faults()) as sim:
        result = dg.materialize(
            connector_assets("acme"),
            resources={"jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token,
                                                 backoff_base_s=0.01, backoff_max_s=0.05),
                       "storage": StorageResource(data_dir=str(tmp_path / "data"))},
            instance=instance,
            tags={"dagster/asset_partition_range_start": START.isoformat(),
                  "dagster/asset_partition_range_end": END.isoformat()},
            raise_on_error=False,
        )
    assert result.success
    with duckdb.connect(str(tmp_path / "data" / "jira_audit.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM findings WHERE connector = 'acme'")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture
def planted_month(monkeypatch):
    monkeypatch.setenv("JIRA_ETL_START_DATE", "2026-01-01")
    site = SiteData(seed=7, start=START, clock=lambda: dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), UTC),
                    silent_days=[GAP_DAY])
    return site, plant(site)


def test_every_planted_scenario_found_and_nothing_on_the_clean_background(planted_month, tmp_path, capsys):
    site, scenarios = planted_month
    found = run_pipeline(site, tmp_path)
    scores = score(found, scenarios, [d.id for d in catalogue.load_catalogue()])
    with capsys.disabled():
        print("\n" + table(scores))
    assert failures(scores) == []
    assert all(s.tp >= 1 for s in scores.values()), "every detection has a planted scenario"
