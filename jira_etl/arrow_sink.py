"""The sink a slice's walk fills when collecting: pages of JSON texts parsed straight
into Arrow, the walk's bookkeeping done on the columns (collect.py streams it into a
day's file)."""

from __future__ import annotations

from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from jira_etl import normalize, transform
from jira_etl.sources.stats import RecordSink, WalkStats

SPILL_ROWS = 5000


class ArrowSink(RecordSink):
    """What a slice's walk fills when collecting: each page arrives as the records' JSON
    texts and is parsed straight into Arrow (in the walking thread, mostly without the
    GIL); the walk's bookkeeping is done on its columns. Its length is the number of
    distinct ids kept, as for any sink."""

    raw_pages = True

    def __init__(self, connector: str, ingested: dt.datetime,
                 spill: Callable[[pa.Table], None] | None = None, spill_rows: int = SPILL_ROWS):
        super().__init__()
        self.connector, self.ingested = connector, ingested
        self._seen: set[int] = set()
        self.tables: list[pa.Table] = []
        # With `spill`, rows are handed on every `spill_rows` (from the walking thread),
        # so a slice holds a few pages whatever its size and memory stays bounded by the
        # number of threads, not by how big the slices of a day turn out to be.
        self.spill, self.spill_rows = spill, spill_rows
        self._held = 0

    def __len__(self) -> int:
        return len(self._seen)

    def take_page(self, page: list[bytes], start_ms: int, end_ms: int, stats: WalkStats) -> tuple[int | None, int]:
        table = normalize.from_raw(page, self.connector, self.ingested)
        if table.num_rows != len(page):
            return self._take_odd_page(page, table, start_ms, end_ms, stats)
        ms = table.column("created").cast(pa.int64())
        if ms.null_count == len(ms):
            return None, 0
        oldest = pc.min(ms).as_py()
        at_oldest = pc.sum(pc.equal(ms, oldest)).as_py()
        # Out of window (another partition collects it) only when `created` is known.
        inside = pc.fill_null(pc.and_(pc.greater_equal(ms, start_ms), pc.less_equal(ms, end_ms)), True)
        keep: list[int] = []
        seen = self._seen
        for i, (rid, ok) in enumerate(zip(table.column("id").to_pylist(), inside.to_pylist())):
            if not ok:
                stats.out_of_window_dropped += 1
            elif rid in seen:
                stats.duplicates_dropped += 1
            else:
                seen.add(rid)
                keep.append(i)
        if keep:
            self._hold(table if len(keep) == table.num_rows else table.take(keep))
        return oldest, at_oldest

    def _hold(self, table: pa.Table) -> None:
        self.tables.append(table)
        self._held += table.num_rows
        if self.spill is not None and self._held >= self.spill_rows:
            self.spill(self.finish())

    def _take_odd_page(self, page: list[bytes], table: pa.Table, start_ms: int, end_ms: int,
                       stats: WalkStats) -> tuple[int | None, int]:
        """A page with records that have no usable id: they still count for where the
        page ends, so the record-by-record rules decide; their rows come from `table`."""
        kept = RecordSink()
        edge = kept.take_page([r for r in map(normalize._loads, page) if isinstance(r, dict)], start_ms, end_ms, stats)
        fresh = {rid for rid in kept if rid not in self._seen}
        stats.duplicates_dropped += len(kept) - len(fresh)
        self._seen.update(fresh)
        rows = []
        for i, rid in enumerate(table.column("id").to_pylist()):
            if rid in fresh:
                fresh.discard(rid)  # first copy only, as the record-by-record rules keep
                rows.append(i)
        if rows:
            self._hold(table.take(rows))
        return edge

    def finish(self) -> pa.Table:
        """The slice's rows, newest first (by id, as a whole window would be sorted),
        through the user's pandas transform if one is set (jira_etl/transform.py)."""
        table = pa.concat_tables(self.tables).combine_chunks() if self.tables else normalize.SCHEMA.empty_table()
        self.tables, self._held = [], 0
        if table.num_rows > 1:
            ids = table.column("id")
            # Pages come newest first, so the slice is usually in order already.
            if not pc.all(pc.greater(ids.slice(0, len(ids) - 1), ids.slice(1))).as_py():
                table = table.take(pc.sort_indices(table, sort_keys=[("id", "descending")]))
        return transform.apply(table)
