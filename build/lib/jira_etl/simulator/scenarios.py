"""Planted attack scenarios with ground truth, for the detections of detections.md.

Every ``plant_<detection_id>(data, at)`` injects records into a :class:`SiteData` at the
UTC datetime ``at`` and returns a :class:`Planted` naming the records the detection must
report.  ``plant_month`` plants every scenario on distinct weekdays of a month over the
clean realistic background (see data.py), and ``near_miss_*`` helpers plant activity
just under a threshold (``Planted.negative`` is True: the rule must stay silent).

Ground truth and collateral
    ``Planted.record_ids`` are the planted records the detection must report (a
    finding may add background records of the same actor and window; match findings
    to truth by overlap).  ``Planted.setup_ids`` are preconditions (history, an earlier
    admin-group add) that are not themselves the finding.  Some scenarios inherently
    trip other rules (a privilege escalation contains a "User created" and an
    admin-group add): ``Planted.also`` maps those detection ids to the record ids
    expected to fire them.  ``also`` is computed by :func:`annotate` from the planted
    records only (the background trips nothing), assuming:

    * the single-event rules of section A match on summary (and admin group name);
    * rare_action_for_actor fires when the actor has at least one event in the
      previous 30 days, none with the same summary, and the record is sensitive
      (:data:`SENSITIVE_SUMMARIES`, or "User added to group"/"removed from group" on an
      admin group);
    * new_ip_for_actor fires when the actor has at least one event in the previous
      30 days and none from that remoteAddress.

    Scenario actors act inside their usual hours and from their usual IP unless the
    scenario is about hours or IPs, and bursts stay under 20 events per actor-hour
    unless the scenario is the burst.

Evaluation range
    Behavioural rules need history: ingest ``evaluation_range(start_day, days)``, i.e.
    from 30 days before ``start_day`` (the dormant scenario's earlier activity lies
    there too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

from .data import (ADMIN_GROUPS, DIRECTORY_PARENT, NORMAL_GROUPS, PERMISSION_SCHEMES,
                   PROJECTS, SECURITY_SCHEMES, WORKFLOW_SCHEMES, WORKFLOWS, SiteData, User,
                   _user_item, day_start_ms, from_ms, ms_day, parse_created, to_ms_floor)

UTC = timezone.utc

DETECTION_IDS = (
    "global_permission_added", "new_site_admin", "site_admin_password_changed",
    "new_user_created", "permission_scheme_changed", "project_roles_changed",
    "password_changed_from_many_ips", "user_removed_from_group",
    "user_removed_from_project", "workflow_scheme_copied", "privilege_escalation_chain",
    "mass_user_removal", "mass_deletion", "config_change_burst", "new_ip_for_actor",
    "off_hours_admin_activity", "rare_action_for_actor", "dormant_actor_returns",
    "security_scheme_removed", "audit_gap")

# Summaries rare_action_for_actor treats as sensitive (plus admin-group membership).
SENSITIVE_SUMMARIES = frozenset({
    "Global permission added", "Global permission deleted",
    "Permission scheme updated", "Permission scheme deleted",
    "Permission scheme added to project", "Permission scheme removed from project",
    "Issue Security scheme added to project", "Issue Security scheme removed from project",
    "Issue Security scheme deleted", "Audit log settings changed"})

# Single-event rules of section A: summary -> detection id.
SUMMARY_RULES = {
    "Global permission added": "global_permission_added",
    "User created": "new_user_created",
    "Permission scheme updated": "permission_scheme_changed",
    "Permission scheme deleted": "permission_scheme_changed",
    "Permission scheme added to project": "permission_scheme_changed",
    "Project roles changed": "project_roles_changed",
    "User removed from group": "user_removed_from_group",
    "User removed from project": "user_removed_from_project",
    "Workflow scheme copied": "workflow_scheme_copied",
}
SECURITY_REMOVAL = {"Issue Security scheme deleted", "Issue Security scheme removed from project",
                    "Permission scheme deleted"}


@dataclass
class Planted:
    detection_id: str
    record_ids: set[int]
    day: date
    setup_ids: set[int] = field(default_factory=set)
    also: dict[str, set[int]] = field(default_factory=dict)
    negative: bool = False
    note: str = ""


# --------------------------------------------------------------------------- helpers
def _dt(d: date, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute, second, ms * 1000), tzinfo=UTC)


def _by_name(data: SiteData, name: str) -> User:
    for u in data.user_objects():
        if u.displayName == name:
            return u
    raise KeyError(name)


def actors(data: SiteData) -> dict[str, User]:
    """The cast: background admins by role in the scenarios, plus target users."""
    a = {u.displayName: u for u in data.admins()}
    people = [u for u in data.admins() if u.people_admin]
    config = [u for u in data.admins() if not u.people_admin]
    regular = data.regular_users()
    return {"people1": people[0], "people2": people[1], "config1": config[0],
            "config2": config[1], "config3": config[2],
            "dormant": _by_name(data, "Farah Haddad"),
            "targets": regular, **a}


def _add(data: SiteData, when: datetime, actor: User | None, summary: str, category: str,
         obj: dict, changed=None, assoc=None, ip: str | None = None, **extra) -> dict:
    fields = dict(summary=summary, category=category, objectItem=obj,
                  changedValues=changed or [], associatedItems=assoc or [], **extra)
    if ip is not None:
        fields["remoteAddress"] = ip
    return data.add_record(when, actor=actor, **fields)


def _group(name: str) -> dict:
    return {"name": name, "typeName": "GROUP", "parentId": DIRECTORY_PARENT[0],
            "parentName": DIRECTORY_PARENT[1]}


def _scheme(name: str, sid: str) -> dict:
    return {"id": sid, "name": name, "typeName": "SCHEME"}


def _project(i: int) -> dict:
    pid, key, name = PROJECTS[i % len(PROJECTS)]
    return {"id": pid, "name": name, "typeName": "PROJECT"}


def _new_user(data: SiteData, name: str, ip: str | None = None) -> User:
    return data.add_user(name, ip=ip, role="planted")


def _created(data: SiteData, creator: User, when: datetime, new: User) -> dict:
    return _add(data, when, creator, "User created", "user management", _user_item(new),
                [{"fieldName": "Full name", "changedTo": new.displayName},
                 {"fieldName": "Email", "changedTo": new.emailAddress or ""},
                 {"fieldName": "Active", "changedTo": "true"}])


def _added_to_group(data, when, actor, user: User, group: str) -> dict:
    return _add(data, when, actor, "User added to group", "group management", _group(group),
                assoc=[_user_item(user)])


def _finish(data: SiteData, p: Planted) -> Planted:
    annotate(data, [p])
    return p


# --------------------------------------------------------------------------- section A
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
             _user_item(target), [{"fieldName": "Password", "changedTo": "*****"}])
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
                     _user_item(u), [{"fieldName": "Password", "changedTo": "*****"}],
                     ip=ip)["id"])
    return _finish(data, Planted("password_changed_from_many_ips", ids, at.date()))


def plant_user_removed_from_group(data: SiteData, at: datetime) -> Planted:
    """A people admin removes a user from a normal group ("User removed from group")."""
    c = actors(data)
    r = _add(data, at, c["people1"], "User removed from group", "group management",
             _group("qa-team"), assoc=[_user_item(c["targets"][9])])
    return _finish(data, Planted("user_removed_from_group", {r["id"]}, at.date()))


def plant_user_removed_from_project(data: SiteData, at: datetime) -> Planted:
    """A people admin removes a user from a project ("User removed from project")."""
    c = actors(data)
    r = _add(data, at, c["people2"], "User removed from project", "projects",
             _project(6), [{"fieldName": "Role", "changedFrom": "Developers"}],
             [_user_item(c["targets"][10])])
    return _finish(data, Planted("user_removed_from_project", {r["id"]}, at.date()))


def plant_workflow_scheme_copied(data: SiteData, at: datetime) -> Planted:
    """A config admin copies a workflow scheme ("Workflow scheme copied")."""
    a = actors(data)["config3"]
    src = WORKFLOW_SCHEMES[1]
    r = _add(data, at, a, "Workflow scheme copied", "workflows",
             _scheme(f"Copy of {src}", "10310"),
             [{"fieldName": "Name", "changedFrom": src, "changedTo": f"Copy of {src}"}])
    return _finish(data, Planted("workflow_scheme_copied", {r["id"]}, at.date()))


# --------------------------------------------------------------------------- section B
def plant_privilege_escalation_chain(data: SiteData, at: datetime, gap_min: int = 12,
                                     reactivate: bool = False) -> Planted:
    """A config admin creates an account (or, with ``reactivate``, re-activates a
    deactivated one: "User updated", Active false -> true) and ``gap_min`` minutes
    later adds it to site-admins. Also trips new_user_created / new_site_admin."""
    c = actors(data)
    a = c["config1"]
    if reactivate:
        new = next(u for u in data.user_objects() if u.role == "inactive")
        first = _add(data, at, a, "User updated", "user management", _user_item(new),
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
                     _group(NORMAL_GROUPS[i % len(NORMAL_GROUPS)]), assoc=[_user_item(u)])
        else:
            r = _add(data, when, a, "User deleted", "user management", _user_item(u))
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
    r1 = _add(data, at, a, "User updated", "user management", _user_item(u),
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
              _user_item(c["targets"][12]),
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


PLANTERS: dict[str, Callable[[SiteData, datetime], Planted]] = {
    "global_permission_added": plant_global_permission_added,
    "new_site_admin": plant_new_site_admin,
    "site_admin_password_changed": plant_site_admin_password_changed,
    "new_user_created": plant_new_user_created,
    "permission_scheme_changed": plant_permission_scheme_changed,
    "project_roles_changed": plant_project_roles_changed,
    "password_changed_from_many_ips": plant_password_changed_from_many_ips,
    "user_removed_from_group": plant_user_removed_from_group,
    "user_removed_from_project": plant_user_removed_from_project,
    "workflow_scheme_copied": plant_workflow_scheme_copied,
    "privilege_escalation_chain": plant_privilege_escalation_chain,
    "mass_user_removal": plant_mass_user_removal,
    "mass_deletion": plant_mass_deletion,
    "config_change_burst": plant_config_change_burst,
    "new_ip_for_actor": plant_new_ip_for_actor,
    "off_hours_admin_activity": plant_off_hours_admin_activity,
    "rare_action_for_actor": plant_rare_action_for_actor,
    "dormant_actor_returns": plant_dormant_actor_returns,
    "security_scheme_removed": plant_security_scheme_removed,
    "audit_gap": plant_audit_gap,
}

# Time of day (UTC) each scenario is planted at by plant_month: inside the actor's
# usual hours, except the off-hours one.
DEFAULT_TIMES = {
    "global_permission_added": (10, 17), "new_site_admin": (14, 5),
    "site_admin_password_changed": (11, 42), "new_user_created": (9, 31),
    "permission_scheme_changed": (13, 8), "project_roles_changed": (11, 20),
    "password_changed_from_many_ips": (10, 3), "user_removed_from_group": (15, 26),
    "user_removed_from_project": (12, 48), "workflow_scheme_copied": (14, 12),
    "privilege_escalation_chain": (9, 55), "mass_user_removal": (13, 30),
    "mass_deletion": (10, 40), "config_change_burst": (11, 5),
    "new_ip_for_actor": (15, 15), "off_hours_admin_activity": (2, 30),
    "rare_action_for_actor": (12, 2), "dormant_actor_returns": (11, 11),
    "security_scheme_removed": (13, 44), "audit_gap": (0, 0),
}


def evaluation_range(start_day: date, days: int = 30) -> tuple[date, date]:
    """(first, last) UTC day to ingest to evaluate a planted month (30 days of history
    before it, for the behavioural rules)."""
    return start_day - timedelta(days=30), start_day + timedelta(days=days - 1)


def plant_month(data: SiteData, start_day: date, days: int = 30) -> list[Planted]:
    """Plant every scenario on distinct days in [start_day, start_day + days), weekdays
    first (admins work weekdays), the dormant return in the second half, the audit gap
    on a weekday late in the month whose day and the day after hold no other scenario.
    Returns the primary Planted objects, annotated (``also``) in chronological order."""
    all_days = [start_day + timedelta(days=i) for i in range(days)]
    weekdays = [d for d in all_days if d.weekday() < 5]
    others = [d for d in all_days if d.weekday() >= 5]
    order = list(DETECTION_IDS)
    if len(all_days) < len(order) + 2:
        raise ValueError(f"need at least {len(order) + 2} days")
    pool = weekdays + others
    assignment: dict[str, date] = {}
    gap = next(d for d in reversed(weekdays) if d - timedelta(days=3) >= start_day)
    assignment["audit_gap"] = gap
    used = {gap, gap + timedelta(days=1)}
    dormant = next(d for d in pool if d not in used and (d - start_day).days >= 10)
    assignment["dormant_actor_returns"] = dormant
    used.add(dormant)
    for det in order:
        if det in assignment:
            continue
        d = next(d for d in pool if d not in used and (d - start_day).days >= (
            3 if det == "site_admin_password_changed" else 0))
        assignment[det] = d
        used.add(d)
    # silence first so no setup record lands on the gap day
    planted = []
    by_time = sorted(order, key=lambda k: (assignment[k], DEFAULT_TIMES[k]))
    gap_p = plant_audit_gap(data, assignment["audit_gap"])
    for det in by_time:
        if det == "audit_gap":
            planted.append(gap_p)
            continue
        h, m = DEFAULT_TIMES[det]
        p = PLANTERS[det](data, _dt(assignment[det], h, m))
        planted.append(p)
    annotate(data, planted)
    return planted


# --------------------------------------------------------------------------- near misses
def near_miss_mass_user_removal(data: SiteData, at: datetime, n: int = 9) -> Planted:
    """``n`` (default 9 < 10) removals/deletions within 15 minutes."""
    p = plant_mass_user_removal(data, at, n_removed=n - n // 3, n_deleted=n // 3, span_min=14)
    p.negative = True
    return p


def near_miss_mass_user_removal_spread(data: SiteData, at: datetime) -> Planted:
    """12 removals, but spread over 2 hours (never 10 within 15 minutes)."""
    p = plant_mass_user_removal(data, at, n_removed=8, n_deleted=4, span_min=120)
    p.negative = True
    return p


def near_miss_mass_deletion(data: SiteData, at: datetime) -> Planted:
    """4 deletions (< 5) within an hour."""
    p = plant_mass_deletion(data, at, n=4, span_min=30)
    p.negative = True
    return p


def near_miss_config_change_burst(data: SiteData, at: datetime) -> Planted:
    """10 planted changes in 45 minutes: with ~5/h background the hour stays <= 20."""
    p = plant_config_change_burst(data, at, n=10, span_min=45)
    p.negative = True
    return p


def near_miss_privilege_escalation_chain(data: SiteData, at: datetime) -> Planted:
    """Created, then added to site-admins 75 minutes later (> 60): only the single-event
    rules fire."""
    p = plant_privilege_escalation_chain(data, at, gap_min=75)
    p.negative = True
    return p


def near_miss_password_changed_from_many_ips(data: SiteData, at: datetime) -> Planted:
    """Two password changes from two IPs 45 minutes apart (> 30)."""
    p = plant_password_changed_from_many_ips(data, at, n_ips=2, span_min=45)
    p.negative = True
    return p


def near_miss_site_admin_password_changed(data: SiteData, at: datetime) -> Planted:
    """Password changed 16 days after the admin-group add (> 14)."""
    p = plant_site_admin_password_changed(data, at, added_days_before=16)
    p.negative = True
    return p


def near_miss_dormant_actor_returns(data: SiteData, at: datetime) -> Planted:
    """Returns after 28 days (< 30)."""
    p = plant_dormant_actor_returns(data, at, silent_days=28)
    p.negative = True
    return p


def near_miss_new_site_admin(data: SiteData, at: datetime) -> Planted:
    """Added to a group whose name merely contains 'admin' (not in the admin list)."""
    p = plant_new_site_admin(data, at, group="site-admins-readonly")
    p.negative = True
    p.detection_id = "new_site_admin"
    return p


def near_miss_new_ip_for_actor(data: SiteData, at: datetime) -> Planted:
    """Same changes as the new-IP scenario but from the actor's usual IP."""
    a = actors(data)["config2"]
    p = plant_new_ip_for_actor(data, at, ip=a.ip)
    p.negative = True
    return p


