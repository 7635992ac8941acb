"""Real Dagster materializations: simulator over HTTP -> Parquet -> DuckDB, range runs, re-runs."""

import datetime as dt

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from jira_etl.defs.assets.extract import parquet_asset_key
from jira_etl.defs.assets.load import duckdb_asset_key
from jira_etl.defs.definitions import connector_assets
from jira_etl.normalize import SCHEMA
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator
from jira_etl.storage import lake

UTC = dt.timezone.utc
END = dt.date(2026, 3, 6)
START = END - dt.timedelta(days=4)


def resources(sim, data_dir, **jira):
    return {
        "jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token,
                                  backoff_base_s=0.01, backoff_max_s=0.05, **jira),
        "storage": StorageResource(data_dir=str(data_dir)),
    }


def materialize_range(sim, data_dir, instance, start, end, **jira):
    return dg.materialize(
        connector_assets("acme"),
        resources=resources(sim, data_dir, **jira),
        instance=instance,
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat()},
        raise_on_error=False,
    )


def truth(site, start, end):
    lo = dt.datetime.combine(start, dt.time(), UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC) - dt.timedelta(milliseconds=1)
    return site.truth_ids(lo, hi)


def table_ids(data_dir):
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = 'acme'").fetchall()]


@pytest.fixture
def site5():
    data = SiteData(seed=21, start=START - dt.timedelta(days=3), tz_offset="+0530")
    data.silent_days.add(START + dt.timedelta(days=1))
    return data


def test_single_run_range_backfill_is_exact_and_idempotent(site5, data_dir, instance):
    with JiraSimulator(site5, faults=Faults(limit_clamp=97, rate_limit_every=7, error_5xx_every=11)) as sim:
        first = materialize_range(sim, data_dir, instance, START, END)
        assert first.success
        # One run covered all five partitions of both assets.
        runs = instance.get_runs()
        assert len(runs) == 1
        records = instance.fetch_materializations(parquet_asset_key("acme"), limit=10).records
        assert len(records) == 5
        assert {r.partition_key for r in records} == {(START + dt.timedelta(days=i)).isoformat() for i in range(5)}
        ids = table_ids(data_dir)
        expected = truth(site5, START, END)
        assert len(ids) == len(set(ids)) and set(ids) == expected
        # Re-materializing the same partitions changes nothing and duplicates nothing.
        second = materialize_range(sim, data_dir, instance, START, END)
        assert second.success
        ids2 = table_ids(data_dir)
        assert sorted(ids2) == sorted(ids)
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in second.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    for name in ("ids_unique", "created_within_partition", "written_matches_received",
                 "rows_match_parquet"):
        assert checks[name] is True, name


def test_parquet_layout_schema_and_empty_day(site5, data_dir, instance):
    with JiraSimulator(site5) as sim:
        assert materialize_range(sim, data_dir, instance, START, END).success
    silent = START + dt.timedelta(days=1)
    for i in range(5):
        day = START + dt.timedelta(days=i)
        path = data_dir / "parquet" / "audit_records" / "connector=acme" / f"date={day.isoformat()}" / "data.parquet"
        assert path.exists()
        table = pq.ParquetFile(path).read()
        assert table.schema.equals(SCHEMA, check_metadata=False)
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
        if day == silent:
            assert table.num_rows == 0  # collected, empty: a file with the schema
        else:
            assert table.num_rows == len(truth(site5, day, day))
    assert not list((data_dir / "parquet").rglob("*.tmp"))
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        rows = dict(con.execute("SELECT day, record_count FROM collected_partitions").fetchall())
        hive = con.execute(
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE connector = 'acme'",
            [str(data_dir / "parquet/audit_records/*/*/*.parquet")],
        ).fetchone()[0]
    assert rows[silent] == 0 and len(rows) == 5
    assert hive == len(truth(site5, START, END))


def test_metadata_in_event_log(site5, data_dir, instance):
    with JiraSimulator(site5) as sim:
        result = materialize_range(sim, data_dir, instance, START, START + dt.timedelta(days=1))
    mat = [m for m in result.asset_materializations_for_node("acme__audit_records")
           if m.asset_key == dg.AssetKey(["acme", "audit_records_parquet"])][0]
    md = mat.metadata
    assert md["records_in_run"].value == len(truth(site5, START, START + dt.timedelta(days=1)))
    assert [c.name for c in md["dagster/column_schema"].schema.columns] == SCHEMA.names
    assert "preview" in md and "records_per_day" in md and md["http_requests"].value > 0


def test_failed_fetch_publishes_nothing(site5, data_dir, instance):
    day = START
    with JiraSimulator(site5, faults=Faults(error_5xx_every=1)) as sim:
        result = materialize_range(sim, data_dir, instance, day, day, max_retries=2)
    assert not result.success
    assert not lake.partition_file(data_dir, "acme", day).exists()
    assert not (data_dir / "jira_audit.duckdb").exists() or table_ids(data_dir) == []
    # A re-run after the fault clears completes with exactly the truth.
    with JiraSimulator(site5) as sim:
        assert materialize_range(sim, data_dir, instance, day, day).success
    assert set(table_ids(data_dir)) == truth(site5, day, day)


