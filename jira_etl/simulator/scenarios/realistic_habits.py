"""The habits of a real site, one function per habit, for the realistic background
(:mod:`.realistic`). Each habit writes into a :class:`DayPlan` for one UTC day:
template rows (rendered by ``data/templates.py`` like the simulator's own background)
and explicit records for summaries the templates do not hold (removals, account
creation, project roles).

Nothing here is an attack. Everything is deterministic from ``random.Random`` seeded
with (seed, day, habit).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from ..data import DIRECTORY_PARENT, NORMAL_GROUPS, PROJECTS, User, day_start_ms, user_item

HOUR = 3_600_000
MINUTE = 60_000
# Template indices of data/templates.py TEMPLATES (background-safe summaries).
T_USER_UPDATED, T_ADDED_TO_GROUP = 0, 1
CONFIG = ((4, 4), (5, 2), (9, 5), (11, 3), (14, 3), (15, 1), (17, 3), (10, 1), (13, 1))
PEOPLE = ((0, 4), (1, 4), (2, 1))
SERVICE = ((9, 3), (4, 2), (11, 2))          # workflow / project / workflow scheme updates
ROUTINE = ((4, 3), (9, 3), (11, 2), (14, 2), (17, 2))  # the 09:00 burst: no deletions


def weighted(rnd: random.Random, table) -> int:
    items, weights = zip(*table)
    return rnd.choices(items, weights)[0]


@dataclass
class DayPlan:
    """One UTC day: template rows (ms, template, actor index) and explicit records."""
    day: date
    rnd: random.Random
    ms: list[int] = field(default_factory=list)
    tmpl: list[int] = field(default_factory=list)
    actor: list[int] = field(default_factory=list)
    explicit: list[tuple[int, dict]] = field(default_factory=list)

    @property
    def base(self) -> int:
        return day_start_ms(self.day)

    def row(self, ms: int, tmpl: int, actor: int) -> None:
        self.ms.append(int(ms))
        self.tmpl.append(tmpl)
        self.actor.append(actor)

    def record(self, ms: int, actor: User | None, summary: str, category: str, obj: dict,
               assoc: list | None = None, changed: list | None = None) -> None:
        rec = {"summary": summary}
        if actor is not None:
            if actor.ip:
                rec["remoteAddress"] = actor.ip
            rec["authorKey"] = actor.authorKey
            rec["authorAccountId"] = actor.accountId
        rec.update({"category": category, "eventSource": "", "objectItem": obj,
                    "changedValues": changed or [], "associatedItems": assoc or []})
        self.explicit.append((int(ms), rec))


def group_item(name: str) -> dict:
    return {"name": name, "typeName": "GROUP", "parentId": DIRECTORY_PARENT[0],
            "parentName": DIRECTORY_PARENT[1]}


def spread(plan: DayPlan, actor: int, start_ms: int, end_ms: int, n: int, table) -> None:
    """``n`` template rows of ``table`` by ``actor``, stratified over [start, end)."""
    if n <= 0:
        return
    slot = (end_ms - start_ms) / n
    for i in range(n):
        plan.row(start_ms + int(i * slot + plan.rnd.random() * slot), weighted(plan.rnd, table), actor)


def shifted_worker(plan: DayPlan, actor: int, start_h: float, end_h: float, n: int,
                   people: bool) -> None:
    """An admin whose shift may start before midnight (end_h < start_h: the part after
    midnight belongs to this day, the part before to this day's evening)."""
    table = PEOPLE + CONFIG if people else CONFIG
    base = plan.base
    if end_h > start_h:
        spread(plan, actor, base + int(start_h * HOUR), base + int(end_h * HOUR), n, table)
    else:  # night shift: early-morning half and late-evening half of the same UTC day
        first = n // 2
        spread(plan, actor, base, base + int(end_h * HOUR), first, table)
        spread(plan, actor, base + int(start_h * HOUR), base + 24 * HOUR - 1, n - first, table)


def directory_sync(plan: DayPlan, targets: list[User], size: int, at_h: float = 2.0) -> None:
    """The nightly directory sync (no author): ``size`` membership changes of ordinary
    groups within ~10 minutes after ``at_h``, about half adds and half removals."""
    t0 = plan.base + int(at_h * HOUR)
    span = 10 * MINUTE
    for i in range(size):
        t = t0 + (i * span) // max(size, 1)
        u = targets[plan.rnd.randrange(len(targets))]
        g = NORMAL_GROUPS[plan.rnd.randrange(len(NORMAL_GROUPS))]
        if plan.rnd.random() < 0.5:
            plan.row(t, T_ADDED_TO_GROUP, -1)
        else:
            plan.record(t, None, "User removed from group", "group management", group_item(g),
                        assoc=[user_item(u)])


def provision(plan: DayPlan, actor: User | None, new: User, at_ms: int) -> None:
    """A joiner's account: "User created" (by the sync when ``actor`` is None)."""
    plan.record(at_ms, actor, "User created", "user management", user_item(new),
                changed=[{"fieldName": "Full name", "changedTo": new.displayName},
                         {"fieldName": "Email", "changedTo": new.emailAddress or ""},
                         {"fieldName": "Active", "changedTo": "true"}])
    for k, g in enumerate(("jira-software-users", "confluence-users")):
        plan.record(at_ms + 1000 * (k + 1), actor, "User added to group", "group management",
                    group_item(g), assoc=[user_item(new)])


def promote(plan: DayPlan, actor: User, new: User, at_ms: int,
            group: str = "jira-administrators") -> None:
    plan.record(at_ms, actor, "User added to group", "group management", group_item(group),
                assoc=[user_item(new)])


def service_account(plan: DayPlan, actor: int, per_hour: tuple[int, int] = (1, 2)) -> None:
    """Scheduled automation: a run every hour at ~:05 making workflow/project changes."""
    for h in range(24):
        t0 = plan.base + h * HOUR + 5 * MINUTE + plan.rnd.randrange(90_000)
        for k in range(plan.rnd.randint(*per_hour)):
            plan.row(t0 + k * 700, weighted(plan.rnd, SERVICE), actor)


def burst_routine(plan: DayPlan, actor: int, n: int = 40, at_h: int = 9, minutes: int = 39) -> None:
    """The admin's daily routine: ``n`` config changes between at_h:00 and at_h:minutes."""
    t0 = plan.base + at_h * HOUR
    for i in range(n):
        plan.row(t0 + (i * minutes * MINUTE) // n + plan.rnd.randrange(20_000),
                 weighted(plan.rnd, ROUTINE), actor)


def maintenance_window(plan: DayPlan, actor: int, n: int, at_h: int = 22) -> None:
    """Saturday-night maintenance: many config changes by one admin in ~90 minutes."""
    spread(plan, actor, plan.base + at_h * HOUR, plan.base + at_h * HOUR + 90 * MINUTE, n, ROUTINE)


def bulk_membership(plan: DayPlan, actor: User, users: list[User], group: str, at_ms: int,
                    remove: bool) -> None:
    """An admin's bulk operation: every user of ``users`` added to / removed from
    ``group`` within a few minutes (one per ~3 s)."""
    summary = "User removed from group" if remove else "User added to group"
    for i, u in enumerate(users):
        plan.record(at_ms + i * 3000, actor, summary, "group management", group_item(group),
                    assoc=[user_item(u)])


def project_roles(plan: DayPlan, actor: User, target: User, at_ms: int) -> None:
    """A project admin adds someone to a project's Developers role (a weekly habit)."""
    pid, _key, name = PROJECTS[plan.rnd.randrange(len(PROJECTS))]
    plan.record(at_ms, actor, "Project roles changed", "projects",
                {"id": "10001", "name": "Developers", "typeName": "PROJECT_ROLE"},
                assoc=[{"id": pid, "name": name, "typeName": "PROJECT"}],
                changed=[{"fieldName": "Users", "changedFrom": "", "changedTo": target.accountId}])
