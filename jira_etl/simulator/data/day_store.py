"""How the site holds a UTC day: sorted numpy columns, rendered to dicts only when read.

This is what makes an explicit ``daily_volume`` of 1_000_000 cheap to hold and to page
through: a generated row is four numbers until a reader asks for it.
"""
from __future__ import annotations

import numpy as np

from .instants import ID_MULT, MS_2000, id_for


class DayColumns:
    """Sorted columns of one UTC day. tmpl >= 0: generated (template index, actor
    index, h); tmpl == -1: explicit record, h is the index into ``explicit``."""

    __slots__ = ("day", "ms", "ids", "tmpl", "actor", "h", "explicit", "cache", "texts")

    def __init__(self, day, ms, tmpl, actor, h):
        self.day = day
        order = np.argsort(ms, kind="stable")
        self.ms = np.asarray(ms, dtype=np.int64)[order]
        self.tmpl = np.asarray(tmpl, dtype=np.int16)[order]
        self.actor = np.asarray(actor, dtype=np.int32)[order]
        self.h = np.asarray(h, dtype=np.int64)[order]
        n = len(self.ms)
        if n:
            first = np.searchsorted(self.ms, self.ms, side="left")
            seq = np.arange(n, dtype=np.int64) - first
            if seq.max(initial=0) >= ID_MULT:
                raise ValueError("more than 10000 records in one millisecond")
            self.ids = (self.ms - MS_2000) * ID_MULT + seq
        else:
            self.ids = np.zeros(0, dtype=np.int64)
        self.explicit: list[dict] = []
        self.cache: dict[int, dict] = {}
        self.texts: dict[int, str] = {}  # str: never traversed by the cyclic GC

    def insert(self, ms: int, rec: dict) -> int:
        lo = int(np.searchsorted(self.ms, ms, side="left"))
        hi = int(np.searchsorted(self.ms, ms, side="right"))
        seq = int(self.ids[hi - 1] - id_for(ms) + 1) if hi > lo else 0
        if seq >= ID_MULT:
            raise ValueError("more than 10000 records in one millisecond")
        rid = id_for(ms, seq)
        self.explicit.append(rec)
        self.ms = np.insert(self.ms, hi, ms)
        self.ids = np.insert(self.ids, hi, rid)
        self.tmpl = np.insert(self.tmpl, hi, -1)
        self.actor = np.insert(self.actor, hi, -1)
        self.h = np.insert(self.h, hi, len(self.explicit) - 1)
        return rid
