"""The site's habits: the realistic background day (``daily_volume=None``).

Clean background
    The realistic generator never emits an event that one of the detections in
    ``/work/shared/detections.md`` (sections A and B) should flag: no global permission /
    permission scheme / project role / security scheme events, no password changes, no
    user creation, no removals, no admin-group membership changes; every actor uses one
    fixed IP, works fixed hours inside 07:00-19:00 UTC, acts at least every few days and
    stays far below the burst thresholds (<= 1 deletion per actor per day, well under
    20 events per actor per rolling hour). The off-hours tail comes only from system
    events (no author) in non-admin categories.

Who does what is the tables below (template index, weight) and the actors' hours in
the directory; richer habits belong here.
"""
from __future__ import annotations

import random
from datetime import date

from .day_store import DayColumns
from .directory import User
from .instants import DAY_MS, day_start_ms

T_ADDED_TO_GROUP = 1
DELETION_TEMPLATES = (18, 19, 20)
PEOPLE_TEMPLATES = ((0, 5), (1, 5), (2, 1))                      # (template, weight)
CONFIG_TEMPLATES = ((3, 1), (4, 6), (5, 3), (8, 1), (9, 6), (10, 1), (11, 3), (12, 3),
                    (13, 1), (14, 3), (15, 2), (16, 1), (17, 3), (18, 1), (19, 1), (20, 1))
USER_TEMPLATES = ((4, 3), (5, 4), (6, 3), (7, 2))
SYSTEM_TEMPLATES = ((6, 4), (9, 2), (17, 1))                      # no admin categories
SYSTEM_DAYTIME_TEMPLATES = ((0, 1),)                              # "User updated" by sync


def weighted(rnd: random.Random, table) -> int:
    items, weights = zip(*table)
    return rnd.choices(items, weights)[0]


def realistic_day(seed: int, users: list[User], d: date) -> DayColumns:
    """One realistic UTC day of ``users`` (the site's directory, in its order)."""
    rnd = random.Random(f"day:{seed}:{d.isoformat()}")
    base = day_start_ms(d)
    weekend = d.weekday() >= 5
    n = rnd.randint(10, 40) if weekend else rnd.randint(150, 400)
    n_sys = max(1, round(n * rnd.uniform(0.12, 0.2)))
    n_usr = round(n * rnd.uniform(0.2, 0.3)) if not weekend else rnd.randint(0, 4)
    n_adm = max(0, n - n_sys - n_usr)
    ms_l: list[int] = []
    tm_l: list[int] = []
    ac_l: list[int] = []
    h_l: list[int] = []

    def add(ms, t, a):
        ms_l.append(ms)
        tm_l.append(t)
        ac_l.append(a)
        h_l.append(rnd.getrandbits(62))

    idx = {u.accountId: i for i, u in enumerate(users)}
    admins = [u for u in users if u.role == "admin"]
    if weekend:  # one or two on-call admins
        admins = rnd.sample(admins, rnd.randint(1, 2))
    weights = [1.3 if a.people_admin else 1.0 for a in admins]
    per = [0] * len(admins)
    for _ in range(n_adm):
        per[rnd.choices(range(len(admins)), weights)[0]] += 1
    for a, k in zip(admins, per):
        h0, h1 = a.hours
        span = (h1 - h0) * 3_600_000
        table = PEOPLE_TEMPLATES + CONFIG_TEMPLATES if a.people_admin else CONFIG_TEMPLATES
        deletions = 0
        i = 0
        slot = span / max(k, 1)
        while i < k:
            # stratified times: at most ~2 events per slot, far from any burst
            t = base + h0 * 3_600_000 + int(i * slot + rnd.random() * slot)
            tpl = weighted(rnd, table)
            if tpl in DELETION_TEMPLATES:
                if deletions >= 1:
                    tpl = 9
                deletions += 1
            add(t, tpl, idx[a.accountId])
            i += 1
            if tpl == T_ADDED_TO_GROUP and rnd.random() < 0.3 and i < k:
                for _ in range(min(rnd.randint(1, 3), k - i)):  # bulk add, same ms
                    add(t, tpl, idx[a.accountId])
                    i += 1
    regular = [u for u in users if u.role == "user"]
    for _ in range(n_usr):
        u = rnd.choice(regular)
        t = base + rnd.randint(u.hours[0] * 3_600_000, u.hours[1] * 3_600_000 - 1)
        add(t, weighted(rnd, USER_TEMPLATES), idx[u.accountId])
    auto = [i for i, u in enumerate(users) if u.displayName == "Automation for Jira"]
    for _ in range(n_sys):
        r = rnd.random()
        if r < 0.2:
            t = base + rnd.randint(8 * 3_600_000, 18 * 3_600_000)
            add(t, weighted(rnd, SYSTEM_DAYTIME_TEMPLATES), -1)
        elif r < 0.35 and auto:
            t = base + rnd.randint(0, DAY_MS - 1)
            add(t, 6, auto[0])  # automation releases versions around the clock
        else:
            t = base + rnd.randint(0, DAY_MS - 1)
            add(t, weighted(rnd, SYSTEM_TEMPLATES), -1)
    return DayColumns(d, ms_l, tm_l, ac_l, h_l)
