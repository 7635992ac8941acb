"""Section A of detections.md: one planted record (or a few) that a single-event rule
must report: global permissions, admin groups, passwords, new users, schemes, roles,
removals."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..data import PERMISSION_SCHEMES, WORKFLOW_SCHEMES, SiteData, user_item
from .cast import (_add, _added_to_group, _created, _finish, _group, _new_user, _project, _scheme,
                   actors)
from .planted import Planted


def plant_global_permission_added(data: SiteData, at: datetime) -> Planted:
    """A config admin grants the "Administer Jira" global permission to a broad group
    (contractors): one "Global permission added" record (category permissions)."""
    a = actors(data)["config1"]
    r = _add(data, at, a, "Global permission added", "permissions",
             {"id": "ADMINISTER", "name": "Administer Jira", "typeName": "PERMISSION"},
             [{"fieldName": "Permission", "changedTo": "Administer Jira"}],
             [_group("contractors")])
    return _finish(data, Planted("global_permission_added", {r["id"]}, at.date()))


def plant_new_site_admin(data: SiteData, at: datetime, group: str = "site-admins") -> Planted:
    """A config admin adds an existing regular user to an admin group
    ("User added to group", objectItem.name = site-admins)."""
    c = actors(data)
    target = c["targets"][3]
    r = _added_to_group(data, at, c["config2"], target, group)
    return _finish(data, Planted("new_site_admin", {r["id"]}, at.date()))


def plant_site_admin_password_changed(data: SiteData, at: datetime,
                                      added_days_before: int = 3) -> Planted:
    """A regular user is added to jira-administrators ``added_days_before`` days earlier
    (setup; itself a new_site_admin finding), then the user's password is changed
    (one "User's password changed" record by the user, from the user's usual IP)."""
    c = actors(data)
    target = c["targets"][5]
    setup = _added_to_group(data, at - timedelta(days=added_days_before), c["config3"],
                            target, "jira-administrators")
    r = _add(data, at, target, "User's password changed", "user management",
             user_item(target), [{"fieldName": "Password", "changedTo": "*****"}])
    return _finish(data, Planted("site_admin_password_changed", {r["id"]}, at.date(),
                                 setup_ids={setup["id"]}))


def plant_new_user_created(data: SiteData, at: datetime) -> Planted:
    """A people admin creates a new account ("User created", objectItem.typeName USER)."""
    c = actors(data)
    new = _new_user(data, "Nina Fischer", ip="198.51.100.201")
    r = _created(data, c["people1"], at, new)
    return _finish(data, Planted("new_user_created", {r["id"]}, at.date()))


def plant_permission_scheme_changed(data: SiteData, at: datetime) -> Planted:
    """A config admin opens "Browse Projects" to everyone in a permission scheme
    ("Permission scheme updated")."""
    a = actors(data)["config1"]
    r = _add(data, at, a, "Permission scheme updated", "permissions",
             _scheme(PERMISSION_SCHEMES[1], "10200"),
             [{"fieldName": "Browse Projects", "changedFrom": "jira-software-users",
               "changedTo": "Anyone on the web"}])
    return _finish(data, Planted("permission_scheme_changed", {r["id"]}, at.date()))


def plant_project_roles_changed(data: SiteData, at: datetime) -> Planted:
    """A config admin changes the Administrators role of a project ("Project roles
    changed", objectItem PROJECT_ROLE, category projects)."""
    a = actors(data)["config3"]
    u = actors(data)["targets"][7]
    r = _add(data, at, a, "Project roles changed", "projects",
             {"id": "10002", "name": "Administrators", "typeName": "PROJECT_ROLE"},
             [{"fieldName": "Users", "changedFrom": "", "changedTo": u.accountId}],
             [_project(4)])
    return _finish(data, Planted("project_roles_changed", {r["id"]}, at.date()))


def plant_password_changed_from_many_ips(data: SiteData, at: datetime,
                                         n_ips: int = 3, span_min: int = 20) -> Planted:
    """One user's password is changed ``n_ips`` times within ``span_min`` minutes from
    distinct IPs (the user's usual one, then unfamiliar ones): account takeover.
    The unfamiliar-IP records also trip new_ip_for_actor (see ``also``)."""
    u = actors(data)["targets"][8]
    ips = [u.ip] + [f"185.220.101.{40 + i}" for i in range(n_ips - 1)]
    ids = set()
    for i, ip in enumerate(ips):
        when = at + timedelta(minutes=span_min * i / max(1, n_ips - 1))
        ids.add(_add(data, when, u, "User's password changed", "user management",
                     user_item(u), [{"fieldName": "Password", "changedTo": "*****"}],
                     ip=ip)["id"])
    return _finish(data, Planted("password_changed_from_many_ips", ids, at.date()))


def plant_user_removed_from_group(data: SiteData, at: datetime) -> Planted:
    """A people admin removes a user from a normal group ("User removed from group")."""
    c = actors(data)
    r = _add(data, at, c["people1"], "User removed from group", "group management",
             _group("qa-team"), assoc=[user_item(c["targets"][9])])
    return _finish(data, Planted("user_removed_from_group", {r["id"]}, at.date()))


def plant_user_removed_from_project(data: SiteData, at: datetime) -> Planted:
    """A people admin removes a user from a project ("User removed from project")."""
    c = actors(data)
    r = _add(data, at, c["people2"], "User removed from project", "projects",
             _project(6), [{"fieldName": "Role", "changedFrom": "Developers"}],
             [user_item(c["targets"][10])])
    return _finish(data, Planted("user_removed_from_project", {r["id"]}, at.date()))


def plant_workflow_scheme_copied(data: SiteData, at: datetime) -> Planted:
    """A config admin copies a workflow scheme ("Workflow scheme copied")."""
    a = actors(data)["config3"]
    src = WORKFLOW_SCHEMES[1]
    r = _add(data, at, a, "Workflow scheme copied", "workflows",
             _scheme(f"Copy of {src}", "10310"),
             [{"fieldName": "Name", "changedFrom": src, "changedTo": f"Copy of {src}"}])
    return _finish(data, Planted("workflow_scheme_copied", {r["id"]}, at.date()))