def near_miss_off_hours_admin_activity(data: SiteData, d: date) -> Planted:
    """The off-hours scenario's changes at 16:30 UTC, inside the actor's hours."""
    p = plant_off_hours_admin_activity(data, _dt(d, 16, 30))
    p.negative = True
    return p


NEAR_MISSES = {
    "mass_user_removal": near_miss_mass_user_removal,
    "mass_deletion": near_miss_mass_deletion,
    "config_change_burst": near_miss_config_change_burst,
    "privilege_escalation_chain": near_miss_privilege_escalation_chain,
    "password_changed_from_many_ips": near_miss_password_changed_from_many_ips,
    "site_admin_password_changed": near_miss_site_admin_password_changed,
    "dormant_actor_returns": near_miss_dormant_actor_returns,
    "new_site_admin": near_miss_new_site_admin,
    "new_ip_for_actor": near_miss_new_ip_for_actor,
}


# --------------------------------------------------------------------------- oracle
def _sensitive_key(rec: dict) -> str | None:
    s = rec.get("summary", "")
    if s in SENSITIVE_SUMMARIES:
        return s
    if s in ("User added to group", "User removed from group") and \
            (rec.get("objectItem") or {}).get("name") in ADMIN_GROUPS:
        return s
    return None


class _History:
    """Per-actor facts of a 30-day look-back: any event, IPs, summaries."""

    def __init__(self, data: SiteData):
        self.data = data
        self._days: dict[date, dict[str, tuple[set, set, list]]] = {}

    def _day(self, d: date):
        got = self._days.get(d)
        if got is None:
            got = {}
            for r in self.data.generate_day(d):
                a = r.get("authorAccountId")
                if a is None:
                    continue
                ips, sums, mss = got.setdefault(a, (set(), set(), []))
                if r.get("remoteAddress"):
                    ips.add(r["remoteAddress"])
                sums.add(r["summary"])
                mss.append(to_ms_floor(parse_created(r["created"])))
            self._days[d] = got
        return got

    def look_back(self, actor: str, ms: int, days: int = 30):
        """(has events, IPs, summaries) of actor in [ms - days, ms)."""
        lo = ms - days * 86_400_000
        any_ev, ips, sums = False, set(), set()
        d = ms_day(lo)
        while d <= ms_day(ms):
            info = self._day(d).get(actor)
            if info:
                # per-record precision only matters on the two edge days
                if d == ms_day(lo) or d == ms_day(ms):
                    recs = [r for r in self.data.generate_day(d)
                            if r.get("authorAccountId") == actor and
                            lo <= to_ms_floor(parse_created(r["created"])) < ms]
                    for r in recs:
                        any_ev = True
                        if r.get("remoteAddress"):
                            ips.add(r["remoteAddress"])
                        sums.add(r["summary"])
                else:
                    any_ev = True
                    ips |= info[0]
                    sums |= info[1]
            d += timedelta(days=1)
        return any_ev, ips, sums


