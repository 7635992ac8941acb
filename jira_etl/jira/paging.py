"""Walking a time window of audit records without deep offsets.

Jira pages newest first and may cap how deep an offset can reach, clamp page sizes and
report a `total` that is wrong. So the walk never trusts `total` and never pages deep:
it keeps a time cursor and moves `to` backwards to the oldest instant seen so far.
Offsets are only used to step over records already read *at the cursor instant*, so
they stay as small as the largest burst of records sharing one millisecond.

State of the walk, an invariant after every page: every record created after `cursor`
has been read, and so have the first `skip` records (in server order) created exactly
at `cursor`. An empty page at offset 0 ends the window; an empty page at a positive
offset only ends the cursor's instant (it may be an offset cap), and the walk goes on
below it. New records that
arrive while paging sort before what we already read, which can only make us see a
record twice (deduplicated by id), never skip one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator, MutableMapping

from jira_etl.jira.client import PAGE_LIMIT, JiraClient, UnexpectedResponseError

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
MAX_STALE_PAGES = 50
_MS = dt.timedelta(milliseconds=1)


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

    def merge(self, other: "WalkStats") -> None:
        with self._lock:
            for name in self.as_dict():
                setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


def created_ms(record: dict) -> int | None:
    """Epoch milliseconds of `created`, whatever offset it was written in; None if unusable."""
    raw = record.get("created")
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000 + (0.5 if value.timestamp() >= 0 else -0.5))


def record_id(value: object) -> int | None:
    """The record's id as a signed 64-bit integer, or None when it has none usable: one
    rule for the walk and the table. Digit strings are accepted (ASCII digits, an optional
    leading '-'); anything else ('--5', '²', floats, booleans, 40 digits) is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if not (0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()):
            return None
        value = int(text)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None


def ms_to_dt(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=(ms % 1000) * 1000)


def dt_to_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    delta = value.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return delta // _MS


def _walk(client: JiraClient, start_ms: int, end_ms: int, limit: int, out: dict[int, dict], stats: WalkStats) -> None:
    cursor, skip = end_ms, 0
    drained: int | None = None
    stale_pages = 0  # consecutive pages that brought nothing new
    start = ms_to_dt(start_ms)
    while cursor >= start_ms:
        # Jira returns nothing when `from` is not before `to`: to read the window's very
        # first millisecond, ask from one millisecond earlier (dropped as out of window).
        frm = start if cursor > start_ms else ms_to_dt(start_ms - 1)
        page = client.audit_page(frm, ms_to_dt(cursor), offset=skip, limit=limit)
        stats.requests += 1
        if not page:
            if skip == 0:
                return
            # An empty page at an offset may be the server's offset cap rather than
            # the end: never let it end the window, step below the instant instead.
            if drained == cursor and skip >= limit:
                stats.instants_possibly_capped += 1
                log.warning("%s records share %s and the server returned nothing past offset %d: "
                            "if Jira caps offsets there, records of that millisecond beyond the cap "
                            "cannot be listed by any client", skip, ms_to_dt(cursor).isoformat(), skip)
            cursor, skip = cursor - 1, 0
            continue
        stats.pages_nonempty += 1
        stats.records_received += len(page)
        oldest: int | None = None
        at_oldest = 0
        before = len(out)
        for record in page:
            t = created_ms(record)
            rid = record_id(record.get("id"))
            if rid is None:
                stats.without_id_dropped += 1
            elif t is not None and not (start_ms <= t <= end_ms):
                # Belongs to another partition; it is collected there, never twice.
                stats.out_of_window_dropped += 1
            elif rid in out:
                stats.duplicates_dropped += 1
            else:
                out[rid] = record
            if t is None:
                continue
            if oldest is None or t < oldest:
                oldest, at_oldest = t, 1
            elif t == oldest:
                at_oldest += 1
        if oldest is None:
            raise UnexpectedResponseError("a page of audit records had no usable 'created' values")
        stale_pages = stale_pages + 1 if len(out) == before else 0
        if stale_pages > MAX_STALE_PAGES:
            # Only possible if records keep appearing at the very instant being read:
            # fail loudly rather than loop forever.
            raise UnexpectedResponseError(
                f"Jira returned only already-read records {stale_pages} times in a row at "
                f"{ms_to_dt(cursor).isoformat()}; giving up on this window"
            )
        if oldest > cursor:
            raise UnexpectedResponseError("Jira returned records newer than the requested 'to'")
        if oldest == cursor:
            # The whole page sits on the cursor instant (a bulk operation): step over it
            # by offset, the only place offsets grow.
            if drained != cursor:
                stats.instants_drained += 1
                drained = cursor
            skip += len(page)
        else:
            cursor, skip = oldest, at_oldest


