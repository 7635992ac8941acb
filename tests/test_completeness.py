"""Issue 3: lose nothing, duplicate nothing, under the API's real behaviour."""

import datetime as dt

import dagster as dg
import duckdb
import pyarrow.parquet as pq

from support import day_window, fast_retry
from jira_etl.collect import collect_day
from jira_etl.defs.definitions import collection_assets
from jira_etl.sources.client import JiraClient
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.defs.schedules import finalize_yesterday_schedule, refresh_today_schedule
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator
from jira_etl.storage import lake

UTC = dt.timezone.utc
DAY = dt.date(2026, 4, 7)
T0 = dt.datetime.combine(DAY, dt.time(), UTC)


def test_incremental_refresh_fetches_only_new_and_merges(tmp_path):
    data = SiteData.empty(seed=12)
    data.add_records([{"created": T0 + dt.timedelta(minutes=m)} for m in range(0, 600, 2)])  # 300 by 10:00
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        first = collect_day(c, "acme", DAY, tmp_path, incremental=True)  # nothing held yet: whole day
        assert first.rows == 300 and first.fetched_from == T0
        newest = T0 + dt.timedelta(minutes=598)
        # Later that day: new records, and a late write stamped 5 minutes before the newest held.
        late = data.add_record(newest - dt.timedelta(minutes=5))
        new = data.add_records([{"created": T0 + dt.timedelta(hours=11, seconds=s)} for s in range(50)])
        c.stats.requests = 0
        second = collect_day(c, "acme", DAY, tmp_path, incremental=True, overlap=dt.timedelta(minutes=10))
    assert second.fetched_from == newest - dt.timedelta(minutes=10)
    assert second.unique_received == 5 + 1 + 1 + 50  # the overlap's 6 old rows (incl. newest), the late one, the new
    assert second.kept_from_previous == 300 - 6
    table = lake.read_partition(tmp_path, "acme", DAY)
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 351
    assert set(ids) == data.truth_ids(*day_window(DAY))
    assert late["id"] in ids and {r["id"] for r in new} <= set(ids)
    assert ids == sorted(ids, reverse=True)
    assert c.stats.requests <= 3


def test_complete_days_are_fetched_whole(tmp_path):
    data = SiteData.empty(seed=13)
    data.add_records([{"created": T0 + dt.timedelta(minutes=m)} for m in range(0, 100)])
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        collect_day(c, "acme", DAY, tmp_path)
        result = collect_day(c, "acme", DAY, tmp_path)
    assert result.fetched_from == T0 and result.kept_from_previous == 0 and result.rows == 100


def test_oauth_bearer_through_the_gateway(tmp_path):
    data = SiteData(seed=14, start=DAY - dt.timedelta(days=1))
    with JiraSimulator(data, oauth_token="oauth-secret-xyz") as sim:
        res = JiraResource(connector="acme", cloud_id=sim.cloud_id, oauth_token="oauth-secret-xyz", gateway=sim.url,
                           backoff_base_s=0.01)
        client = res.get_client()
        assert client.base_url == sim.gateway_url
        result = collect_day(client, "acme", DAY, tmp_path)
        bad = JiraResource(connector="acme", cloud_id=sim.cloud_id, oauth_token="wrong", gateway=sim.url).get_client()
        try:
            bad.myself()
            raise AssertionError("a wrong bearer token must be refused")
        except Exception as exc:  # noqa: BLE001 - the typed error is asserted below
            assert type(exc).__name__ == "AuthenticationError"
    assert result.rows == len(data.truth_ids(*day_window(DAY))) > 0


def test_schedules_target_today_and_yesterday():
    job = dg.define_asset_job("j", selection=dg.AssetSelection.all())
    at = dt.datetime(2026, 4, 8, 0, 30, tzinfo=UTC)
    refresh = refresh_today_schedule(job, "acme")
    final = finalize_yesterday_schedule(job, "acme")
    assert refresh.cron_schedule == "*/15 * * * *" and final.cron_schedule == "30 0 * * *"
    ctx = dg.build_schedule_context(scheduled_execution_time=at)
    assert refresh(ctx).partition_key == "2026-04-08"
    assert final(ctx).partition_key == "2026-04-07"
    assert refresh.default_status == dg.DefaultScheduleStatus.STOPPED


def hazard_site() -> tuple[SiteData, dt.date, dt.date]:
    """Ten days with every hazard: +0530 offsets, a 3000-record millisecond, a day
    of 9000 (more than twice the offset cap of 4000), and exact-midnight edges."""
    start = DAY - dt.timedelta(days=9)
    data = SiteData(seed=31, start=start - dt.timedelta(days=2), tz_offset="+0530")
    burst_at = dt.datetime.combine(start + dt.timedelta(days=3), dt.time(14, 0), UTC)
    data.add_records([{"created": burst_at} for _ in range(3000)])
    big = dt.datetime.combine(start + dt.timedelta(days=6), dt.time(), UTC)
    data.add_records([{"created": big + dt.timedelta(seconds=9 * i)} for i in range(9000)])
    for i in range(10):
        midnight = dt.datetime.combine(start + dt.timedelta(days=i), dt.time(), UTC)
        data.add_records([{"created": midnight}, {"created": midnight - dt.timedelta(milliseconds=1)}])
    return data, start, DAY


def test_ten_day_backfill_with_every_hazard_is_exact_and_stable(tmp_path, instance):
    data, start, end = hazard_site()
    faults = Faults(offset_cap=4000, rate_limit_every=13, retry_after=0, error_5xx_every=17, total_mode="instance")
    resources = {
        "jira_acme": JiraResource(connector="acme", site="", backoff_base_s=0.01, backoff_max_s=0.02),
        "storage": StorageResource(data_dir=str(tmp_path)),
    }
    tags = {"dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat()}
    truth = data.truth_ids(T0 - dt.timedelta(days=9), T0 + dt.timedelta(days=1) - dt.timedelta(milliseconds=1))
    assert len(truth) > 12_000

    def run_and_read():
        with JiraSimulator(data, faults=faults) as sim:
            resources["jira_acme"] = JiraResource(connector="acme", site=sim.url, email=sim.email,
                                                  api_token=sim.token, backoff_base_s=0.01, backoff_max_s=0.02)
            result = dg.materialize(collection_assets("acme"), resources=resources, instance=instance, tags=tags)
            assert result.success and sim.faults_injected > 0
        with duckdb.connect(str(tmp_path / "jira_audit.duckdb"), read_only=True) as con:
            return con.execute("SELECT id, created, raw FROM audit_records ORDER BY id").fetchall()

    rows = run_and_read()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "duplicates"
    assert set(ids) == truth, f"missing {len(truth - set(ids))}, extra {len(set(ids) - truth)}"
    files = sorted((tmp_path / "parquet/audit_records/connector=acme").glob("date=*/data.parquet"))
    assert len(files) == 10 and sum(pq.ParquetFile(f).metadata.num_rows for f in files) == len(truth)
    assert run_and_read() == rows  # a re-run changes nothing
