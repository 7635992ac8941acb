"""`jira-etl test-connection` and `jira-etl backfill` (a real Dagster run) against the
Data Center simulator, as subprocesses the way users run them; the token is never stored."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance import DagsterInstance, InstanceRef

from jira_etl.simulator.dc_api import DCSimulator
from jira_etl.simulator.dc_render import to_ms

BIN = Path(sys.executable).parent / "jira-etl"
UTC = dt.timezone.utc
PAT = "dc-pat-7hQx2LmVr9"


def run(args, env, timeout=180):
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=env["JIRA_ETL_DATA_DIR"].rsplit("/", 1)[0])


@pytest.fixture
def dc():
    with DCSimulator(context_path="/jira", pat=PAT, rate_limit_every=2) as sim:
        yield sim


def dc_env(env, sim, **over):
    return env | {"JIRA_DEPLOYMENT": "datacenter", "JIRA_SITE": sim.url, "JIRA_PAT": sim.pat,
                  "JIRA_CONNECTOR": "dcsite"} | over


def test_test_connection_success_and_each_failure_with_its_remedy(env, dc, tmp_path):
    out = run(["test-connection"], dc_env(env, dc))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Connection successful" in out.stdout and "Jira 9.12.15" in out.stdout and PAT not in out.stdout
    out = run(["test-connection"], dc_env(env, dc, JIRA_PAT="not-the-pat-Q3"))
    assert out.returncode == 1 and "401" in out.stdout and "Remedy: Check JIRA_PAT" in out.stdout
    assert "not-the-pat-Q3" not in out.stdout + out.stderr
    out = run(["test-connection"], dc_env(env, dc, JIRA_SITE=dc.url.removesuffix("/jira")))
    assert out.returncode == 1 and "Remedy:" in out.stdout and "context path" in out.stdout
    dc.admin = False
    out = run(["test-connection"], dc_env(env, dc))
    assert out.returncode == 1 and "403" in out.stdout and "System Administrator" in out.stdout
    dc.admin, dc.legacy = True, True
    out = run(["test-connection"], dc_env(env, dc))
    assert out.returncode == 1 and "Jira older than 8.8?" in out.stdout and "Remedy: Upgrade" in out.stdout
    out = run(["test-connection"], dc_env(env, dc, JIRA_SITE="http://jira.example.com/jira"))
    assert out.returncode == 2 and "JIRA_SITE" in out.stderr and "plain http" in out.stderr


def test_range_backfill_through_dagster_keeps_everything_and_never_stores_the_token(env, dc):
    today = dt.datetime.now(UTC).date()
    start, end = today - dt.timedelta(days=3), today - dt.timedelta(days=1)
    days = [start + dt.timedelta(days=i) for i in range(3)]
    dc.log.populate([start - dt.timedelta(days=1), *days, today], per_day=250, seed=4, twins=300)
    lo = to_ms(dt.datetime.combine(start, dt.time(), UTC))
    hi = to_ms(dt.datetime.combine(today, dt.time(), UTC)) - 1
    truth = Counter(json.dumps(e, sort_keys=True) for _, _, e in dc.log.window(lo, hi))
    assert sum(truth.values()) == 3 * 550

    out = run(["backfill", "--start", start.isoformat(), "--end", end.isoformat()], dc_env(env, dc))
    assert out.returncode == 0, out.stdout + out.stderr
    assert PAT not in out.stdout + out.stderr
    db = env["JIRA_ETL_DATA_DIR"] + "/jira_audit.duckdb"
    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute("SELECT id, raw FROM audit_records WHERE connector = 'dcsite'").fetchall()
    assert Counter(json.dumps(json.loads(r), sort_keys=True) for _, r in rows) == truth
    ids = [i for i, _ in rows]
    assert len(ids) == len(set(ids)) == 1650
    assert dc.status_counts[429] > 0  # throttled on the way, nothing lost

    # Re-run: the same keys, nothing duplicated.
    out = run(["backfill", "--start", start.isoformat(), "--end", end.isoformat()], dc_env(env, dc))
    assert out.returncode == 0, out.stdout + out.stderr
    with duckdb.connect(db, read_only=True) as con:
        again = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = 'dcsite'").fetchall()]
    assert sorted(again) == sorted(ids)

    with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as inst:
        runs = inst.get_runs()
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        for r in runs:
            assert PAT not in json.dumps(r.run_config)
            assert all(PAT not in (e.message or "") and PAT not in repr(e.dagster_event) for e in inst.all_logs(r.run_id))
    # Not in DuckDB, Parquet, the Dagster home (event log, run storage) or anything else written.
    for root in (Path(env["JIRA_ETL_DATA_DIR"]), Path(env["DAGSTER_HOME"])):
        for path in root.rglob("*"):
            if path.is_file():
                assert PAT.encode() not in path.read_bytes(), path
    assert {scheme for path, _, _, scheme in dc.request_log if path.endswith("/events")} == {"bearer"}


def test_settle_pass_counts_a_late_event_on_data_center(env, dc):
    from jira_etl.simulator.dc_render import entity

    today = dt.datetime.now(UTC).date()
    start, end = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    dc.log.populate([start, end], per_day=120, seed=6)
    out = run(["backfill", "--start", start.isoformat(), "--end", end.isoformat()], dc_env(env, dc))
    assert out.returncode == 0, out.stdout + out.stderr
    ms = to_ms(dt.datetime.combine(start, dt.time(9, 41, 3), UTC))
    dc.log.add(ms, entity(ms, dc.log.base, source="198.51.100.77"))  # written to the log late
    out = run(["backfill", "--settle", "--start", start.isoformat(), "--end", end.isoformat()], dc_env(env, dc))
    assert out.returncode == 0, out.stdout + out.stderr
    with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as inst:
        records = inst.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(["dcsite", "audit_records_parquet"])), limit=10).records
        late = {r.partition_key: r.asset_materialization.metadata["late_records"].value for r in records
                if "late_records" in r.asset_materialization.metadata}
    assert late == {start.isoformat(): 1, end.isoformat(): 0}
    with duckdb.connect(env["JIRA_ETL_DATA_DIR"] + "/jira_audit.duckdb", read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = 'dcsite'").fetchall()]
    assert len(ids) == len(set(ids)) == 241
