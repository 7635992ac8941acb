"""Walking several windows (the days of a range) on a pool of threads: each window cut
into time slices sized from a probe page, a thread left without work splitting the
busiest walk below its cursor or opening the next window, and everything stopping when
one slice fails."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections import deque
from typing import Callable, Iterator

from jira_etl.records import dt_to_ms
from jira_etl.sources.client import PAGE_LIMIT, Cancelled, JiraClient
from jira_etl.sources.stats import RecordSink, WalkStats
from jira_etl.sources.walk import OffsetProof, _advance, _Slice, _slice_bounds, _slices_for_density, _walk

# A walk is split for an idle thread only while it has this many pages left (estimated):
# each split costs a short page (and an empty one until the server's page size is
# known), so it pays only on longer walks.
MIN_SPLIT_PAGES = 4

log = logging.getLogger(__name__)


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
    stop: threading.Event | None = None,
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
    With `probe`, a window's newest page is read first and kept (it is the newest
    slice's first page) and sizes the fan-out: a page that is not full means a small
    window, walked as one slice; otherwise the density of [its oldest record, end] (or
    Jira's `total` when larger and plausible) estimates the volume below it, cut into
    slices of about RECORDS_PER_SLICE. A walk is split only while it has an estimated
    `min_split` records left (default MIN_SPLIT_PAGES pages: each new slice costs a
    short page).
    With `stop` (concurrent walks), setting it from any thread ends the walk: the
    iterator raises `Cancelled` instead of yielding more (the walk sets it as it ends).
    """
    pending = [_Window(i, s, e) for i, (s, e) in enumerate(windows)]
    min_split = MIN_SPLIT_PAGES * limit if min_split is None else min_split
    proof = OffsetProof()

    def plan(w: _Window, stop: threading.Event | None = None) -> list[_Slice]:
        if w.end_ms < w.start_ms:
            return []
        if probe and slices > 1:
            spans = _probe_and_cut(client, w, limit, slices, sink, stop, proof)
        else:
            spans = [_Slice(lo, hi) for lo, hi in _slice_bounds(w.start_ms, w.end_ms, slices)[::-1]]
        for span in spans:
            span.window = w
        return spans

    def run(span: _Slice, stop: threading.Event | None = None) -> tuple[RecordSink, WalkStats]:
        out, local = span.sink, span.stats
        if out is None:
            out = sink(span.window.index)
            local = WalkStats(windows_split=int(span.born_of_split or span.hi != span.window.end_ms))
        span.sink = span.stats = None
        _walk(client, span, limit, out, local, stop, proof)
        return out, local

    if concurrency <= 1:
        for w in pending:
            for span in plan(w):
                yield (w.index, *run(span))
            yield w.index, None, None
        return
    yield from _walk_concurrently(pending, plan, run, concurrency, min_split, max(1, open_windows), stop)


def _probe_and_cut(client: JiraClient, w: "_Window", limit: int, slices: int, sink: Callable[[int], RecordSink],
                   stop: threading.Event | None, proof: OffsetProof | None = None) -> list[_Slice]:
    """The window's newest page, read once: it is the first page of the newest slice
    (nothing is fetched twice), and its density sizes the cut of what lies below it."""
    out, local = sink(w.index), WalkStats()
    page, total = client.audit_page_total(w.start, w.end, limit=limit, stop=stop, raw=out.raw_pages)
    local.requests += 1
    newest = _Slice(w.start_ms, w.end_ms)
    newest.sink, newest.stats = out, local
    if not page:  # an empty window: its one slice is already walked
        newest.cursor = w.start_ms - 1
        return [newest]
    local.pages_nonempty += 1
    local.records_received += len(page)
    last = proof is not None and proof.saw(0, len(page))
    oldest, at_oldest = out.take_page(page, w.start_ms, w.end_ms, local)
    newest.skip, newest.drained = _advance(oldest, w.end_ms, at_oldest, len(page), 0, None, local)
    newest.cursor, newest.kept = oldest, len(out)
    if last:  # the whole window was in its newest page (walk.OffsetProof.saw)
        newest.cursor = w.start_ms - 1
        return [newest]
    if len(page) < limit or oldest <= w.start_ms:
        return [newest]  # a small window: one walk
    n = _slices_for_density(len(page), w.end_ms - oldest + 1, w.end_ms - w.start_ms + 1, slices, total)
    # The page covers [oldest, end]: cut [start, oldest] so the newest cut goes on
    # below the page (same density assumed below as above: a sizing hint only).
    below = max(1, round(n * (oldest - w.start_ms) / (w.end_ms - w.start_ms + 1)))
    bounds = _slice_bounds(w.start_ms, oldest, below)
    newest.lo = bounds[-1][0]
    return [newest] + [_Slice(lo, hi) for lo, hi in bounds[-2::-1]]


def _walk_concurrently(pending: list[_Window], plan: Callable, run: Callable, concurrency: int,
                       min_split: int, open_windows: int, stop: threading.Event | None = None) -> Iterator:
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
    stop = stop if stop is not None else threading.Event()
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
                    spans = plan(task, stop)
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
        except Cancelled:  # another slice failed or the consumer stopped: already reported
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
        if stop.is_set():  # stopped from outside: the workers ended early, nothing is complete
            raise Cancelled
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
