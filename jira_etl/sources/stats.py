"""What a walk fills and counts: the record sink (id -> record, with the window rules)
and the walk's statistics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from jira_etl.records import created_ms, record_id


@dataclass
class WalkStats:
    requests: int = 0
    pages_nonempty: int = 0
    records_received: int = 0
    duplicates_dropped: int = 0
    out_of_window_dropped: int = 0
    without_id_dropped: int = 0
    windows_split: int = 0
    instants_drained: int = 0
    instants_possibly_capped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # (instant in epoch ms, records listed there) of each instant the offset cap cut short
    _capped: list = field(default_factory=list, repr=False)

    def note_capped(self, instant_ms: int, listed: int) -> None:
        self.instants_possibly_capped += 1
        self._capped.append((instant_ms, listed))

    @property
    def capped(self) -> list[tuple[int, int]]:
        return list(self._capped)

    def merge(self, other: "WalkStats") -> None:
        with self._lock:
            for name in self.as_dict():
                setattr(self, name, getattr(self, name) + getattr(other, name))
            self._capped.extend(other._capped)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}



class RecordSink(dict):
    """What a walk fills: id -> record. `take_page` keeps a page's new in-window records
    and tells the walk where the page ends; other sinks (collect.py) keep the same
    rules while storing records differently, and may ask for pages of raw JSON texts
    (`raw_pages`) instead of decoded records."""

    raw_pages = False

    def take_page(self, page: list[dict], start_ms: int, end_ms: int, stats: WalkStats) -> tuple[int | None, int]:
        """(the oldest usable `created` of the page in epoch ms, how many records have it)."""
        oldest: int | None = None
        at_oldest = 0
        for record in page:
            t = created_ms(record)
            rid = record_id(record.get("id"))
            if rid is None:
                stats.without_id_dropped += 1
            elif t is not None and not (start_ms <= t <= end_ms):
                # Belongs to another partition; it is collected there, never twice.
                stats.out_of_window_dropped += 1
            elif rid in self:
                stats.duplicates_dropped += 1
            else:
                self[rid] = record
            if t is None:
                continue
            if oldest is None or t < oldest:
                oldest, at_oldest = t, 1
            elif t == oldest:
                at_oldest += 1
        return oldest, at_oldest
