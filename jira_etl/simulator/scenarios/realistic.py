"""A real site's habits as a clean background, separate from the planted-attack month
(:func:`plant_month`): what detections must stay (almost) silent on.

:class:`RealisticSite` is a :class:`SiteData` whose days hold, on top of the simulator's
own background (data/habits.py, optionally thinned by ``Shape.base_fraction``):

* an admin in India working 03:30-12:30 UTC on weekdays (group and user management too);
* a night-shift admin working 22:00-06:00 UTC (Monday to Friday nights);
* the nightly directory sync at 02:00 (no author): ~``sync_size`` group-membership adds
  and removals of ordinary groups, and on onboarding Mondays the joiners' accounts;
* a service account (scheduled automation) making workflow/project changes every hour;
* one admin's daily routine of 40 configuration changes between 09:00 and 09:39 UTC;
* a weekly maintenance window: Saturday 22:00-23:30 UTC, ``maintenance_n`` configuration
  changes by one admin;
* bulk operations: once in the month an admin bulk-adds ``bulk_size`` users to a group,
  once another bulk-removes ``bulk_size`` users from one (a real mass removal: the one
  behavioural finding the background is allowed);
* a project admin changing project roles on two weekdays a week;
* two new admins joining mid-month (account created, added to jira-administrators a day
  or two later: two expected new_site_admin findings), then working their first days;
* quieter weekends (the base background's one or two on-call admins).

Which admins do what and on which days is drawn from ``Shape.seed``: two shapes with
different seeds are independent data. :func:`realistic_background` returns the site and
the range to ingest (``history_days`` of history before the ``days`` evaluated).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from ..data import UTC, SiteData, User
from ..data.day_store import DayColumns
from ..data.habits import realistic_day
from . import realistic_habits as hb


@dataclass(frozen=True)
class Shape:
    """What the realistic background looks like; every field changes the data."""
    seed: int = 11
    days: int = 30                 # evaluated days
    history_days: int = 30         # collected before them (baselines need history)
    base_fraction: float = 1.0     # share of the simulator's own background kept
    sync_size: int = 200           # membership changes of the nightly directory sync
    bulk_size: int = 60            # users in each bulk operation
    routine_n: int = 40            # the daily 09:00-09:39 routine
    maintenance_n: int = 50        # changes in the Saturday-night maintenance window
    tz_offset: str = "+0000"       # offset the records' `created` is rendered in


@dataclass
class Plan:
    """The one-off events of the evaluated month, drawn from the shape's seed."""
    bulk_add: date
    bulk_remove: date
    joiner1_created: date
    joiner1_promoted: date
    joiner2_created: date
    joiner2_promoted: date
    onboarding_days: tuple[date, ...]
    routine_admin: str
    maintenance_admin: str
    people_admin: str
    other_people_admin: str
    roles_weekdays: tuple[int, ...] = (1, 3)