def test_single_partition_key_run(site5, data_dir, instance):
    with JiraSimulator(site5) as sim:
        result = dg.materialize(connector_assets("acme"), resources=resources(sim, data_dir), instance=instance,
                                partition_key=END.isoformat())
    assert result.success
    assert set(table_ids(data_dir)) == truth(site5, END, END)


def materialize_selected(sim, data_dir, instance, start, end, selection):
    return dg.materialize(
        connector_assets("acme"), selection=selection, resources=resources(sim, data_dir), instance=instance,
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat()},
        raise_on_error=False,
    )


def test_each_half_of_the_audit_records_alone(site5, data_dir, instance):
    """Parquet only leaves DuckDB alone; DuckDB only loads the existing files."""
    with JiraSimulator(site5) as sim:
        only_files = materialize_selected(sim, data_dir, instance, START, END, [parquet_asset_key("acme")])
    assert only_files.success
    assert {m.asset_key for m in only_files.get_asset_materialization_events()} == {parquet_asset_key("acme")}
    assert lake.partition_file(data_dir, "acme", END).exists()
    assert not (data_dir / "jira_audit.duckdb").exists() or table_ids(data_dir) == []
    checks = {e.asset_check_evaluation_data.check_name for e in only_files.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks == {"ids_unique", "instants_listed_whole", "created_within_partition", "written_matches_received"}

    # No simulator now: loading must not call the API.
    with JiraSimulator(SiteData.empty()) as idle:
        only_table = materialize_selected(idle, data_dir, instance, START, END, [duckdb_asset_key("acme")])
        assert idle.api_requests == 0
    assert only_table.success
    assert {m.asset_key for m in only_table.get_asset_materialization_events()} == {duckdb_asset_key("acme")}
    assert sorted(table_ids(data_dir)) == sorted(truth(site5, START, END))


def test_a_failing_load_fails_the_run_after_the_files_are_published(site5, data_dir, instance):
    # A directory where the DuckDB file belongs: every load fails, the collection does not.
    (data_dir / "jira_audit.duckdb").mkdir(parents=True)
    with JiraSimulator(site5) as sim:
        result = materialize_range(sim, data_dir, instance, START, END)
    assert not result.success
    for i in range(5):
        assert lake.partition_file(data_dir, "acme", START + dt.timedelta(days=i)).exists()


def test_range_run_partitions_carry_their_own_day_count(site5, data_dir, instance):
    # One run over three days (the middle one silent): the UI's partition view reads
    # each partition's materialization, which must hold that day's count, not the run's.
    end = START + dt.timedelta(days=2)
    with JiraSimulator(site5) as sim:
        assert materialize_range(sim, data_dir, instance, START, end).success
    expected = {(START + dt.timedelta(days=i)).isoformat(): len(truth(site5, START + dt.timedelta(days=i),
                                                                      START + dt.timedelta(days=i)))
                for i in range(3)}
    assert expected[(START + dt.timedelta(days=1)).isoformat()] == 0 and len(set(expected.values())) == 3
    for key in (parquet_asset_key("acme"), duckdb_asset_key("acme")):
        records = instance.fetch_materializations(key, limit=10).records
        got = {r.partition_key: r.asset_materialization.metadata["dagster/row_count"].value for r in records}
        assert got == expected, key
    assert dg.AssetCheckKey(duckdb_asset_key("acme"), "no_duplicate_ids") not in {
        k for a in connector_assets("acme") for k in a.check_keys}


def test_an_instant_beyond_the_offset_cap_fails_its_check_and_shows_in_status(data_dir, instance):
    from types import SimpleNamespace

    from jira_etl.status import collection_status
    from jira_etl.storage.warehouse import Warehouse

    data = SiteData(seed=21, daily_volume=50, start=START - dt.timedelta(days=1))
    burst_at = dt.datetime.combine(START, dt.time(13, 0), UTC)
    data.add_records([{"created": burst_at} for _ in range(2500)])  # one millisecond, 2,500 records

    def run(faults):
        with JiraSimulator(data, faults=faults) as sim:
            result = materialize_range(sim, data_dir, instance, START, START)
        assert result.success
        return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
                for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}

    def state():
        now = dt.datetime.combine(START + dt.timedelta(days=1), dt.time(6), UTC)
        (s,) = collection_status([SimpleNamespace(name="acme")], Warehouse(data_dir), now=now)
        return s

    checks = run(Faults(offset_cap=2000))
    whole = checks["instants_listed_whole"]
    assert whole.passed is False and whole.severity == dg.AssetCheckSeverity.ERROR
    assert whole.metadata["capped_instants"].value == 1
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT day, instant, records_listed FROM capped_instants").fetchall()
    assert [(d, t.astimezone(UTC), n) for d, t, n in rows] == [(START, burst_at, 2000)]
    s = state()
    assert s.state == "Incomplete" and START.isoformat() in s.last_error
    # Collected again where the whole instant can be listed: the day is whole again.
    checks = run(Faults())
    assert checks["instants_listed_whole"].passed is True
    assert state().state == "Active"
