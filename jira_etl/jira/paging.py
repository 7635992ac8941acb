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
import logging
import math
import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterator

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


class _Slice:
    """A time range [lo, hi] being walked. Another worker may take the older part of
    what is left (`split`): `lo` only ever rises, and a page is taken and the cursor
    moved under the same lock as a split, so no record is kept by both parts."""

    def __init__(self, lo: int, hi: int, born_of_split: bool = False):
        self.lo, self.hi = lo, hi
        self.cursor = hi
        self.kept = 0
        self.born_of_split = born_of_split
        self.window = None  # the _Window it belongs to, when walking several
        self.lock = threading.Lock()

    def left_estimate(self) -> float:
        """Records expected in what is left, at the density read so far."""
        done = self.hi - self.cursor + 1
        return self.kept * (self.cursor - self.lo) / done if self.kept and done > 0 else 0.0

    def split(self) -> "_Slice | None":
        """Hand [lo, mid - 1] to a new slice and keep [mid, hi]: only below the cursor."""
        with self.lock:
            if self.cursor - self.lo < 2:
                return None
            mid = self.lo + (self.cursor - self.lo + 1) // 2
            older = _Slice(self.lo, mid - 1, born_of_split=True)
            self.lo = mid
            return older


class _Stopped(Exception):
    """Another slice failed: stop walking."""


def _walk(client: JiraClient, span: _Slice, limit: int, out: RecordSink, stats: WalkStats,
          stop: threading.Event | None = None) -> None:
    skip = 0
    drained: int | None = None
    stale_pages = 0  # consecutive pages that brought nothing new
    fetch = client.audit_page_raw if out.raw_pages else client.audit_page
    while True:
        if stop is not None and stop.is_set():
            raise _Stopped
        with span.lock:
            cursor, lo = span.cursor, span.lo
        if cursor < lo:
            return
        # Jira returns nothing when `from` is not before `to`: to read the window's very
        # first millisecond, ask from one millisecond earlier (dropped as out of window).
        frm = ms_to_dt(lo) if cursor > lo else ms_to_dt(lo - 1)
        page = fetch(frm, ms_to_dt(cursor), offset=skip, limit=limit)
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
            with span.lock:
                span.cursor = cursor - 1
            skip = 0
            continue
        stats.pages_nonempty += 1
        stats.records_received += len(page)
        with span.lock:
            # A split may have raised `lo` while the page was on its way: what is now
            # below it belongs to the other part and is dropped here as out of window.
            before = len(out)
            oldest, at_oldest = out.take_page(page, span.lo, span.hi, stats)
            if oldest is not None and oldest < cursor:
                span.cursor = oldest
            span.kept = len(out)
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
            skip = at_oldest


def _slice_bounds(start_ms: int, end_ms: int, slices: int) -> list[tuple[int, int]]:
    """Adjacent inclusive [lo, hi] slices, oldest first, that neither share nor skip a millisecond."""
    slices = max(1, min(slices, end_ms - start_ms + 1))
    span = (end_ms - start_ms + 1) / slices
    return [(start_ms + round(i * span), start_ms + round((i + 1) * span) - 1) for i in range(slices)]


RECORDS_PER_SLICE = 5000


def _slices_for_volume(page: list[dict], limit: int, window_ms: int, max_slices: int,
                       total: object = None) -> int:
    """Slices worth walking for a window whose newest page is `page`: each slice costs a
    couple of requests of overhead, so a small day is not cut into dozens of them.

    The page's time span extrapolated to the window underestimates a day whose last
    hours are quiet (office hours), so the `total` Jira reports is taken when larger:
    only as a hint for sizing, never to decide what was collected."""
    if len(page) < limit:
        return 1
    times = [t for t in map(created_ms, page) if t is not None]
    span = (max(times) - min(times) + 1) if times else 1
    estimate = len(page) * window_ms / span
    if isinstance(total, int) and not isinstance(total, bool) and total > estimate:
        estimate = total
    return max(1, min(max_slices, math.ceil(estimate / RECORDS_PER_SLICE)))


