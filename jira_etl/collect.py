"""Plain functions behind the Dagster assets: one connector-day from Jira to Parquet.

Nothing here knows about Dagster, so it is tested directly and reused by the CLI and
the benchmark.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from jira_etl import normalize
from jira_etl.arrow_sink import SPILL_ROWS, ArrowSink
from jira_etl.sources.client import JiraClient
from jira_etl.sources.stats import RecordSink, WalkStats
from jira_etl.sources.slicing import iter_window, iter_windows
from jira_etl.storage import compaction, lake

if TYPE_CHECKING:
    import pandas as pd  # annotations only: pandas is imported where a frame is built

UTC = dt.timezone.utc
PREVIEW_COLUMNS = ["id", "created", "summary", "category", "author_account_id", "object_item_name"]
# Day collectors of other deployments, by the client's `deployment` (collect_dc.py adds
# "datacenter" when imported); a Cloud client has none and takes the paths below.
DEPLOYMENT_COLLECTORS: dict[str, Callable[..., Iterator["DayResult"]]] = {}


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The inclusive window of a UTC day: 00:00:00.000 to 23:59:59.999."""
    start = dt.datetime.combine(day, dt.time(), UTC)
    return start, start + dt.timedelta(days=1) - dt.timedelta(milliseconds=1)


