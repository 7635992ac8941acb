"""The lake on an S3-compatible server (moto's, over HTTP on loopback): day files
published whole or not at all, loads from the bucket, compaction with a reader running
concurrently, and no credential in any error."""

from __future__ import annotations

import datetime as dt
import threading

import boto3
import pyarrow as pa
import pytest

from support import fast_retry
from jira_etl import collect
from jira_etl.records import SCHEMA
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator
from jira_etl.sources.client import JiraClient
from jira_etl.storage import compaction, lake, objectstore
from jira_etl.storage.warehouse import Warehouse
from services import start_moto

pytestmark = pytest.mark.cluster
SECRET = "moto-Secret-51c0de"
MONTH = dt.date(2026, 10, 1)
DAYS = compaction.month_days(MONTH)[:8]


@pytest.fixture
def s3(tmp_path, monkeypatch):
    proc, url = start_moto(tmp_path)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "lake-key")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("JIRA_ETL_LAKE", "s3://lake/prefix")
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        client.create_bucket(Bucket="lake")
        yield client
    finally:
        proc.stop()


def keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lake").get("Contents", []))


@pytest.fixture
def collected(s3, tmp_path):
    with JiraSimulator(SiteData(seed=9, daily_volume=120)) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        results = list(collect.collect_days(client, "c1", DAYS, tmp_path / "data", slices=2, concurrency=3))
    truth = {}
    for d in DAYS:
        lo = dt.datetime.combine(d, dt.time(), dt.timezone.utc)
        truth[d] = sim.data.truth_ids(lo, lo + dt.timedelta(days=1) - dt.timedelta(milliseconds=1))
    return tmp_path / "data", results, truth


def test_days_land_in_the_bucket_and_load_from_there(s3, collected):
    data_dir, results, truth = collected
    assert keys(s3) == [f"prefix/audit_records/connector=c1/date={d}/data.parquet" for d in DAYS]
    assert all(str(r.path).startswith("s3://lake/prefix/audit_records/connector=c1/") for r in results)
    assert not (data_dir / "parquet").exists()  # nothing written to the local lake
    counts = Warehouse(data_dir).load_partitions("c1", {r.day: r.path for r in results})
    assert counts == {d: len(truth[d]) for d in DAYS}
    with Warehouse(data_dir).reader() as con:
        ids = {r[0] for r in con.execute("SELECT id FROM audit_records").fetchall()}
    assert ids == set().union(*truth.values())
    assert lake.dataset_location(data_dir) == "s3://lake/prefix/audit_records"


def test_a_failed_write_leaves_no_object_and_errors_hold_no_secret(s3, tmp_path, monkeypatch):
    day = dt.date(2026, 9, 1)
    with pytest.raises(RuntimeError):
        with lake.PartitionWriter(tmp_path, "c1", day) as w:
            w.write(SCHEMA.empty_table())
            raise RuntimeError("the walk failed")
    assert keys(s3) == []
    monkeypatch.setenv("JIRA_ETL_LAKE", "s3://no-such-bucket/prefix")
    with pytest.raises(objectstore.LakeError) as err:
        lake.write_partition(SCHEMA.empty_table(), tmp_path, "c1", day)
    assert SECRET not in str(err.value) and "s3://no-such-bucket/" in str(err.value)
    assert SECRET not in repr(objectstore.remote_lake(tmp_path))
    monkeypatch.setenv("JIRA_ETL_LAKE", "s3://key:secret@lake/prefix")
    with pytest.raises(ValueError, match="not in the URI"):
        objectstore.remote_lake(tmp_path)


def test_compaction_on_s3_with_a_concurrent_reader(s3, collected):
    data_dir, _, truth = collected
    stop, seen, errors = threading.Event(), [], []

    def reader():
        while not stop.is_set():
            try:
                got = compaction.read_days(data_dir, "c1", DAYS)
                seen.append({d: set(t.column("id").to_pylist()) for d, t in got.items()} == truth
                            and all(t.num_rows == len(truth[d]) for d, t in got.items()))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        first = compaction.compact_month(data_dir, "c1", MONTH)
        lake.write_partition(compaction.read_days(data_dir, "c1", [DAYS[2]])[DAYS[2]], data_dir, "c1", DAYS[2])
        second = compaction.compact_month(data_dir, "c1", MONTH)
    finally:
        stop.set()
        thread.join()
    assert not errors and len(seen) >= 3 and all(seen), (errors[:2], len(seen))
    assert (first.day_files_removed, second.day_files_removed, second.generations_removed) == (8, 1, 1)
    # pyarrow keeps an empty marker for the connector's and the month's folder (two
    # objects, however many days were removed); one data object.
    objects = [k for k in keys(s3) if not k.endswith("/")]
    assert len(objects) == 1 and len(keys(s3)) <= 3, keys(s3)
    only = objects[0]
    assert only.startswith("prefix/audit_records/connector=c1/month=2026-10/data-")
    assert compaction.months_with_day_files(data_dir, "c1") == []
    sources = compaction.day_sources(data_dir, "c1", DAYS)
    assert all(isinstance(v, pa.Table) for v in sources.values())
    assert Warehouse(data_dir).load_partitions("c1", sources) == {d: len(truth[d]) for d in DAYS}
