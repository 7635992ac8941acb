"""The settle pass: the last three complete days collected again once a day, so a record
Jira indexes after its day was finalized is still caught and counted as late."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.instance import DagsterInstance, InstanceRef

from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PARQUET = dg.AssetKey(["acme", "audit_records_parquet"])
# What the daemon does on a tick of the schedule: evaluate it, launch its run request as
# a run of the schedule's job (the whole job, with the request's tags).
TICK = """
import datetime as dt, sys
import dagster as dg
from jira_etl.cli.backfill import ensure_dagster_home
from jira_etl.cli.job_run import run_job
from jira_etl.definitions import defs

ensure_dagster_home()
schedule = defs.get_schedule_def("acme_settle_recent")
tick = dt.datetime.now(dt.timezone.utc).replace(hour=3, minute=30, second=0, microsecond=0)
(request,) = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
result = run_job(schedule.job_name, instance=dg.DagsterInstance.get(), tags=dict(request.tags))
sys.exit(0 if result.success else 1)
"""


def late_by_day(inst, run_id) -> dict[str, int]:
    records = inst.fetch_materializations(dg.AssetRecordsFilter(asset_key=PARQUET), limit=100).records
    return {r.partition_key: r.asset_materialization.metadata["late_records"].value
            for r in records if r.run_id == run_id}


def test_the_settle_pass_catches_late_records_and_counts_them_per_day(env, tmp_path):
    today = dt.datetime.now(UTC).date()
    days = [today - dt.timedelta(days=i) for i in (3, 2, 1)]
    site = SiteData(seed=9)
    with JiraSimulator(site) as sim:
        env = env | {"JIRA_SITE": sim.url, "JIRA_EMAIL": sim.email, "JIRA_API_TOKEN": sim.token,
                     "JIRA_CONNECTOR": "acme"}

        def cli(*args):
            out = subprocess.run([str(BIN / "jira-etl"), *args], env=env, capture_output=True, text=True,
                                 timeout=180, cwd=tmp_path)
            assert out.returncode == 0, out.stdout + out.stderr
            return out

        cli("backfill", "--start", days[0].isoformat(), "--end", days[2].isoformat())
        # Indexed late: created on a day already collected, visible only now.
        late = site.add_record(dt.datetime.combine(days[1], dt.time(13, 5, 7), UTC), summary="User created")
        out = subprocess.run([sys.executable, "-c", TICK], env=env, capture_output=True, text=True, timeout=240,
                             cwd=tmp_path)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as inst:
            (settle,) = [r for r in inst.get_runs(filters=dg.RunsFilter(job_name="collect_acme"))
                         if r.tags.get("jira_etl/trigger") == "settle_recent"]
            assert settle.status == dg.DagsterRunStatus.SUCCESS
            assert late_by_day(inst, settle.run_id) == {days[0].isoformat(): 0, days[1].isoformat(): 1,
                                                        days[2].isoformat(): 0}
        lo = dt.datetime.combine(days[0], dt.time(), UTC)
        hi = dt.datetime.combine(today, dt.time(), UTC) - dt.timedelta(milliseconds=1)
        truth = site.truth_ids(lo, hi)
        assert late["id"] in truth
        with duckdb.connect(env["JIRA_ETL_DATA_DIR"] + "/jira_audit.duckdb", read_only=True) as con:
            ids = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = 'acme'").fetchall()]
        assert len(ids) == len(set(ids)) and set(ids) == truth

        # `jira-etl backfill --settle` is the same pass by hand. Merged by id: a day Jira
        # now returns nothing for keeps what it held; the late record of the first pass is
        # held now, so only the new one counts.
        site.silence_day(days[0])
        second = site.add_record(dt.datetime.combine(days[2], dt.time(8, 0, 1), UTC), summary="User created")
        out = cli("backfill", "--settle", "--start", days[0].isoformat(), "--end", days[2].isoformat())
        assert "(1 late)" in out.stdout + out.stderr
        with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as inst:
            run = [r for r in inst.get_runs(filters=dg.RunsFilter(job_name="collect_acme"))
                   if r.tags.get("jira_etl/trigger") == "settle_recent" and r.run_id != settle.run_id][0]
            assert late_by_day(inst, run.run_id) == {days[0].isoformat(): 0, days[1].isoformat(): 0,
                                                     days[2].isoformat(): 1}
        with duckdb.connect(env["JIRA_ETL_DATA_DIR"] + "/jira_audit.duckdb", read_only=True) as con:
            again = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = 'acme'").fetchall()]
        assert len(again) == len(set(again)) and set(again) == truth | {second["id"]}


def test_the_settle_schedule_asks_for_the_last_three_complete_days_at_0330():
    from jira_etl.defs.schedules import settle_recent_schedule

    @dg.op
    def noop():
        pass

    @dg.job
    def collect_acme():
        noop()

    schedule = settle_recent_schedule(collect_acme, "acme")
    assert schedule.name == "acme_settle_recent" and schedule.cron_schedule == "30 3 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED and schedule.execution_timezone == "UTC"
    tick = dt.datetime.now(UTC).replace(hour=3, minute=30, second=0, microsecond=0)
    (request,) = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick)).run_requests
    today = tick.date()
    assert request.partition_key_range == dg.PartitionKeyRange(
        (today - dt.timedelta(days=3)).isoformat(), (today - dt.timedelta(days=1)).isoformat())
    assert request.tags["jira_etl/trigger"] == "settle_recent" and request.run_key == f"acme-settle-{today}"