def days_in_window(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """The days of a partition time window (end exclusive)."""
    days, day = [], start.astimezone(UTC).date()
    while dt.datetime.combine(day, dt.time(), UTC) < end:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def check_counts(table: pa.Table, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """(ids seen more than once, rows whose `created` is missing or outside [start, end])."""
    if not len(table):
        return 0, 0
    ids, created = table.column("id"), table.column("created")
    inside = pc.and_(pc.greater_equal(created, pa.scalar(start, normalize.TS)),
                     pc.less_equal(created, pa.scalar(end, normalize.TS)))
    return len(ids) - len(pc.unique(ids)), len(table) - pc.sum(pc.fill_null(inside, False)).as_py()


@dataclass
class DayResult:
    day: dt.date
    path: Path | str  # a URI when the lake is on object storage
    rows: int
    preview: pd.DataFrame
    walk: WalkStats = field(default_factory=WalkStats)
    duplicate_ids: int = 0
    outside_window: int = 0
    unique_received: int = 0  # distinct ids fetched in this run
    kept_from_previous: int = 0  # rows carried over from the partition's earlier file
    fetched_from: dt.datetime | None = None
    late_records: int | None = None  # a settle pass: ids not held before it (late arrivals)


def collect_day(
    client: JiraClient,
    connector: str,
    day: dt.date,
    data_dir: Path,
    *,
    slices: int = 1,
    concurrency: int = 1,
    incremental: bool = False,
    overlap: dt.timedelta = dt.timedelta(minutes=10),
) -> DayResult:
    """Fetch every record of `day`, normalize, and atomically publish its Parquet file.

    Any failure raises before the file is replaced, so a partial day is never published.
    With `incremental` (the day still running), only what is newer than the newest
    record already held, minus `overlap` for late writes, is fetched and merged by id.
    """
    start, end = day_bounds(day)
    if getattr(client, "deployment", "cloud") != "cloud":
        incremental = False  # e.g. Data Center: the day is fetched whole again, same keys
    if not incremental:
        return _collect_day_streaming(client, connector, day, data_dir, slices=slices, concurrency=concurrency)
    previous = lake.read_partition(data_dir, connector, day) if incremental else None
    fetch_start = start
    if previous is not None and previous.num_rows:
        newest = pc.max(previous.column("created")).as_py()
        if newest is not None:
            fetch_start = max(start, newest - overlap)
    table, walk, received = _fetch_table(client, connector, fetch_start, end, slices=slices, concurrency=concurrency)
    kept = 0
    if previous is not None and previous.num_rows:
        # A fresh copy of a record wins over the held one; everything else is kept.
        carried = previous.filter(pc.invert(pc.is_in(previous.column("id"), value_set=table.column("id"))))
        kept = carried.num_rows
        table = pa.concat_tables([table, carried.cast(table.schema)])
        table = table.take(pc.sort_indices(table, sort_keys=[("id", "descending")]))
    path = lake.write_partition(table, data_dir, connector, day)
    # What the asset checks judge, measured on exactly the table that was written.
    duplicates, outside = check_counts(table, start, end)
    # Keep only a few rows: a range run may cover months of busy days.
    preview = normalize.to_dataframe(table.slice(0, 5))[PREVIEW_COLUMNS]
    return DayResult(day=day, path=path, rows=table.num_rows, preview=preview, walk=walk,
                     duplicate_ids=duplicates, outside_window=outside,
                     unique_received=received, kept_from_previous=kept, fetched_from=fetch_start)


def _fetch_table(client: JiraClient, connector: str, start: dt.datetime, end: dt.datetime, *,
                 slices: int, concurrency: int) -> tuple[pa.Table, WalkStats, int]:
    """Every record of [start, end] as one table (newest first), for windows small enough
    to hold: the running day's refresh."""
    ingested = dt.datetime.now(UTC)
    walk, tables, seen = WalkStats(), [], set()
    for sink, stats in iter_window(client, start, end, slices=slices, concurrency=concurrency,
                                   sink=lambda: ArrowSink(connector, ingested), probe=True):
        walk.merge(stats)
        table = sink.finish()
        # Only a record without `created` can be in two slices: keep its first copy.
        ids = table.column("id").to_pylist()
        rows = [i for i, rid in enumerate(ids) if not (rid in seen or seen.add(rid))]
        if len(rows) < len(ids):
            walk.duplicates_dropped += len(ids) - len(rows)
            table = table.take(rows)
        tables.append(table)
    table = pa.concat_tables(tables) if tables else normalize.SCHEMA.empty_table()
    if table.num_rows > 1:
        table = table.take(pc.sort_indices(table, sort_keys=[("id", "descending")]))
    return table, walk, table.num_rows


def _collect_day_streaming(client: JiraClient, connector: str, day: dt.date, data_dir: Path, *,
                           slices: int, concurrency: int) -> DayResult:
    (result,) = collect_days(client, connector, [day], data_dir, slices=slices, concurrency=concurrency)
    return result


def settle_day(data_dir: Path, connector: str, day: dt.date, path, written: pa.Table,
               held: pa.Table | None) -> tuple[object, pa.Table, int, int]:
    """A settle pass over a day just published (`written`: its ids and `created`),
    against `held`, the day's rows before the pass: (path, written, late, kept). Ids not
    held before are late arrivals; held records Jira did not return again are put back
    (merged by id, the file replaced once more)."""
    before = held.column("id") if held is not None else pa.array([], pa.int64())
    late = len(written) - int(pc.sum(pc.is_in(written.column("id"), value_set=before)).as_py() or 0)
    gone = held.filter(pc.invert(pc.is_in(before, value_set=written.column("id")))) if held is not None else None
    if gone is None or not gone.num_rows:
        return path, written, late, 0
    table = pa.concat_tables([lake.read_file(path), gone.cast(normalize.SCHEMA)])
    table = table.take(pc.sort_indices(table, sort_keys=[("id", "descending")]))
    return lake.write_partition(table, data_dir, connector, day), table.select(["id", "created"]), late, gone.num_rows


def _settled(result: "DayResult", data_dir: Path, connector: str, held: pa.Table | None) -> "DayResult":
    """A day of another deployment's collector through the same settle pass."""
    written = lake.read_file(result.path, columns=["id", "created"])
    result.path, written, result.late_records, kept = settle_day(data_dir, connector, result.day, result.path,
                                                                 written, held)
    result.rows, result.kept_from_previous = len(written), result.kept_from_previous + kept
    result.duplicate_ids, result.outside_window = check_counts(written, *day_bounds(result.day))
    return result


class _DayInProgress:
    """One complete day being streamed into its row groups, by the consumer at each
    slice's end and by walking threads as their slices spill."""

    def __init__(self, connector: str, day: dt.date, data_dir: Path):
        self.day, self.connector, self.data_dir = day, connector, data_dir
        self.writer = lake.PartitionWriter(data_dir, connector, day).__enter__()
        self.walk = WalkStats()
        self.received = 0
        self.preview: pd.DataFrame | None = None
        self.null_created_ids: set[int] = set()  # only these can appear in two slices
        self._written: pa.Table | None = None  # seal(): the file's ids and instants (a local lake's)
        self._lock = threading.RLock()

    def add(self, sink: ArrowSink, stats: WalkStats) -> None:
        with self._lock:
            self.walk.merge(stats)
            self.received += len(sink)
            self.write(sink.finish())

    def write(self, table: pa.Table) -> None:
        with self._lock:
            nulls = table.filter(pc.is_null(table.column("created"))).column("id").to_pylist() if table.num_rows else []
            if nulls:
                again = [i for i in nulls if i in self.null_created_ids]
                if again:
                    self.walk.duplicates_dropped += len(again)
                    self.received -= len(again)
                    table = table.filter(pc.invert(pc.is_in(table.column("id"), value_set=pa.array(again, pa.int64()))))
                self.null_created_ids.update(nulls)
            if self.preview is None and table.num_rows:
                self.preview = normalize.to_dataframe(table.slice(0, 5))[PREVIEW_COLUMNS]
            self.writer.write(table)

    def seal(self) -> None:
        """All of publishing but placing the file (idempotent): the file complete and,
        on a local lake, what the checks judge read back from it. A walk begun ahead of
        its run (head_start.py) seals each day as it completes, while Dagster starts, so
        the step's publish of a day is a rename (the step published a burst of days
        walked ahead at ~0.1 s each, on its one thread, before loading could begin)."""
        with self._lock:
            tmp = self.writer.seal()  # idempotent
            # the very file placed next (on object storage, read back after upload)
            if self._written is None and isinstance(self.writer.path, Path):
                self._written = lake.read_file(tmp, columns=["id", "created"])

    def publish(self, settle: bool = False, held: pa.Table | None = None) -> DayResult:
        """The day's file in place. With `settle` (a settle pass over a day collected
        before, `held` its rows then): ids not held before are counted as late arrivals,
        and held records Jira did not return again are kept (merged by id)."""
        self.seal()
        self.writer.__exit__(None, None, None)
        start, end = day_bounds(self.day)
        # What the asset checks judge, measured on exactly the file that was published.
        path = self.writer.path
        written = self._written if self._written is not None else lake.read_file(path, columns=["id", "created"])
        late, kept = None, 0
        if settle:
            path, written, late, kept = settle_day(self.data_dir, self.connector, self.day, path, written, held)
        duplicates, outside = check_counts(written, start, end)
        preview = self.preview if self.preview is not None else normalize.empty_frame()[PREVIEW_COLUMNS]
        return DayResult(day=self.day, path=path, rows=len(written), preview=preview, walk=self.walk,
                         duplicate_ids=duplicates, outside_window=outside, unique_received=self.received,
                         kept_from_previous=kept, fetched_from=start, late_records=late)

    def abandon(self, exc: BaseException) -> None:
        self.writer.__exit__(type(exc), exc, exc.__traceback__)


class OpenDays:
    """The days of one walk being streamed into their files, by index in `days`: walking
    threads spill into a day before the consumer sees it."""

    def __init__(self, connector: str, days: list[dt.date], data_dir: Path):
        self.connector, self.days, self.data_dir = connector, days, data_dir
        self._open: dict[int, _DayInProgress] = {}
        self._lock = threading.Lock()

    def get(self, i: int) -> _DayInProgress:
        with self._lock:
            if i not in self._open:
                self._open[i] = _DayInProgress(self.connector, self.days[i], self.data_dir)
            return self._open[i]

    def take(self, item: tuple) -> int | None:
        """One item of the walk: a slice goes into its day; a day whose every slice is
        walked is returned (its index), to be published."""
        i, sink, stats = item
        if sink is not None:
            self.get(i).add(sink, stats)
            return None
        return i

    def pop(self, i: int) -> _DayInProgress:
        with self._lock:
            return self._open.pop(i, None) or _DayInProgress(self.connector, self.days[i], self.data_dir)

    def abandon(self, exc: BaseException) -> None:
        """Every day not published: its temporary file removed, the lake left as it was."""
        with self._lock:
            left, self._open = list(self._open.values()), {}
        for day in left:
            day.abandon(exc)


def walk_days(client: JiraClient, open_days: OpenDays, *, slices: int, concurrency: int,
              stop: threading.Event | None = None) -> Iterator[tuple]:
    """The walk of `open_days`' complete days (iter_windows), its slices spilling into
    them. With `stop`, setting it ends the walk (the iterator raises Cancelled)."""
    ingested = dt.datetime.now(UTC)
    _bound_allocator_caches()
    connector = open_days.connector
    return iter_windows(client, [day_bounds(d) for d in open_days.days], slices=slices, concurrency=concurrency,
                        probe=True, sink=lambda i: ArrowSink(connector, ingested, spill=open_days.get(i).write,
                                                             spill_rows=SPILL_ROWS), stop=stop)


def collect_days(client: JiraClient, connector: str, days: list[dt.date], data_dir: Path, *,
                 slices: int = 1, concurrency: int = 1, settle: bool = False, ahead=None) -> Iterator[DayResult]:
    """Complete days, each fetched whole and streamed slice by slice into row groups,
    yielded as each is published (in the order they complete). Memory stays bounded by
    a few slices and a row group per open day, whatever the volume; the next day's
    slices start while a day's last ones finish. A day's file is published only when
    every one of its slices has been walked, so a partial day is never visible; on any
    failure, days not yet published are left as they were. With `settle` (the settle
    pass), each day is compared with what the lake held before: see `publish`.
    `ahead`: the same walk begun earlier (head_start.WalkAhead), claimed by the caller
    for exactly these arguments: its days are published here, as they complete."""
    deployment = getattr(client, "deployment", "cloud")
    held = compaction.read_days(data_dir, connector, days) if settle else {}
    if deployment != "cloud":
        for result in DEPLOYMENT_COLLECTORS[deployment](client, connector, days, data_dir):
            yield _settled(result, data_dir, connector, held.pop(result.day, None)) if settle else result
        return
    if ahead is None:
        open_days = OpenDays(connector, days, data_dir)
        walks = walk_days(client, open_days, slices=slices, concurrency=concurrency)
        complete, stop = (i for item in walks if (i := open_days.take(item)) is not None), walks.close
    else:
        open_days, complete, stop = ahead.open_days, ahead.completed(), ahead.stop
    try:
        for i in complete:
            result = open_days.pop(i).publish(settle, held.pop(days[i], None))
            _release_memory()
            yield result
    except BaseException as exc:
        stop()  # the walking threads stop (and stop spilling) before their days are dropped
        open_days.abandon(exc)
        raise


def _bound_allocator_caches(arenas: int = 2) -> None:
    """Memory that allocators keep per thread grew with the walking threads: Arrow's
    default pool (mimalloc) held its freed pages per thread, and glibc gives each new
    thread an arena of its own. With 12 threads that was a good part of a backfill's
    peak (fetching a 1M-record day: 685 MB, then 456 MB with Arrow on the system
    allocator and glibc capped at two arenas, at the same speed). Process-wide, from
    here on."""
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _release_memory() -> None:
    """Hand the day's freed buffers back to the OS (Arrow's pool and malloc keep them
    otherwise), so the next stage's peak does not stack on this one's."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
