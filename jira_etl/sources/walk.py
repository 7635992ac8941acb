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
below it. A short page ends the window too, where it cannot be anything else: shorter
than a page the server has returned (its page size is learnt), and ending above an
offset it has returned records from (OffsetProof.saw). New records that
arrive while paging sort before what we already read, which can only make us see a
record twice (deduplicated by id), never skip one.
"""


from __future__ import annotations

import logging
import math
import threading

from jira_etl.records import created_ms, ms_to_dt
from jira_etl.sources.client import Cancelled, JiraClient, UnexpectedResponseError
from jira_etl.sources.stats import RecordSink, WalkStats

log = logging.getLogger(__name__)
MAX_STALE_PAGES = 50


class _Slice:
    """A time range [lo, hi] being walked. Another worker may take the older part of
    what is left (`split`): `lo` only ever rises, and a page is taken and the cursor
    moved under the same lock as a split, so no record is kept by both parts."""

    def __init__(self, lo: int, hi: int, born_of_split: bool = False):
        self.lo, self.hi = lo, hi
        self.cursor = hi
        self.skip = 0  # records already read at the cursor instant (a walk resumed from a probe page)
        self.drained: int | None = None
        self.kept = 0
        self.born_of_split = born_of_split
        self.window = None  # the _Window it belongs to, when walking several
        self.sink = self.stats = None  # set when a probe page already started it
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


class _Stopped(Cancelled):
    """Another slice failed, or the run was stopped: stop walking."""


class OffsetProof:
    """What the server has shown of its paging (walks of one run share it): the deepest
    offset at which it returned records (an empty page at an offset no deeper is the
    end of what it was asked for, not an offset cap), how deep into one query a record
    was returned (`reached`: offset + records of the deepest page) and its page size
    (the longest page it returned, `limit` at most: it may clamp)."""

    def __init__(self) -> None:
        self.served = -1
        self.reached = 0
        self.page_size = 0
        self._lock = threading.Lock()

    def saw(self, offset: int, records: int) -> bool:
        """Note a page of `records` at `offset`; whether it is short, so the last of
        what it was asked for, judged on what the server showed before it: shorter than
        a page it has returned, and ending above a depth it has returned records from
        (so no offset cap cut it). The API's own advice is to stop on a short page; this
        stops only where a short page can mean nothing else (the page size is learnt,
        never assumed)."""
        with self._lock:
            last = 0 < records < self.page_size and offset + records < self.reached
            if offset > self.served:
                self.served = offset
            self.reached = max(self.reached, offset + records)
            self.page_size = max(self.page_size, records)
            return last


def _advance(oldest: int | None, cursor: int, at_oldest: int, page_len: int, skip: int,
             drained: int | None, stats: WalkStats) -> tuple[int, int | None]:
    """The walk's (skip, drained) after a page whose oldest usable instant is `oldest`."""
    if oldest is None:
        raise UnexpectedResponseError("a page of audit records had no usable 'created' values")
    if oldest > cursor:
        raise UnexpectedResponseError("Jira returned records newer than the requested 'to'")
    if oldest == cursor:
        # The whole page sits on the cursor instant (a bulk operation): step over it
        # by offset, the only place offsets grow.
        if drained != cursor:
            stats.instants_drained += 1
            drained = cursor
        return skip + page_len, drained
    return at_oldest, drained


def _walk(client: JiraClient, span: _Slice, limit: int, out: RecordSink, stats: WalkStats,
          stop: threading.Event | None = None, proof: OffsetProof | None = None) -> None:
    skip, drained = span.skip, span.drained
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
        page = fetch(frm, ms_to_dt(cursor), offset=skip, limit=limit, stop=stop)
        stats.requests += 1
        if not page:
            if skip == 0:
                return
            if proof is not None and skip <= proof.served:
                # The server answers at this offset: nothing else is at the cursor
                # instant, and nothing is older (one request, not two, ends a slice).
                return
            # An empty page at an offset may be the server's offset cap rather than
            # the end: never let it end the window, step below the instant instead.
            if drained == cursor and skip >= limit:
                stats.note_capped(cursor, skip)
                log.warning("%s records share %s and the server returned nothing past offset %d: "
                            "if Jira caps offsets there, records of that millisecond beyond the cap "
                            "cannot be listed by any client", skip, ms_to_dt(cursor).isoformat(), skip)
            with span.lock:
                span.cursor = cursor - 1
            skip = 0
            continue
        stats.pages_nonempty += 1
        stats.records_received += len(page)
        last = proof is not None and proof.saw(skip, len(page))
        with span.lock:
            # A split may have raised `lo` while the page was on its way: what is now
            # below it belongs to the other part and is dropped here as out of window.
            before = len(out)
            oldest, at_oldest = out.take_page(page, span.lo, span.hi, stats)
            if last and oldest is not None and oldest <= cursor:
                # Everything in [lo, cursor] past `skip` was in this page: the slice is
                # walked, without the empty page that would say so (a request a slice),
                # and nothing is left to split off.
                span.cursor = span.lo - 1
            elif oldest is not None and oldest < cursor:
                span.cursor = oldest
            span.kept = len(out)
        stale_pages = stale_pages + 1 if len(out) == before else 0
        if stale_pages > MAX_STALE_PAGES:
            # Only possible if records keep appearing at the very instant being read:
            # fail loudly rather than loop forever.
            raise UnexpectedResponseError(
                f"Jira returned only already-read records {stale_pages} times in a row at "
                f"{ms_to_dt(cursor).isoformat()}; giving up on this window"
            )
        skip, drained = _advance(oldest, cursor, at_oldest, len(page), skip, drained, stats)
        if last:
            return


def _slice_bounds(start_ms: int, end_ms: int, slices: int) -> list[tuple[int, int]]:
    """Adjacent inclusive [lo, hi] slices, oldest first, that neither share nor skip a millisecond."""
    slices = max(1, min(slices, end_ms - start_ms + 1))
    span = (end_ms - start_ms + 1) / slices
    return [(start_ms + round(i * span), start_ms + round((i + 1) * span) - 1) for i in range(slices)]


RECORDS_PER_SLICE = 10_000


def _slices_for_volume(page: list[dict], limit: int, window_ms: int, max_slices: int,
                       total: object = None) -> int:
    """Slices worth walking for a window whose newest page is `page` (see `_slices_for_density`)."""
    if len(page) < limit:
        return 1
    times = [t for t in map(created_ms, page) if t is not None]
    span = (max(times) - min(times) + 1) if times else 1
    return _slices_for_density(len(page), span, window_ms, max_slices, total)


def _slices_for_density(records: int, span_ms: int, window_ms: int, max_slices: int, total: object = None) -> int:
    """Slices worth walking for `window_ms` when `records` were read over `span_ms` of it:
    each slice costs about a request and a half more than its records' pages (its last
    page is short, and one empty page ends it), so slices hold RECORDS_PER_SLICE records
    at the density read, and idle threads split only what is left to walk.

    The density extrapolated to the window underestimates a day whose last hours are
    quiet (office hours), so the `total` Jira reports is taken when larger and
    plausible (not more than 25 times the extrapolation: some sites report the
    instance's count): only as a hint for sizing, never to decide what was collected."""
    estimate = records * window_ms / max(1, span_ms)
    if isinstance(total, int) and not isinstance(total, bool) and estimate < total <= 25 * max(estimate, records):
        estimate = total
    return max(1, min(max_slices, math.ceil(estimate / RECORDS_PER_SLICE)))