def iter_window(
    client: JiraClient,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = PAGE_LIMIT,
    slices: int = 1,
    concurrency: int = 1,
    sink: Callable[[], RecordSink] = RecordSink,
    probe: bool = False,
    min_split: int | None = None,
) -> Iterator[tuple[RecordSink, WalkStats]]:
    """Walk [start, end] (inclusive) slice by slice, yielding each slice's records (a
    `sink()`, filled by the walk) and its stats: newest slice first when walked by one
    thread, in the order they finish otherwise. See `iter_windows`."""
    for _, out, stats in iter_windows(client, [(start, end)], limit=limit, slices=slices, concurrency=concurrency,
                                      sink=lambda _: sink(), probe=probe, min_split=min_split):
        if out is not None:
            yield out, stats


class _Window:
    def __init__(self, index: int, start: dt.datetime, end: dt.datetime):
        self.index, self.start, self.end = index, start, end
        self.start_ms, self.end_ms = dt_to_ms(start), dt_to_ms(end)
        self.outstanding = 0  # slices handed out and not yet yielded
        self.planned = False  # its slices are known (after the probe)


def iter_windows(
    client: JiraClient,
    windows: list[tuple[dt.datetime, dt.datetime]],
    *,
    limit: int = PAGE_LIMIT,
    slices: int = 1,
    concurrency: int = 1,
    sink: Callable[[int], RecordSink] = lambda _: RecordSink(),
    probe: bool = False,
    min_split: int | None = None,
    open_windows: int = 2,
) -> Iterator[tuple[int, RecordSink | None, WalkStats | None]]:
    """Walk several inclusive windows (the days of a backfill) slice by slice, yielding
    (window index, sink, stats) for each finished slice and (window index, None, None)
    once all of a window's slices have been yielded. `sink(window index)` makes each
    slice's sink.

    Each slice is walked exactly as a whole window would be (see the module docstring);
    only the container differs, so a sink may turn records into columns as they come.
    Up to `concurrency` slices are walked at once, from up to `open_windows` windows, so
    the next day starts while the last slices of a day finish; a thread left without a
    slice splits the busiest walk; at most one more finished slice waits for the
    consumer. Memory is bounded by a few slices, not by the windows.
    With `probe`, one request for a window's newest page sizes its fan-out first: a
    page that is not full means a small window, walked as one slice; otherwise the
    page's time span (or Jira's `total` when larger) estimates the volume, at most
    RECORDS_PER_SLICE a slice. A walk is split only while it has an estimated
    `min_split` records left (default two pages: each new slice costs a request).
    """
    pending = [_Window(i, s, e) for i, (s, e) in enumerate(windows)]
    min_split = 2 * limit if min_split is None else min_split

    def plan(w: _Window) -> list[_Slice]:
        if w.end_ms < w.start_ms:
            return []
        n = slices
        if probe and slices > 1:
            page, total = client.audit_page_total(w.start, w.end, limit=limit)
            n = _slices_for_volume(page, limit, w.end_ms - w.start_ms + 1, slices, total)
        spans = [_Slice(lo, hi) for lo, hi in _slice_bounds(w.start_ms, w.end_ms, n)[::-1]]
        for span in spans:
            span.window = w
        return spans

    def run(span: _Slice, stop: threading.Event | None = None) -> tuple[RecordSink, WalkStats]:
        out, local = sink(span.window.index), WalkStats(windows_split=int(span.born_of_split or span.hi != span.window.end_ms))
        _walk(client, span, limit, out, local, stop)
        return out, local

    if concurrency <= 1:
        for w in pending:
            for span in plan(w):
                yield (w.index, *run(span))
            yield w.index, None, None
        return
    yield from _walk_concurrently(pending, plan, run, concurrency, min_split, max(1, open_windows))


