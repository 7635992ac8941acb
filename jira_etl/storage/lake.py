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
import re
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jira_etl.records import SCHEMA
from jira_etl.storage import objectstore

FILE_NAME = "data.parquet"
ROW_GROUP_SIZE = 100_000


def dataset_root(data_dir: Path) -> Path:
    """The local lake's dataset folder ($JIRA_ETL_LAKE when it is a path)."""
    return objectstore.local_root(data_dir) / "audit_records"


def dataset_location(data_dir: Path) -> str:
    """Where the dataset is, as shown to users: a folder or an s3:// (gs://, abfs://) URI."""
    lake = objectstore.remote_lake(data_dir)
    return lake.join("audit_records") if lake else str(dataset_root(data_dir))


def partition_dir(data_dir: Path, connector: str, day: dt.date) -> Path:
    return dataset_root(data_dir) / f"connector={connector}" / f"date={day.isoformat()}"


def partition_file(data_dir: Path, connector: str, day: dt.date) -> Path | str:
    """The day's file: a Path in a local lake, a URI on object storage."""
    lake = objectstore.remote_lake(data_dir)
    if lake is not None:
        return lake.join("audit_records", f"connector={connector}", f"date={day.isoformat()}", FILE_NAME)
    return partition_dir(data_dir, connector, day) / FILE_NAME


def write_partition(table: pa.Table, data_dir: Path, connector: str, day: dt.date) -> Path | str:
    """Atomically replace the connector-day's file with `table` (sorted newest first)."""
    table = table.cast(SCHEMA)
    lake = objectstore.remote_lake(data_dir)
    if lake is not None:  # written locally, then one upload: never partial under its name
        uri = partition_file(data_dir, connector, day)
        objectstore.put_table(lake, table, uri, compression="zstd", row_group_size=ROW_GROUP_SIZE)
        return uri
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
        self._lake = objectstore.remote_lake(data_dir)
        # On object storage the file is staged in a private local folder and uploaded
        # whole when the block ends.
        self.folder = (Path(tempfile.mkdtemp(prefix="jira-etl-day-")) if self._lake
                       else partition_dir(data_dir, connector, day))
        self.path = partition_file(data_dir, connector, day)
        self.row_group_size = row_group_size
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._tmp = _temporary(self.folder)
        self._writer: pq.ParquetWriter | None = None
        self._sealed = False

    def __enter__(self) -> "PartitionWriter":
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries_in(self.folder)
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd")
        return self

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self._sealed:
            raise RuntimeError(f"the file of {self.path} is sealed: no more rows can be written")
        self._buffer.append(table.cast(SCHEMA))
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=self.row_group_size)
            self._buffer, self._buffered = [], 0

    def seal(self) -> Path:
        """Everything but placing the file: the last row group and the footer written,
        the temporary file closed and (on a local lake) synced. Idempotent; nothing more
        may be written. The complete temporary file, exactly what the block's end places
        (a day walked ahead of its run is sealed as it completes: see head_start.py)."""
        if not self._sealed:
            self._flush()
            if not self.rows:  # same file as write_partition gives an empty day
                self._writer.write_table(SCHEMA.empty_table())
            self._writer.close()
            if self._lake is None:
                with open(self._tmp, "rb") as fh:
                    os.fsync(fh.fileno())
            self._sealed = True
        return self._tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.seal()
            elif not self._sealed:
                self._writer.close()
            if exc_type is None and self._lake is not None:
                objectstore.upload(self._lake, self._tmp, self.path)
            elif exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            self._buffer = []
            if self._tmp.exists():
                self._tmp.unlink()
            if self._lake is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
        if exc_type is None and self._lake is None:
            _fsync_dir(self.folder)


def read_partition(data_dir: Path, connector: str, day: dt.date) -> pa.Table | None:
    try:
        return read_file(partition_file(data_dir, connector, day))
    except FileNotFoundError:
        return None


def open_file(path: Path | str) -> pq.ParquetFile:
    """A day or month file of either kind of lake; FileNotFoundError if it is gone."""
    if objectstore.is_remote(path):
        return objectstore.open_parquet(objectstore.remote_lake_of(path), path)
    return pq.ParquetFile(path)


def read_file(path: Path | str, columns: list[str] | None = None) -> pa.Table:
    # Read the file alone: reading the folder would add hive columns from the path.
    table = open_file(path).read(columns=columns)
    return table if columns else table.cast(SCHEMA)


def _host() -> str:
    # Dots separate the name's fields; a host name keeps letters, digits, '-' and '_'.
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def _temporary(folder: Path) -> Path:
    """A hidden temporary name that says which process on which host writes it: the
    lake may be a volume shared by containers or machines, where pids repeat."""
    return folder / f".{FILE_NAME}.{_host()}.{os.getpid()}.{uuid.uuid4().hex}.tmp"


def _pid_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, owned by someone else
        return False
    return False


def _is_stale(tmp: Path, legacy_age_s: float = 3600.0, other_host_age_s: float = 24 * 3600.0) -> bool:
    """A temporary whose writer is gone: a killed run's leftover. One of a live process
    (another run writing the same day right now) is never touched. A writer on another
    host cannot be asked, so its temporary is left for a day (no write takes that long)."""
    parts = tmp.name.split(".")  # "", "data", "parquet", host, pid, hex, "tmp"
    if len(parts) == 7 and parts[4].isdigit():
        if parts[3] == _host():
            return _pid_gone(int(parts[4]))
        return _older_than(tmp, other_host_age_s)
    if len(parts) == 6 and parts[3].isdigit():  # releases before the host was named
        return _pid_gone(int(parts[3]))
    return _older_than(tmp, legacy_age_s)  # a name without a pid (older releases)


def _older_than(tmp: Path, age_s: float) -> bool:
    try:
        return time.time() - tmp.stat().st_mtime > age_s
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