def annotate(data: SiteData, planted: list[Planted]) -> None:
    """Fill ``Planted.also`` with the other detections the planted records should trip
    (single-event summary rules, rare_action_for_actor, new_ip_for_actor), looking at
    every record of the site (background and injected)."""
    hist = _History(data)
    for p in planted:
        also: dict[str, set[int]] = {}
        recs = data.records_by_ids(p.record_ids | p.setup_ids)
        for r in recs:
            hits = set()
            s = r.get("summary", "")
            if s in SUMMARY_RULES:
                hits.add(SUMMARY_RULES[s])
            if s in SECURITY_REMOVAL:
                hits.add("security_scheme_removed")
            if s == "User added to group" and (r.get("objectItem") or {}).get("name") in ADMIN_GROUPS:
                hits.add("new_site_admin")
            if s == "Global permission added":
                hits.add("global_permission_added")
            actor = r.get("authorAccountId")
            if actor:
                ms = to_ms_floor(parse_created(r["created"]))
                has, ips, sums = hist.look_back(actor, ms)
                key = _sensitive_key(r)
                if has and key is not None and key not in sums:
                    hits.add("rare_action_for_actor")
                ip = r.get("remoteAddress")
                if has and ip and ip not in ips:
                    hits.add("new_ip_for_actor")
            for h in hits:
                if h == p.detection_id and r["id"] in p.record_ids and not p.negative:
                    continue
                also.setdefault(h, set()).add(r["id"])
        p.also = also


def expected_findings(planted: list[Planted]) -> dict[str, list[set[int]]]:
    """detection id -> list of record-id sets it must report (primary truth of the
    positive scenarios plus their collateral ``also``). audit_gap entries are empty
    sets (the finding is the day: see ``Planted.day``)."""
    out: dict[str, list[set[int]]] = {}
    for p in planted:
        if not p.negative:
            out.setdefault(p.detection_id, []).append(set(p.record_ids))
        for det, ids in p.also.items():
            out.setdefault(det, []).append(set(ids))
    return out
