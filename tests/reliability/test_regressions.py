"""Regression tests for the failures the reliability harness found (one per fix)."""

import datetime as dt
import os
import subprocess
import sys

import pyarrow.parquet as pq

from jira_etl.normalize import SCHEMA
from jira_etl.storage import parquet


def test_a_killed_writers_temporary_is_removed_by_the_next_write_never_a_live_one(tmp_path):
    """Regression: a SIGKILLed backfill left `.data.parquet.<uuid>.tmp` in the partition
    folder forever (nothing removed it). Temporaries now carry the writer's pid; the next
    write of the day removes those whose process is gone, and never one that is alive."""
    day = dt.date(2026, 3, 1)
    folder = parquet.partition_dir(tmp_path, "acme", day)
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = folder / f".data.parquet.{dead.pid}.0123abcd.tmp"
        busy = folder / f".data.parquet.{live.pid}.4567cdef.tmp"
        stale.write_bytes(b"half a file")
        busy.write_bytes(b"being written")
        parquet.write_partition(SCHEMA.empty_table(), tmp_path, "acme", day)
        assert not stale.exists() and busy.exists()
        with parquet.PartitionWriter(tmp_path, "acme", day + dt.timedelta(days=1)) as w:
            assert w._tmp.name.split(".")[3] == str(os.getpid())
        assert pq.read_table(parquet.partition_file(tmp_path, "acme", day)).num_rows == 0
        assert parquet.remove_stale_temporaries(tmp_path) == 0 and busy.exists()
    finally:
        live.kill()
        live.wait()
    assert parquet.remove_stale_temporaries(tmp_path) == 1 and not busy.exists()
