"""One Parquet file per connector-day, published atomically.

Layout: parquet/audit_records/connector=<name>/date=<YYYY-MM-DD>/data.parquet (hive
style, so DuckDB and pyarrow read `connector` and `date` from the path). A file is
written under a hidden temporary name in the same folder and renamed into place, so a
reader or a crash never sees half a file (a killed writer's hidden temporary is removed
by the next write of that day); an empty file with the schema means
"collected, no records", which differs from "never collected" (no file).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jira_etl.records import SCHEMA

FILE_NAME = "data.parquet"
ROW_GROUP_SIZE = 100_000


def dataset_root(data_dir: Path) -> Path:
    return Path(data_dir) / "parquet" / "audit_records"


def partition_dir(data_dir: Path, connector: str, day: dt.date) -> Path:
    return dataset_root(data_dir) / f"connector={connector}" / f"date={day.isoformat()}"


def partition_file(data_dir: Path, connector: str, day: dt.date) -> Path:
    return partition_dir(data_dir, connector, day) / FILE_NAME


def write_partition(table: pa.Table, data_dir: Path, connector: str, day: dt.date) -> Path:
    """Atomically replace the connector-day's file with `table` (sorted newest first)."""
    table = table.cast(SCHEMA)
    folder = partition_dir(data_dir, connector, day)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / FILE_NAME
    remove_stale_temporaries_in(folder)
    tmp = _temporary(folder)
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_SIZE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(folder)
    return final


class PartitionWriter:
    """Stream a connector-day into its file row group by row group, published atomically.

        with PartitionWriter(data_dir, connector, day) as w:
            for table in tables:
                w.write(table)
        w.path  # the published file

    Tables are buffered to about ROW_GROUP_SIZE rows per row group, so memory is bounded
    by the row group, not by the day. The file appears under its final name only when
    the block ends without an exception (an empty day still gets a file with the schema);
    otherwise the temporary file is removed and an earlier file stays as it was.
    """

    def __init__(self, data_dir: Path, connector: str, day: dt.date, row_group_size: int = ROW_GROUP_SIZE):
        self.folder = partition_dir(data_dir, connector, day)
        self.path = self.folder / FILE_NAME
        self.row_group_size = row_group_size
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._tmp = _temporary(self.folder)
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> "PartitionWriter":
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries_in(self.folder)
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        return self

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self._buffer.append(table.cast(SCHEMA))
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=self.row_group_size)
            self._buffer, self._buffered = [], 0

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._flush()
                if not self.rows:  # same file as write_partition gives an empty day
                    self._writer.write_table(SCHEMA.empty_table())
            self._writer.close()
            if exc_type is None:
                with open(self._tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(self._tmp, self.path)
        finally:
            self._buffer = []
            if self._tmp.exists():
                self._tmp.unlink()
        if exc_type is None:
            _fsync_dir(self.folder)


def read_partition(data_dir: Path, connector: str, day: dt.date) -> pa.Table | None:
    path = partition_file(data_dir, connector, day)
    if not path.exists():
        return None
    # Read the file alone: reading the folder would add hive columns from the path.
    return pq.ParquetFile(path).read().cast(SCHEMA)


def _temporary(folder: Path) -> Path:
    """A hidden temporary name that says which process writes it (see below)."""
    return folder / f".{FILE_NAME}.{os.getpid()}.{uuid.uuid4().hex}.tmp"


def _is_stale(tmp: Path, legacy_age_s: float = 3600.0) -> bool:
    """A temporary whose writer is gone: a killed run's leftover. One of a live process
    (another run writing the same day right now) is never touched."""
    parts = tmp.name.split(".")  # "", "data", "parquet", pid, hex, "tmp"
    if len(parts) == 6 and parts[3].isdigit():
        pid = int(parts[3])
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # alive, owned by someone else
            return False
        return False
    try:  # a name without a pid (older releases): stale once old enough
        return time.time() - tmp.stat().st_mtime > legacy_age_s
    except FileNotFoundError:
        return False


def remove_stale_temporaries_in(folder: Path) -> int:
    """Delete the temporaries a crashed writer left in one partition folder."""
    count = 0
    for tmp in Path(folder).glob(f".{FILE_NAME}.*.tmp"):
        if _is_stale(tmp):
            tmp.unlink(missing_ok=True)
            count += 1
    return count


def remove_stale_temporaries(data_dir: Path) -> int:
    """Delete temporary files left by crashes anywhere in the dataset (never those of a
    writer that is still running). Writers also clean their own folder before writing."""
    count = 0
    root = dataset_root(data_dir)
    if root.exists():
        for folder in root.glob("connector=*/date=*"):
            count += remove_stale_temporaries_in(folder)
    return count


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
