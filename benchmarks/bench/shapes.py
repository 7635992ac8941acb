"""Real-shaped sites for `make bench`: days clustered in working hours, one heavy day among
quiet ones, a burst inside a day, a 2,500-record millisecond, a month where the heavy day
moves, and the issue's skewed 10-day window (one 240k day spread over the whole day
among quiet office days, 296,211 records).

A shape is a list of days, each a list of parts (a profile and a number of records);
`ShapedSite` generates each day from its parts with the bulk generator's actors and
templates (vectorised, deterministic per seed), so the simulator serves it exactly as
any generated day: the API is unchanged, only where the records fall in time differs.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from jira_etl.simulator.data import DAY_MS, SiteData, day_start_ms
from jira_etl.simulator.data.day_store import DayColumns
from jira_etl.simulator.data.bulk import uniform_columns

HOUR = 3_600_000

# A day: [(profile, records, extra)], profiles below. Shapes: name -> days, oldest first.
Day = list[tuple[str, int, dict]]


def office(n: int) -> tuple[str, int, dict]:
    """Clustered in working hours: most records 08-18 UTC around early afternoon, a thin
    background through the night."""
    return ("office", n, {})


def flat(n: int) -> tuple[str, int, dict]:
    """Spread evenly over the whole day (a bulk job, an import)."""
    return ("flat", n, {})


def burst(n: int, at_h: float, minutes: float) -> tuple[str, int, dict]:
    """`n` records inside `minutes` from `at_h` hours."""
    return ("burst", n, {"at": int(at_h * HOUR), "span": int(minutes * 60_000)})


def millisecond(n: int, at_h: float) -> tuple[str, int, dict]:
    """`n` records sharing one millisecond (a bulk operation)."""
    return ("ms", n, {"at": int(at_h * HOUR)})


def _skewed() -> list[Day]:
    # The window: 10 days, 296,211 records; one day of 240,000 spread over the
    # whole day, the nine others clustered in working hours, one with a 2,500-record ms.
    quiet = [5968] * 8 + [5967]  # 53,711 = 56,211 - the millisecond's 2,500
    days: list[Day] = [[office(n)] for n in quiet]
    days[2].append(millisecond(2500, 11.25))
    days.insert(6, [flat(240_000)])
    return days


def _heavy() -> list[Day]:
    days: list[Day] = [[office(5000)] for _ in range(6)]
    days.insert(3, [flat(100_000)])
    return days


def _month(heavy_at: int) -> list[Day]:
    days: list[Day] = [[office(2000)] for _ in range(30)]
    days[heavy_at] = [flat(60_000)]
    return days


SHAPES: dict[str, list[Day]] = {
    "office": [[office(20_000)] for _ in range(5)],
    "heavy": _heavy(),
    "burst": [[office(10_000)], [office(10_000), burst(30_000, 14.5, 5)], [office(10_000)]],
    "millisecond": [[office(5000)], [office(5000), millisecond(2500, 10.0)]],
    "month": _month(21),
    "month-moved": _month(2),
    "skewed": _skewed(),
    "tiny": [[office(300)], [office(200), millisecond(120, 10.0)]],  # for tests/bench only
}
DEFAULT_SHAPES = ["skewed", "office", "heavy", "burst", "millisecond", "month", "month-moved"]


def records_of(name: str) -> int:
    return sum(n for day in SHAPES[name] for _, n, _ in day)


def _day_ms(rng: np.random.Generator, parts: Day) -> np.ndarray:
    out = []
    for profile, n, extra in parts:
        if profile == "flat":
            out.append(rng.integers(0, DAY_MS, n))
        elif profile == "office":
            work = rng.random(n) < 0.93
            hours = np.clip(rng.normal(13.0 * HOUR, 2.4 * HOUR, n), 7 * HOUR, 19 * HOUR - 1)
            out.append(np.where(work, hours.astype(np.int64), rng.integers(0, DAY_MS, n)))
        elif profile == "burst":
            out.append(extra["at"] + rng.integers(0, extra["span"], n))
        elif profile == "ms":
            out.append(np.full(n, extra["at"], dtype=np.int64))
        else:
            raise ValueError(profile)
    ms = np.sort(np.concatenate(out)) if out else np.zeros(0, np.int64)
    if len(ms):  # as bulk.py: ~1% of records share the millisecond of the one before
        dup = np.nonzero(rng.random(len(ms))[1:] < 0.01)[0] + 1
        ms[dup] = ms[dup - 1]
        ms = np.maximum.accumulate(ms)
    return ms


class ShapedSite(SiteData):
    """A site whose days `first .. first + len(days) - 1` follow `days`; every other day
    is empty."""

    def __init__(self, days: list[Day], first: dt.date, seed: int = 7):
        super().__init__(seed=seed, daily_volume=0, start=first)
        self.shape_days = {first + dt.timedelta(days=i): parts for i, parts in enumerate(days)}

    def _generate(self, d: dt.date) -> DayColumns:
        parts = self.shape_days.get(d)
        if not parts:
            return DayColumns(d, [], [], [], [])
        rng = np.random.default_rng([self.seed, d.toordinal(), 17])
        ms = _day_ms(rng, parts) + day_start_ms(d)
        return uniform_columns(rng, self.user_objects(), d, ms)
