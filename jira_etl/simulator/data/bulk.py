"""The benchmark generator: exactly ``daily_volume`` records a day, vectorised.

Unlike the realistic background (habits.py) it gives no guarantee that the detections
stay silent: actors and templates are drawn uniformly.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from .day_store import DayColumns
from .directory import User
from .instants import DAY_MS, day_start_ms
from .templates import TEMPLATES


def bulk_day(seed: int, users: list[User], d: date, n: int) -> DayColumns:
    rng = np.random.default_rng([seed, d.toordinal(), n])
    base = day_start_ms(d)
    work = rng.random(n) < 0.85
    ms = np.where(work, rng.integers(7 * 3_600_000, 19 * 3_600_000, n),
                  rng.integers(0, DAY_MS, n)) + base
    # bulk operations: ~1% of records share the millisecond of another record
    dup = rng.random(n) < 0.01
    ms = np.sort(ms)
    idx = np.nonzero(dup[1:])[0] + 1
    ms[idx] = ms[idx - 1]
    ms = np.maximum.accumulate(ms)  # keep sorted after copying
    return uniform_columns(rng, users, d, ms)


def uniform_columns(rng: np.random.Generator, users: list[User], d: date, ms: np.ndarray) -> DayColumns:
    """A day's columns for the instants `ms`: actors (15% none) and templates drawn
    uniformly, each record's content hash at random."""
    n = len(ms)
    actors = [i for i, u in enumerate(users) if u.role in ("admin", "user", "app")]
    actor = np.asarray(actors, dtype=np.int32)[rng.integers(0, len(actors), n)]
    actor[rng.random(n) < 0.15] = -1
    tmpl = rng.integers(0, len(TEMPLATES), n).astype(np.int16)
    h = rng.integers(0, 2 ** 62, n, dtype=np.int64)
    return DayColumns(d, ms, tmpl, actor, h)
