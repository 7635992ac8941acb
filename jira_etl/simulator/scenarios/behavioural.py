"""Section B of detections.md: sequences, bursts and behaviour against the actor's
history (escalation chains, mass removals and deletions, config bursts, new IPs, off
hours, rare actions, dormant returns, security scheme removal, the audit gap)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from ..data import NORMAL_GROUPS, SECURITY_SCHEMES, WORKFLOW_SCHEMES, WORKFLOWS, SiteData, user_item
from .cast import (_add, _added_to_group, _created, _finish, _group, _new_user, _project, _scheme,
                   actors)
from .planted import Planted


def plant_privilege_escalation_chain(data: SiteData, at: datetime, gap_min: int = 12,
                                     reactivate: bool = False) -> Planted:
    """A config admin creates an account (or, with ``reactivate``, re-activates a
    deactivated one: "User updated", Active false -> true) and ``gap_min`` minutes
    later adds it to site-admins. Also trips new_user_created / new_site_admin."""
    c = actors(data)
    a = c["config1"]
    if reactivate:
        new = next(u for u in data.user_objects() if u.role == "inactive")
        first = _add(data, at, a, "User updated", "user management", user_item(new),
                     [{"fieldName": "Active", "changedFrom": "false", "changedTo": "true"}])
    else:
        new = _new_user(data, "svc-backup-admin", ip=None)
        first = _created(data, a, at, new)
    second = _added_to_group(data, at + timedelta(minutes=gap_min), a, new, "site-admins")
    return _finish(data, Planted("privilege_escalation_chain", {first["id"], second["id"]},
                                 at.date()))


def plant_mass_user_removal(data: SiteData, at: datetime, n_removed: int = 8,
                            n_deleted: int = 4, span_min: int = 10) -> Planted:
    """A people admin removes ``n_removed`` memberships ("User removed from group") and
    deletes ``n_deleted`` users ("User deleted") within ``span_min`` minutes (12 >= 10).
    The removals also trip user_removed_from_group."""
    c = actors(data)
    a = c["people2"]
    targets = c["targets"]
    n = n_removed + n_deleted
    ids = set()
    for i in range(n):
        when = at + timedelta(seconds=span_min * 60 * i / max(1, n - 1))
        u = targets[i % len(targets)]
        if i < n_removed:
            r = _add(data, when, a, "User removed from group", "group management",
                     _group(NORMAL_GROUPS[i % len(NORMAL_GROUPS)]), assoc=[user_item(u)])
        else:
            r = _add(data, when, a, "User deleted", "user management", user_item(u))
        ids.add(r["id"])
    return _finish(data, Planted("mass_user_removal", ids, at.date()))


def plant_mass_deletion(data: SiteData, at: datetime, n: int = 6,
                        span_min: int = 40) -> Planted:
    """A config admin deletes ``n`` projects, workflows and schemes within ``span_min``
    minutes (no permission/security schemes, so no other rule is involved)."""
    a = actors(data)["config3"]
    kinds = [("Project deleted", "projects", lambda i: _project(i)),
             ("Workflow deleted", "workflows",
              lambda i: {"name": WORKFLOWS[i % len(WORKFLOWS)], "typeName": "WORKFLOW"}),
             ("Workflow scheme deleted", "workflows",
              lambda i: _scheme(WORKFLOW_SCHEMES[i % len(WORKFLOW_SCHEMES)], str(10100 + i))),
             ("Field Configuration scheme deleted", "fields",
              lambda i: _scheme(f"Field Scheme {i}", str(10400 + i))),
             ("Notification scheme deleted", "notifications",
              lambda i: _scheme(f"Notification Scheme {i}", str(10500 + i)))]
    ids = set()
    for i in range(n):
        s, cat, obj = kinds[i % len(kinds)]
        when = at + timedelta(seconds=span_min * 60 * i / max(1, n - 1))
        ids.add(_add(data, when, a, s, cat, obj(i))["id"])
    return _finish(data, Planted("mass_deletion", ids, at.date()))


def plant_config_change_burst(data: SiteData, at: datetime, n: int = 35,
                              span_min: int = 45) -> Planted:
    """A config admin makes ``n`` configuration changes (workflow/status/field/project
    updates, no deletions) within ``span_min`` minutes: far above max(20, mean+4sd)
    of its ~5 per hour background."""
    a = actors(data)["config1"]
    kinds = [("Workflow updated", "workflows", lambda i: {"name": WORKFLOWS[i % 7],
                                                          "typeName": "WORKFLOW"}),
             ("Status updated", "workflows", lambda i: {"id": str(1 + i % 9),
                                                        "name": f"Status {i % 9}",
                                                        "typeName": "STATUS"}),
             ("Field Configuration scheme updated", "fields",
              lambda i: _scheme(f"Field Scheme {i % 4}", str(10400 + i % 4))),
             ("Project updated", "projects", lambda i: _project(i))]
    ids = set()
    for i in range(n):
        s, cat, obj = kinds[i % len(kinds)]
        when = at + timedelta(seconds=span_min * 60 * i / max(1, n - 1))
        ids.add(_add(data, when, a, s, cat, obj(i),
                     [{"fieldName": "Description", "changedFrom": f"v{i}",
                       "changedTo": f"v{i + 1}"}])["id"])
    return _finish(data, Planted("config_change_burst", ids, at.date()))


NEW_IP = "45.83.220.17"


def plant_new_ip_for_actor(data: SiteData, at: datetime, ip: str = NEW_IP) -> Planted:
    """An established config admin makes two ordinary changes from an IP it has never
    used (its background IP is fixed)."""
    a = actors(data)["config2"]
    r1 = _add(data, at, a, "Workflow updated", "workflows",
              {"name": WORKFLOWS[2], "typeName": "WORKFLOW"}, ip=ip)
    r2 = _add(data, at + timedelta(minutes=3), a, "Project updated", "projects", _project(2),
              [{"fieldName": "Description", "changedFrom": "a", "changedTo": "b"}], ip=ip)
    return _finish(data, Planted("new_ip_for_actor", {r1["id"], r2["id"]}, at.date()))


def plant_off_hours_admin_activity(data: SiteData, at: datetime) -> Planted:
    """A people admin (hours 08-17 UTC, hundreds of events of history) makes user and
    group management changes at ``at`` (meant to be ~02:30 UTC), from its usual IP."""
    c = actors(data)
    a = c["people1"]
    u = c["targets"][11]
    r1 = _add(data, at, a, "User updated", "user management", user_item(u),
              [{"fieldName": "Email", "changedFrom": "old@example.com",
                "changedTo": "new@example.net"}])
    r2 = _added_to_group(data, at + timedelta(minutes=4), a, u, "developers")
    return _finish(data, Planted("off_hours_admin_activity", {r1["id"], r2["id"]}, at.date()))


def plant_rare_action_for_actor(data: SiteData, at: datetime) -> Planted:
    """An established config admin does something sensitive it never did before:
    "Issue Security scheme added to project" (category permissions)."""
    a = actors(data)["config2"]
    r = _add(data, at, a, "Issue Security scheme added to project", "permissions",
             _scheme(SECURITY_SCHEMES[1], "10600"), assoc=[_project(9)])
    return _finish(data, Planted("rare_action_for_actor", {r["id"]}, at.date()))


def plant_dormant_actor_returns(data: SiteData, at: datetime, silent_days: int = 40) -> Planted:
    """An admin account absent from the background (Farah Haddad) did a few admin
    changes ``silent_days`` days earlier (setup), then returns at ``at`` with user and
    group management changes, from its usual IP, in working hours."""
    c = actors(data)
    f = c["dormant"]
    before = at - timedelta(days=silent_days)
    setup = {_add(data, before, f, "Project updated", "projects", _project(1),
                  [{"fieldName": "Description", "changedFrom": "x", "changedTo": "y"}])["id"],
             _add(data, before + timedelta(minutes=7), f, "Group created", "group management",
                  _group("team-audit-review"))["id"]}
    r1 = _add(data, at, f, "Group created", "group management", _group("team-shadow"))
    r2 = _add(data, at + timedelta(minutes=5), f, "User updated", "user management",
              user_item(c["targets"][12]),
              [{"fieldName": "Full name", "changedFrom": "x", "changedTo": "y"}])
    return _finish(data, Planted("dormant_actor_returns", {r1["id"], r2["id"]}, at.date(),
                                 setup_ids=setup))


def plant_security_scheme_removed(data: SiteData, at: datetime) -> Planted:
    """A config admin deletes an issue security scheme ("Issue Security scheme
    deleted")."""
    a = actors(data)["config1"]
    r = _add(data, at, a, "Issue Security scheme deleted", "permissions",
             _scheme(SECURITY_SCHEMES[2], "10601"))
    return _finish(data, Planted("security_scheme_removed", {r["id"]}, at.date()))


def plant_audit_gap(data: SiteData, at: datetime | date) -> Planted:
    """The UTC day of ``at`` holds zero records (after 14 busy days of background).
    Same as ``SiteData(silent_days={day})``. No record ids: the finding is the day."""
    d = at.date() if isinstance(at, datetime) else at
    data.silence_day(d)
    return Planted("audit_gap", set(), d)
