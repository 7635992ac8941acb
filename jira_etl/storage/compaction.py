"""Monthly compaction of the lake, and reading days whichever file holds them.

A connector's closed month is rewritten into one file,
`connector=<c>/month=<YYYY-MM>/data-<generation>.parquet`, with one or more row groups
per day and, in its footer, which row groups hold which day (`jira_etl.days`; a day
with no records is listed with none, so "collected, empty" stays distinct from "never
collected"). Then the month's day files are deleted, then older generations.

Readers see each record exactly once, before, during and after, because they choose
one source per day from what exists at that moment: the day file if there is one,
else the newest month generation that lists the day. A day file is deleted only after
a generation holding its rows is published, and a generation only after a newer one
is, so some source of every day exists at every instant and both are never read for
the same day. A source that vanishes while a reader opens it (a compaction deleted it)
makes the reader resolve again. A day collected again after its month was compacted
gets a day file, which wins until the next compaction folds it in. Generations have
unique names, so a reader never mixes the footer of one with the row groups of another.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from jira_etl.records import SCHEMA
from jira_etl.storage import lake as lake_files
from jira_etl.storage import objectstore

DAYS_KEY = b"jira_etl.days"
ROW_GROUP_SIZE = lake_files.ROW_GROUP_SIZE


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_days(month: dt.date) -> list[dt.date]:
    nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return [month + dt.timedelta(days=i) for i in range((nxt - month).days)]


def is_closed(month: dt.date, today: dt.date) -> bool:
    """Closed once its last day has been finalized: from the 2nd of the next month."""
    return month_days(month)[-1] + dt.timedelta(days=2) <= today


class _Store:
    """The few operations compaction needs, on a local folder or on object storage."""

    def __init__(self, data_dir: Path):
        self.lake = objectstore.remote_lake(data_dir)
        self.root = self.lake.join("audit_records") if self.lake else str(lake_files.dataset_root(data_dir))

    def connector_dir(self, connector: str) -> str:
        return f"{self.root}/connector={connector}"

    def day_file(self, connector: str, day: dt.date) -> str:
        return f"{self.connector_dir(connector)}/date={day.isoformat()}/{lake_files.FILE_NAME}"

    def month_dir(self, connector: str, month: dt.date) -> str:
        return f"{self.connector_dir(connector)}/month={month:%Y-%m}"

    def stat(self, paths: list[str]) -> dict[str, tuple[int, int]]:
        """(mtime ns, size) of those of `paths` that exist."""
        if self.lake is not None:
            return {p: (i.mtime_ns or 0, i.size or 0) for p, i in objectstore.info(self.lake, paths).items()}
        found = {}
        for p in paths:
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue
            found[p] = (st.st_mtime_ns, st.st_size)
        return found

    def names(self, folder: str, dirs: bool) -> list[str]:
        """Names directly inside `folder` (one listing), folders or files."""
        if self.lake is not None:
            try:
                infos = self.lake.fs.get_file_info(pafs.FileSelector(self.lake.key(folder), allow_not_found=True))
            except Exception as exc:  # noqa: BLE001
                raise objectstore.LakeError(objectstore.scrub(f"cannot list {folder}: {exc}")) from None
            kind = pafs.FileType.Directory if dirs else pafs.FileType.File
            return [i.base_name for i in infos if i.type == kind]
        try:
            with os.scandir(folder) as it:
                return [e.name for e in it if e.is_dir() == dirs]
        except FileNotFoundError:
            return []

    def open(self, path: str) -> pq.ParquetFile:
        return lake_files.open_file(path)

    def publish(self, local: Path, final: str) -> None:
        if self.lake is not None:
            objectstore.upload(self.lake, local, final)
            return
        with open(local, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(local, final)

    def delete(self, path: str) -> None:
        """Delete a day file and its day folder."""
        if self.lake is not None:
            objectstore.delete_folder(self.lake, path.rsplit("/", 1)[0])
            return
        Path(path).unlink(missing_ok=True)
        try:
            Path(path).parent.rmdir()  # the emptied day folder (kept if anything else is in it)
        except OSError:
            pass


@dataclass
class MonthFile:
    path: str
    days: dict[dt.date, list[int]]
    file: pq.ParquetFile = field(repr=False)

    def read_day(self, day: dt.date) -> pa.Table:
        groups = self.days[day]
        return _gone_if_missing(lambda: self.file.read_row_groups(groups).cast(SCHEMA)) if groups else SCHEMA.empty_table()


def _gone_if_missing(read):
    try:
        return read()
    except FileNotFoundError:
        raise
    except OSError as exc:  # an object deleted between two range reads
        if objectstore.is_gone(exc):
            raise FileNotFoundError(objectstore.scrub(str(exc))) from None
        raise


def current_month_file(store: _Store, connector: str, month: dt.date) -> MonthFile | None:
    names = sorted(n for n in store.names(store.month_dir(connector, month), dirs=False)
                   if n.startswith("data-") and n.endswith(".parquet"))
    if not names:
        return None
    path = f"{store.month_dir(connector, month)}/{names[-1]}"
    pf = store.open(path)
    raw = json.loads(pf.schema_arrow.metadata[DAYS_KEY])
    return MonthFile(path, {dt.date.fromisoformat(d): g for d, g in raw.items()}, pf)


def _read_days_once(store: _Store, connector: str, days: list[dt.date]) -> dict[dt.date, pa.Table]:
    present = store.stat([store.day_file(connector, d) for d in days])
    months: dict[dt.date, MonthFile | None] = {}
    out: dict[dt.date, pa.Table] = {}
    for d in days:
        path = store.day_file(connector, d)
        if path in present:
            out[d] = _gone_if_missing(lambda: store.open(path).read().cast(SCHEMA))
            continue
        m = month_of(d)
        if m not in months:
            months[m] = current_month_file(store, connector, m)
        if months[m] is not None and d in months[m].days:
            out[d] = months[m].read_day(d)
    return out


def read_days(data_dir: Path, connector: str, days: list[dt.date], attempts: int = 8) -> dict[dt.date, pa.Table]:
    """Each collected day of `days` exactly once, from its day file or its month file."""
    store = _Store(data_dir)
    for attempt in range(attempts):
        try:
            return _read_days_once(store, connector, days)
        except FileNotFoundError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 * 2 ** attempt)  # a compaction moved a source: resolve again
    raise AssertionError("unreachable")


def day_sources(data_dir: Path, connector: str, days: list[dt.date]) -> dict[dt.date, Path | pa.Table]:
    """What a warehouse load takes for `days` (collected ones only): local day files as
    paths when no month of the range is compacted (DuckDB reads them itself), else the
    days' rows as read by `read_days`."""
    store = _Store(data_dir)
    months = sorted({month_of(d) for d in days})
    if store.lake is None and not any(store.names(store.month_dir(connector, m), dirs=False) for m in months):
        present = store.stat([store.day_file(connector, d) for d in days])
        return {d: Path(store.day_file(connector, d)) for d in days if store.day_file(connector, d) in present}
    return read_days(data_dir, connector, days)