def _walk_concurrently(pending: list[_Window], plan: Callable, run: Callable, concurrency: int,
                       min_split: int, open_windows: int) -> Iterator:
    """The threads behind `iter_windows`.

    Days are not uniform (office hours, bulk jobs), so a fixed cut leaves threads idle
    while one slice walks most of the day: a thread with nothing left to start opens the
    next window if it may, or else splits the walk with the most records left (by the
    density it has read so far), taking the older half of what that walk has not
    reached yet.
    """
    cond = threading.Condition()
    todo: deque[_Slice] = deque()
    active: list[_Slice] = []
    waiting = deque(pending)
    opened: list[_Window] = []  # planned or being planned, not yet complete
    stop = threading.Event()
    results: queue.Queue = queue.Queue(maxsize=1)  # at most one finished slice waits

    def next_task() -> _Slice | _Window | None:
        with cond:
            while not stop.is_set():
                if todo:
                    span = todo.popleft()
                elif waiting and len(opened) < open_windows:
                    w = waiting.popleft()
                    opened.append(w)
                    return w
                else:
                    widest = max(active, key=_Slice.left_estimate, default=None)
                    span = widest.split() if widest and widest.left_estimate() >= min_split else None
                    if span is None:
                        if not active and not waiting and all(w.planned for w in opened):
                            return None
                        cond.wait(0.05)  # walks move on (more to split), end, or windows close
                        continue
                    span.window = widest.window
                    span.window.outstanding += 1
                active.append(span)
                return span
            return None

    def worker() -> None:
        try:
            while (task := next_task()) is not None:
                if isinstance(task, _Window):
                    spans = plan(task)
                    with cond:
                        task.outstanding += len(spans)
                        task.planned = True
                        todo.extend(spans)
                        cond.notify_all()
                    if not spans:
                        results.put(("window", task))
                    continue
                try:
                    result = run(task, stop)
                finally:
                    with cond:
                        active.remove(task)
                        cond.notify_all()
                results.put(("slice", (task.window, result)))
        except _Stopped:
            pass
        except BaseException as exc:  # handed to the consumer, raised there
            stop.set()
            results.put(("error", exc))
        finally:
            results.put(("done", None))

    threads = [threading.Thread(target=worker, name=f"jira-slice-{i}", daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    running = len(threads)
    try:
        while running:
            kind, value = results.get()
            if kind == "done":
                running -= 1
            elif kind == "error":
                raise value
            elif kind == "window":
                yield from _close_window(value, cond, opened)
            else:
                w, (out, stats) = value
                yield w.index, out, stats
                with cond:
                    w.outstanding -= 1
                    complete = w.planned and w.outstanding == 0
                if complete:
                    yield from _close_window(w, cond, opened)
    finally:
        stop.set()
        with cond:
            cond.notify_all()
        while running:  # unblock workers waiting to hand over a slice
            if results.get()[0] == "done":
                running -= 1
        for t in threads:
            t.join()


def _close_window(w: _Window, cond: threading.Condition, opened: list[_Window]) -> Iterator:
    yield w.index, None, None
    with cond:
        opened.remove(w)
        cond.notify_all()


def fetch_window(
    client: JiraClient,
    start: dt.datetime,
    end: dt.datetime,
    *,
    limit: int = PAGE_LIMIT,
    slices: int = 1,
    concurrency: int = 1,
    min_split: int | None = None,
) -> tuple[list[dict], WalkStats]:
    """Every record with start <= created <= end (both inclusive), each once, newest first.

    With `slices` > 1 the window is cut into that many adjacent time slices (inclusive
    bounds that neither share nor skip a millisecond), walked by `concurrency` threads.
    """
    total = WalkStats()
    merged: dict[int, dict] = {}
    for part, local in iter_window(client, start, end, limit=limit, slices=slices, concurrency=concurrency,
                                   min_split=min_split):
        total.merge(local)
        for rid, rec in part.items():
            if rid in merged:
                total.duplicates_dropped += 1
            else:
                merged[rid] = rec
    records = sorted(merged.values(), key=lambda r: int(r["id"]), reverse=True)
    return records, total