def _weekday_at_or_after(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def make_plan(shape: Shape, start: date) -> Plan:
    rnd = random.Random(f"realistic-plan:{shape.seed}")
    day = lambda lo, hi: _weekday_at_or_after(start + timedelta(days=rnd.randint(lo, hi)))  # noqa: E731
    config = ["Chen Wei", "Dana Kowalski", "Emeka Obi"]
    rnd.shuffle(config)
    people = ["Alice Nguyen", "Bruno Silva"]
    rnd.shuffle(people)
    j1 = day(7, 11)
    j2 = day(14, 18)
    first = start - timedelta(days=shape.history_days)
    mondays = [first + timedelta(days=i) for i in range(shape.history_days + shape.days)
               if (first + timedelta(days=i)).weekday() == 0]
    return Plan(bulk_add=day(3, 8), bulk_remove=day(19, 25),
                joiner1_created=j1, joiner1_promoted=_weekday_at_or_after(j1 + timedelta(days=1)),
                joiner2_created=j2, joiner2_promoted=_weekday_at_or_after(j2 + timedelta(days=2)),
                onboarding_days=tuple(mondays), routine_admin=config[0],
                maintenance_admin=config[1], people_admin=people[0], other_people_admin=people[1],
                roles_weekdays=tuple(sorted(rnd.sample(range(5), 2))))


class RealisticSite(SiteData):
    """A :class:`SiteData` holding a real site's habits (see the module docstring)."""

    def __init__(self, shape: Shape = Shape(), start: date = date(2026, 6, 1), clock=None):
        self.shape = shape
        self.eval_start = start
        self.eval_end = start + timedelta(days=shape.days - 1)
        first = start - timedelta(days=shape.history_days)
        if clock is None:
            end = datetime.combine(self.eval_end + timedelta(days=2), time(), UTC)
            clock = lambda: end  # noqa: E731
        super().__init__(seed=shape.seed, start=first, clock=clock, tz_offset=shape.tz_offset)
        self.plan = make_plan(shape, start)
        self._cast()

    def _cast(self) -> None:
        add = self.add_user
        self.india = add("Ananya Iyer", ip="203.0.113.40", role="tz_admin", time_zone="Asia/Kolkata")
        self.night = add("Kai Moreau", ip="203.0.113.41", role="tz_admin", time_zone="Etc/UTC")
        self.service = add("svc-config-sync", ip="10.99.0.7", role="service", account_type="app",
                           email=None)
        self.joiner1 = add("Leo Hart", ip="203.0.113.42", role="joiner")
        self.joiner2 = add("Mia Sato", ip="203.0.113.43", role="joiner")
        self.contractors = [add(f"Contractor {i:02d}", role="contractor")
                            for i in range(self.shape.bulk_size)]
        self.newcomers: dict[date, list[User]] = {}
        rnd = random.Random(f"realistic-joiners:{self.shape.seed}")
        for d in self.plan.onboarding_days:
            self.newcomers[d] = [add(f"Joiner {d.isoformat()} {k}", role="joiner")
                                 for k in range(rnd.randint(1, 2))]
        self._index = {u.accountId: i for i, u in enumerate(self._users)}

    def who(self, name: str) -> User:
        return next(u for u in self._users if u.displayName == name)

    def _idx(self, u: User) -> int:
        return self._index[u.accountId]

    # ---------------------------------------------------------------- a day
    def _generate(self, d: date) -> DayColumns:
        if not self.generated or d < self.start or d in self.silent_days:
            return DayColumns(d, [], [], [], [])
        base = realistic_day(self.seed, self._users, d)
        rnd = random.Random(f"realistic:{self.seed}:{d.isoformat()}")
        keep = np.array([rnd.random() < self.shape.base_fraction for _ in range(len(base.ms))],
                        dtype=bool)
        plan = hb.DayPlan(d, rnd)
        self._habits(plan)
        h = [rnd.getrandbits(62) for _ in plan.ms]
        day = DayColumns(d, np.concatenate([base.ms[keep], np.asarray(plan.ms, dtype=np.int64)]),
                         np.concatenate([base.tmpl[keep], np.asarray(plan.tmpl, dtype=np.int16)]),
                         np.concatenate([base.actor[keep], np.asarray(plan.actor, dtype=np.int32)]),
                         np.concatenate([base.h[keep], np.asarray(h, dtype=np.int64)]))
        for ms, rec in sorted(plan.explicit, key=lambda x: x[0]):
            day.insert(ms, rec)
        return day

    def _habits(self, plan: hb.DayPlan) -> None:
        s, p, d, rnd = self.shape, self.plan, plan.day, plan.rnd
        wd = d.weekday()
        regular = self.regular_users()
        hb.directory_sync(plan, regular, s.sync_size)
        for new in self.newcomers.get(d, ()):
            hb.provision(plan, None, new, plan.base + 2 * hb.HOUR + 11 * hb.MINUTE)
        hb.service_account(plan, self._idx(self.service))
        if wd < 5:
            hb.shifted_worker(plan, self._idx(self.india), 3.5, 12.5, rnd.randint(10, 25), True)
            hb.burst_routine(plan, self._idx(self.who(p.routine_admin)), s.routine_n)
            if wd in p.roles_weekdays:
                hb.project_roles(plan, self.who(p.other_people_admin), rnd.choice(regular),
                                 plan.base + 11 * hb.HOUR + rnd.randrange(40 * hb.MINUTE))
        # night shift: Mon-Fri 22:00 to 06:00 the next morning
        if 1 <= wd <= 5:
            hb.spread(plan, self._idx(self.night), plan.base, plan.base + 6 * hb.HOUR,
                      rnd.randint(3, 8), hb.PEOPLE + hb.CONFIG)
        if wd <= 4:
            hb.spread(plan, self._idx(self.night), plan.base + 22 * hb.HOUR,
                      plan.base + 24 * hb.HOUR - 1, rnd.randint(2, 6), hb.PEOPLE + hb.CONFIG)
        if wd == 5:
            hb.maintenance_window(plan, self._idx(self.who(p.maintenance_admin)), s.maintenance_n)
        at = plan.base + 10 * hb.HOUR + rnd.randrange(30 * hb.MINUTE)
        people = self.who(p.people_admin)
        if d == p.bulk_add:
            hb.bulk_membership(plan, people, self.contractors, "contractors", at, remove=False)
        if d == p.bulk_remove:
            hb.bulk_membership(plan, self.who(p.other_people_admin), self.contractors,
                               "contractors", at, remove=True)
        if d == p.joiner1_created:
            hb.provision(plan, None, self.joiner1, plan.base + 2 * hb.HOUR + 12 * hb.MINUTE)
        if d == p.joiner2_created:
            hb.provision(plan, people, self.joiner2, plan.base + 10 * hb.HOUR + 45 * hb.MINUTE)
        if d == p.joiner1_promoted:
            hb.promote(plan, people, self.joiner1, plan.base + 9 * hb.HOUR + 20 * hb.MINUTE)
        if d == p.joiner2_promoted:
            hb.promote(plan, people, self.joiner2, plan.base + 9 * hb.HOUR + 50 * hb.MINUTE)
        for joiner, since in ((self.joiner1, p.joiner1_promoted), (self.joiner2, p.joiner2_promoted)):
            if d >= since and wd < 5:
                hb.spread(plan, self._idx(joiner), plan.base + 10 * hb.HOUR,
                          plan.base + 17 * hb.HOUR, rnd.randint(4, 12), hb.CONFIG)

    def evaluation_range(self) -> tuple[date, date]:
        """(first, last) UTC day to ingest: the history, then the evaluated days."""
        return self.start, self.eval_end


def realistic_background(shape: Shape = Shape(), start: date = date(2026, 6, 1)) -> RealisticSite:
    """The realistic site of ``shape`` whose evaluated days begin at ``start``."""
    return RealisticSite(shape, start)
