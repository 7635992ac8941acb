"""Monthly compaction: one file per closed month, readers see every record exactly once
before, during and after (a reader thread runs the whole time), loads and the Dagster
asset read the month file."""

import datetime as dt
import threading

import dagster as dg
import pyarrow as pa
import pytest

from support import fast_retry
from jira_etl import collect
from jira_etl.defs.assets.compaction import build_compaction_asset
from jira_etl.sources.client import JiraClient
from jira_etl.records import SCHEMA
from jira_etl.defs.resources import StorageResource
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator
from jira_etl.storage import compaction
from jira_etl.storage import lake as lake_files
from jira_etl.storage.warehouse import Warehouse

MONTH = dt.date(2026, 10, 1)
DAYS = compaction.month_days(MONTH)
EMPTY_DAY = dt.date(2026, 10, 17)


def ids_by_day(tables: dict) -> dict:
    return {d: sorted(t.column("id").to_pylist()) for d, t in tables.items()}


@pytest.fixture
def lake(tmp_path):
    data_dir = tmp_path / "data"
    with JiraSimulator(SiteData(seed=5, daily_volume=150)) as sim:
        client = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        days = [d for d in DAYS if d != EMPTY_DAY]
        assert len(list(collect.collect_days(client, "c1", days, data_dir, slices=2, concurrency=4))) == len(days)
    lake_files.write_partition(SCHEMA.empty_table(), data_dir, "c1", EMPTY_DAY)  # collected, no records
    return data_dir


def test_readers_see_each_record_once_before_during_and_after(lake, monkeypatch):
    monkeypatch.setattr(compaction, "ROW_GROUP_SIZE", 64)  # several row groups per day
    before = ids_by_day(compaction.read_days(lake, "c1", DAYS))
    assert len(before) == len(DAYS) and before[EMPTY_DAY] == [] and sum(map(len, before.values())) == 150 * 30
    stop, seen, errors = threading.Event(), [], []

    def reader():
        while not stop.is_set():
            try:
                got = compaction.read_days(lake, "c1", DAYS)
                seen.append(ids_by_day(got) == before)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        first = compaction.compact_month(lake, "c1", MONTH)
        # A day collected again after compaction: its day file wins, then is folded in.
        again = compaction.read_days(lake, "c1", [dt.date(2026, 10, 5)])[dt.date(2026, 10, 5)]
        lake_files.write_partition(again, lake, "c1", dt.date(2026, 10, 5))
        second = compaction.compact_month(lake, "c1", MONTH)
        third = compaction.compact_month(lake, "c1", MONTH)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors[:3]
    assert len(seen) >= 5 and all(seen), (len(seen), seen.count(False))
    assert (first.days, first.rows, first.day_files_removed) == (31, 150 * 30, 31)
    assert (second.day_files_removed, second.generations_removed) == (1, 1)
    assert third is None  # no day file left: nothing to do
    root = lake_files.dataset_root(lake) / "connector=c1"
    assert sorted(p.name for p in root.iterdir()) == ["month=2026-10"]
    (month_file,) = (root / "month=2026-10").iterdir()
    assert month_file.name.startswith("data-") and month_file.name == second.path.rsplit("/", 1)[1]
    assert ids_by_day(compaction.read_days(lake, "c1", DAYS)) == before

    # A load reads the month file: the warehouse holds exactly the records, empty day included.
    wh = Warehouse(lake)
    sources = compaction.day_sources(lake, "c1", DAYS)
    assert all(isinstance(v, pa.Table) for v in sources.values()) and len(sources) == 31
    counts = wh.load_partitions("c1", sources)
    with wh.reader() as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM audit_records").fetchone() == (4500, 4500)
        assert con.execute("SELECT record_count FROM collected_partitions WHERE day = ?", [EMPTY_DAY]).fetchone() == (0,)
    assert counts[EMPTY_DAY] == 0


def test_only_closed_months_and_the_asset(lake, instance):
    assert not compaction.is_closed(MONTH, dt.date(2026, 11, 1))
    assert compaction.is_closed(MONTH, dt.date(2026, 11, 2))
    assert compaction.compact_closed_months(lake, "c1", dt.date(2026, 11, 1)) == []
    result = dg.materialize([build_compaction_asset("c1")], resources={"storage": StorageResource(data_dir=str(lake))},
                            instance=instance)
    assert result.success
    mat = result.asset_materializations_for_node("c1__lake_compaction")[0]
    assert mat.metadata["months_compacted"].value == 1 and mat.metadata["records"].value == 4500
    assert compaction.months_with_day_files(lake, "c1") == []
