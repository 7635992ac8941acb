"""CLI runs are runs of the job the UI launches (`collect_<c>`), with its tags, its
preflight step and a code origin the webserver can re-execute."""

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster._core.instance import DagsterInstance, InstanceRef

from support import free_port, stop_group

from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REEXECUTE = """
mutation($p: ReexecutionParams!) {
  launchPipelineReexecution(reexecutionParams: $p) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
  }
}"""


def backfill(env, sim, days: int, token=None, timeout=120):
    today = dt.datetime.now(UTC).date()
    start, end = today - dt.timedelta(days=days), today - dt.timedelta(days=1)
    env = env | {"JIRA_SITE": sim.url, "JIRA_EMAIL": sim.email, "JIRA_API_TOKEN": token or sim.token,
                 "JIRA_CONNECTOR": "acme"}
    out = subprocess.run([str(BIN / "jira-etl"), "backfill", "--start", start.isoformat(), "--end", end.isoformat()],
                         env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return out, env, start, end


def instance_of(env) -> DagsterInstance:
    return DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


def step_events(inst, run_id) -> list[tuple[str, str]]:
    return [(e.step_key, e.dagster_event.event_type_value) for e in inst.all_logs(run_id)
            if e.dagster_event is not None and e.step_key]


@pytest.fixture
def live_sim():
    with JiraSimulator(SiteData(seed=5)) as sim:
        yield sim


def test_a_bad_token_fails_the_preflight_step_before_collecting(env, live_sim):
    out, env, _, _ = backfill(env, live_sim, 3, token="not-the-token")
    assert out.returncode == 1
    assert "credentials" in (out.stdout + out.stderr).lower() or "401" in out.stdout + out.stderr
    assert "not-the-token" not in out.stdout + out.stderr
    # Only the preflight's /myself reached the site: no audit page was walked.
    assert not [p for p in live_sim.path_counts if "auditing" in p], dict(live_sim.path_counts)
    with instance_of(env) as inst:
        (run,) = inst.get_runs(filters=dg.RunsFilter(job_name="collect_acme"))
        assert run.status == dg.DagsterRunStatus.FAILURE
        events = step_events(inst, run.run_id)
        assert ("acme__connection", "STEP_FAILURE") in events
        assert not [e for e in events if e[0] == "acme__audit_records" and e[1] == "STEP_START"]
        checks = [e.dagster_event.event_specific_data for e in inst.all_logs(run.run_id)
                  if e.dagster_event is not None and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert [(c.check_name, c.passed) for c in checks] == [("connection", False)]
        assert "Remedy" in (checks[0].description or "")


@pytest.mark.timeout(180)
def test_cli_backfill_is_a_run_of_collect_job_that_the_webserver_reexecutes(env, live_sim, tmp_path):
    out, env, start, end = backfill(env, live_sim, 2)
    assert out.returncode == 0, out.stdout + out.stderr
    with instance_of(env) as inst:
        assert inst.get_runs(filters=dg.RunsFilter(job_name="__ephemeral_asset_job__")) == []
        (run,) = inst.get_runs(filters=dg.RunsFilter(job_name="collect_acme"))
        assert run.status == dg.DagsterRunStatus.SUCCESS
        # The job's own tag (the run queue's per-connector limit) and the range.
        assert run.tags["jira_etl/connector"] == "acme" and run.tags["jira_etl/source"] == "cli"
        assert (run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]) == (
            start.isoformat(), end.isoformat())
        assert run.remote_job_origin.location_name == "jira_etl.definitions"
        # The preflight is its own step, done before the collection starts.
        events = step_events(inst, run.run_id)
        assert events.index(("acme__connection", "STEP_SUCCESS")) < events.index(("acme__audit_records", "STEP_START"))
        # The collection's assets only: no report or export in a CLI backfill.
        assert {k.path[-1] for k in run.asset_selection} == {
            "jira_connection", "audit_records_parquet", "audit_records_duckdb", "findings"}
    # The webserver (as `make dev` starts it, run coordinator without a queue so no
    # daemon is needed) re-executes the CLI's run, as the UI's Re-execute button does.
    home = Path(env["DAGSTER_HOME"])
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_coordinator:\n"
                                       "  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n")
    port = free_port()
    log = open(tmp_path / "webserver.log", "w")
    proc = subprocess.Popen([str(BIN / "dagster-webserver"), "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1",
                             "-p", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        launched, last = None, ""
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            try:
                r = requests.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={
                    "query": REEXECUTE, "variables": {"p": {"parentRunId": run.run_id, "strategy": "ALL_STEPS"}}})
                last = r.text[:2000]
                launched = r.json()["data"]["launchPipelineReexecution"]
                if launched["__typename"] == "LaunchRunSuccess":
                    break
            except (requests.ConnectionError, requests.Timeout, KeyError, TypeError, ValueError):
                pass
            time.sleep(1)  # the code location may still be loading
        assert launched and launched["__typename"] == "LaunchRunSuccess", (launched, last)
        child_id = launched["run"]["runId"]
        with instance_of(env) as inst:
            while time.monotonic() < deadline + 60:
                child = inst.get_run_by_id(child_id)
                if child.is_finished:
                    break
                time.sleep(1)
            assert child.status == dg.DagsterRunStatus.SUCCESS, (tmp_path / "webserver.log").read_text()[-3000:]
            assert child.job_name == "collect_acme" and child.parent_run_id == run.run_id
            assert child.tags["jira_etl/connector"] == "acme"
            assert child.asset_selection == run.asset_selection
    finally:
        stop_group(proc, grace=20)
        log.close()
    assert live_sim.token not in (tmp_path / "webserver.log").read_text()


def test_a_cli_run_waits_for_the_connectors_run_in_progress(instance):
    # The run queue's limit (one run per connector) for runs that skip the queue: a run of
    # the connector in progress is waited for; one left STARTED by a killed CLI process is
    # marked failed instead of blocking the connector for ever.
    from jira_etl.cli import job_run

    @dg.op
    def noop():
        pass

    @dg.job(tags={"jira_etl/connector": "acme"})
    def other():
        noop()

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = instance.create_run_for_job(other, tags={"jira_etl/connector": "acme", job_run.PID_TAG: str(dead.pid),
                                                      job_run.HOST_TAG: __import__("socket").gethostname()})
    instance.handle_run_event(orphan.run_id, dg.DagsterEvent(
        event_type_value="PIPELINE_START", job_name=orphan.job_name, message="started"))
    busy = instance.create_run_for_job(other, tags={"jira_etl/connector": "acme"})
    instance.handle_run_event(busy.run_id, dg.DagsterEvent(
        event_type_value="PIPELINE_START", job_name=busy.job_name, message="started"))
    said = []
    with pytest.raises(TimeoutError):
        job_run.wait_for_connector(instance, "acme", on_wait=said.append, poll=0.05, timeout=0.3)
    assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
    assert len(said) == 1 and busy.run_id in said[0]
    job_run.wait_for_connector(instance, "beta", timeout=0.3)  # another connector: no wait
    instance.report_run_failed(instance.get_run_by_id(busy.run_id), "done")
    job_run.wait_for_connector(instance, "acme", timeout=0.3)


def test_in_process_runs_follow_the_environment_of_each_call(tmp_path, monkeypatch):
    # Callers in one process (tests, notebooks, the reliability harness) change the
    # environment between backfills: each run's definitions are built from it afresh.
    from jira_etl import cli

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    day = dt.datetime.now(UTC).date() - dt.timedelta(days=1)
    for name, seed in (("first", 21), ("second", 22)):
        with JiraSimulator(SiteData(seed=seed), token=f"tok-{name}") as sim:
            monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(tmp_path / name))
            for k, v in {"JIRA_SITE": sim.url, "JIRA_EMAIL": sim.email, "JIRA_API_TOKEN": sim.token,
                         "JIRA_CONNECTOR": name}.items():
                monkeypatch.setenv(k, v)
            outcome = cli.run_backfill(day, day, quiet=True)
            assert list(outcome) == [name] and outcome[name]["success"], outcome
            assert sim.path_counts and any("auditing" in p for p in sim.path_counts)
    with instance_of({"DAGSTER_HOME": str(tmp_path / "dh")}) as inst:
        assert sorted(r.job_name for r in inst.get_runs()) == ["collect_first", "collect_second"]


def test_two_cli_backfills_of_one_connector_run_one_after_the_other(env, live_sim):
    today = dt.datetime.now(UTC).date()
    day = (today - dt.timedelta(days=1)).isoformat()
    env = env | {"JIRA_SITE": live_sim.url, "JIRA_EMAIL": live_sim.email, "JIRA_API_TOKEN": live_sim.token,
                 "JIRA_CONNECTOR": "acme"}
    procs = [subprocess.Popen([str(BIN / "jira-etl"), "backfill", "--start", day, "--end", day], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("waiting for run" in o for o in outs) == 1, outs
    with instance_of(env) as inst:
        records = sorted(inst.get_run_records(filters=dg.RunsFilter(job_name="collect_acme")),
                         key=lambda r: r.start_time)
        assert len(records) == 2 and all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records)
        assert records[1].start_time >= records[0].end_time  # never both in progress
