"""`jira-etl sql` only reads: the warehouse and Parquet under the data directory, nothing
else, and it never takes the writer's lock nor runs DDL. Real DuckDB file, real CLI."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from filelock import FileLock

from jira_etl import cli, normalize
from jira_etl.storage import lake
from jira_etl.storage.warehouse import Warehouse

DAY = dt.date(2026, 3, 1)


@pytest.fixture
def loaded(data_dir):
    records = [{"id": i, "created": "2026-03-01T10:00:00.000+0000", "summary": "User created"} for i in (1, 2, 3)]
    path = lake.write_partition(normalize.to_table(records, "c1"), data_dir, "c1", DAY)
    wh = Warehouse(data_dir)
    wh.load_partitions("c1", {DAY: path})
    return wh


def sql(capsys, query: str) -> tuple[int, str, str]:
    code = cli.main(["sql", query, "--format", "csv"])
    out = capsys.readouterr()
    return code, out.out.replace("\r\n", "\n"), out.err


def test_reads_the_warehouse_and_the_lake(loaded, capsys):
    assert sql(capsys, "SELECT count(*) AS n FROM audit_records")[:2] == (0, "n\n3\n")
    root = lake.dataset_root(loaded.data_dir)
    code, out, _ = sql(capsys, f"SELECT count(*) AS n FROM read_parquet('{root}/*/*/*.parquet', hive_partitioning = true)")
    assert (code, out) == (0, "n\n3\n")
    assert sql(capsys, "SELECT count(*) AS n FROM hunt_daily_summary")[0] == 0


@pytest.mark.parametrize("query", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
])
def test_cannot_read_outside_the_data_directory(loaded, capsys, query):
    code, out, err = sql(capsys, query)
    assert code == 2 and "root:" not in out and "Permission" in err


@pytest.mark.parametrize("query", [
    "COPY (SELECT 1) TO '{d}/x.csv'",
    "COPY audit_records TO '/tmp/jira_etl_sandbox_x.parquet'",
    "SELECT 1; COPY (SELECT 1) TO '{d}/y.csv'",
    "EXPORT DATABASE '{d}/export'",
    "ATTACH '{d}/other.duckdb'",
    "SET enable_external_access = true",
    "INSTALL httpfs",
    "CREATE TEMP TABLE t AS SELECT 1",
])
def test_writes_nothing(loaded, capsys, query):
    before = sorted(p.name for p in loaded.data_dir.rglob("*"))
    code, _, err = sql(capsys, query.format(d=loaded.data_dir))
    assert code == 2 and "read-only" in err
    assert sorted(p.name for p in loaded.data_dir.rglob("*")) == before


def test_a_query_cannot_reopen_the_sandbox(loaded):
    with loaded.reader(sandbox_dirs=[loaded.data_dir]) as con:
        with pytest.raises(Exception, match="lock|configuration"):
            con.execute("SET enable_external_access = true")


def test_readers_never_take_the_writers_lock(loaded, data_dir):
    # Another process loading holds the writer's lock for minutes; a read must not wait on it.
    with FileLock(str(loaded.path) + ".lock", timeout=1):
        out = subprocess.run([sys.executable, "-c", "from jira_etl.cli import main; raise SystemExit(main())",
                              "sql", "SELECT count(*) AS n FROM audit_records", "--format", "csv"],
                             capture_output=True, text=True, timeout=60,
                             env={**__import__("os").environ, "JIRA_ETL_DATA_DIR": str(data_dir)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.replace("\r\n", "\n").endswith("n\n3\n")