def _slice_bounds(start_ms: int, end_ms: int, slices: int) -> list[tuple[int, int]]:
    """Adjacent inclusive [lo, hi] slices, oldest first, that neither share nor skip a millisecond."""
    slices = max(1, min(slices, end_ms - start_ms + 1))
    span = (end_ms - start_ms + 1) / slices
    return [(start_ms + round(i * span), start_ms + round((i + 1) * span) - 1) for i in range(slices)]


RECORDS_PER_SLICE = 5000


def _slices_for_volume(page: list[dict], limit: int, window_ms: int, max_slices: int) -> int:
    """Slices worth walking for a window whose newest page is `page`: each slice costs a
    couple of requests of overhead, so a small day is not cut into dozens of them."""
    if len(page) < limit:
        return 1
    times = [t for t in map(created_ms, page) if t is not None]
    span = (max(times) - min(times) + 1) if times else 1
    estimate = len(page) * window_ms / span
    return max(1, min(max_slices, math.ceil(estimate / RECORDS_PER_SLICE)))


def iter_window(
    client: JiraClient,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = PAGE_LIMIT,
    slices: int = 1,
    concurrency: int = 1,
    sink: Callable[[], MutableMapping[int, dict]] = dict,
    probe: bool = False,
) -> Iterator[tuple[MutableMapping[int, dict], WalkStats]]:
    """Walk [start, end] (inclusive) slice by slice, newest slice first, yielding each
    slice's records (a `sink()` mapping id -> record, filled by the walk) and its stats.

    Each slice is walked exactly as a whole window would be (see the module docstring);
    only the container differs, so a sink may turn records into columns as they come.
    Up to `concurrency` slices are walked at once and at most one more finished slice
    waits for the consumer, so memory is bounded by a few slices, not by the window.
    With `probe`, one request for the window's newest page sizes the fan-out first: a
    page that is not full means a small window, walked as one slice; otherwise the
    page's time span estimates the window's volume, at most RECORDS_PER_SLICE a slice.
    """
    start_ms, end_ms = dt_to_ms(start), dt_to_ms(end)
    if end_ms < start_ms:
        return
    if probe and slices > 1:
        slices = _slices_for_volume(client.audit_page(start, end, offset=0, limit=limit),
                                    limit, end_ms - start_ms + 1, slices)
    bounds = _slice_bounds(start_ms, end_ms, slices)[::-1]

    def run(lo: int, hi: int) -> tuple[MutableMapping[int, dict], WalkStats]:
        out, local = sink(), WalkStats()
        _walk(client, lo, hi, limit, out, local)
        return out, local

    if concurrency <= 1 or len(bounds) == 1:
        for lo, hi in bounds:
            yield run(lo, hi)
        return
    pending: deque = deque()
    todo = iter(bounds)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="jira-slice") as pool:
        try:
            for lo, hi in itertools.islice(todo, concurrency + 1):
                pending.append(pool.submit(run, lo, hi))
            while pending:
                result = pending.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append(pool.submit(run, *nxt))
                yield result
        finally:
            for f in pending:
                f.cancel()


def fetch_window(
    client: JiraClient,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = PAGE_LIMIT,
    slices: int = 1,
    concurrency: int = 1,
) -> tuple[list[dict], WalkStats]:
    """Every record with start <= created <= end (both inclusive), each once, newest first.

    With `slices` > 1 the window is cut into that many adjacent time slices (inclusive
    bounds that neither share nor skip a millisecond), walked by `concurrency` threads.
    """
    start_ms, end_ms = dt_to_ms(start), dt_to_ms(end)
    total = WalkStats(windows_split=len(_slice_bounds(start_ms, end_ms, slices)) - 1 if end_ms >= start_ms else 0)
    merged: dict[int, dict] = {}
    for part, local in iter_window(client, start, end, limit=limit, slices=slices, concurrency=concurrency):
        total.merge(local)
        for rid, rec in part.items():
            if rid in merged:
                total.duplicates_dropped += 1
            else:
                merged[rid] = rec
    records = sorted(merged.values(), key=lambda r: int(r["id"]), reverse=True)
    return records, total