def months_with_day_files(data_dir: Path, connector: str) -> list[dt.date]:
    store = _Store(data_dir)
    found = set()
    if store.lake is not None:
        # Object stores keep empty "folder" markers where day files were deleted: list
        # the objects (one paginated listing of the connector's prefix), not folders.
        names = {p.rsplit("/", 2)[-2] for p in objectstore.list_keys(store.lake, store.connector_dir(connector))
                 if p.endswith("/" + lake_files.FILE_NAME)}
    else:
        names = store.names(store.connector_dir(connector), dirs=True)
    for name in names:
        if name.startswith("date="):
            try:
                found.add(month_of(dt.date.fromisoformat(name[5:])))
            except ValueError:
                continue
    return sorted(found)


@dataclass
class Compacted:
    month: dt.date
    path: str
    days: int
    rows: int
    day_files_removed: int
    generations_removed: int


def compact_month(data_dir: Path, connector: str, month: dt.date) -> Compacted | None:
    """Rewrite one month of a connector into a new generation of its month file and
    remove what it replaces; None when the month has no day file (nothing to do).
    Run one compaction per connector at a time (the compaction job's connector tag)."""
    store = _Store(data_dir)
    days = month_days(month)
    day_paths = {d: store.day_file(connector, d) for d in days}
    present = store.stat(list(day_paths.values()))
    if not present:
        return None
    current = current_month_file(store, connector, month)
    plan: list[tuple[dt.date, object, int]] = []  # (day, source, rows)
    for d in days:
        if day_paths[d] in present:
            pf = store.open(day_paths[d])
            plan.append((d, pf, pf.metadata.num_rows))
        elif current is not None and d in current.days:
            groups = current.days[d]
            plan.append((d, current, sum(current.file.metadata.row_group(g).num_rows for g in groups)))
    layout, next_group = {}, 0
    for d, _, rows in plan:
        n = math.ceil(rows / ROW_GROUP_SIZE)
        layout[d.isoformat()] = list(range(next_group, next_group + n))
        next_group += n
    schema = SCHEMA.with_metadata({**(SCHEMA.metadata or {}), DAYS_KEY: json.dumps(layout).encode()})
    folder = store.month_dir(connector, month)
    final = f"{folder}/data-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.parquet"
    staging = Path(tempfile.mkdtemp(prefix="jira-etl-compact-")) if store.lake else Path(folder)
    staging.mkdir(parents=True, exist_ok=True)
    tmp = staging / f".compacting.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    total = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for d, source, rows in plan:
                table = source.read_day(d) if isinstance(source, MonthFile) else source.read().cast(SCHEMA)
                if table.num_rows != rows:
                    raise RuntimeError(f"{connector} {d}: read {table.num_rows} rows, expected {rows}")
                if rows:
                    writer.write_table(table.cast(schema), row_group_size=ROW_GROUP_SIZE)
                total += rows
        written = pq.ParquetFile(tmp).metadata
        if written.num_rows != total or written.num_row_groups != next_group:
            raise RuntimeError(f"{connector} {month:%Y-%m}: the month file's row groups do not match the plan")
        store.publish(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
        if store.lake is not None:
            shutil.rmtree(staging, ignore_errors=True)
    # Only now may the sources go. A day file written again meanwhile (it changed
    # since it was read) stays: it wins over the month file until the next compaction.
    removed = 0
    still = store.stat([day_paths[d] for d, s, _ in plan if not isinstance(s, MonthFile)])
    for path, stamp in still.items():
        if present.get(path) == stamp:
            store.delete(path)
            removed += 1
    old = [n for n in store.names(folder, dirs=False)
           if n.startswith("data-") and n.endswith(".parquet") and f"{folder}/{n}" < final]
    for name in old:
        if store.lake is not None:
            objectstore.delete(store.lake, f"{folder}/{name}")
        else:
            Path(folder, name).unlink(missing_ok=True)
    return Compacted(month, final, len(plan), total, removed, len(old))


def compact_closed_months(data_dir: Path, connector: str, today: dt.date) -> list[Compacted]:
    """Every closed month of the connector that still has day files."""
    done = []
    for month in months_with_day_files(data_dir, connector):
        if is_closed(month, today):
            result = compact_month(data_dir, connector, month)
            if result is not None:
                done.append(result)
    return done
