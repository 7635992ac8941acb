"""The `jira-etl` console script, run as a subprocess the way users run it."""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.instance import DagsterInstance, InstanceRef
import duckdb
import pytest
import requests

from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

BIN = Path(sys.executable).parent / "jira-etl"
UTC = dt.timezone.utc


def today() -> dt.date:
    # Read when a test runs, not at import: a suite started before midnight UTC and
    # running past it must not aim at yesterday's "today".
    return dt.datetime.now(UTC).date()


def run(args, env, timeout=120, cwd=None):
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)


@pytest.fixture
def live_sim():
    with JiraSimulator(SiteData(seed=5)) as sim:
        yield sim


def with_site(env, sim, token=None):
    return env | {"JIRA_SITE": sim.url, "JIRA_EMAIL": sim.email, "JIRA_API_TOKEN": token or sim.token,
                  "JIRA_CONNECTOR": "acme"}


def test_test_connection_success_against_builtin_simulator(env, tmp_path):
    out = run(["test-connection"], env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Connection successful" in out.stdout and "[demo]" in out.stdout


def test_test_connection_success_with_credentials(env, live_sim):
    out = run(["test-connection"], with_site(env, live_sim))
    assert out.returncode == 0 and "[acme] Connection successful" in out.stdout


@pytest.mark.parametrize(
    "setup, words",
    [
        (lambda sim: None, "401"),
        (lambda sim: setattr(sim.faults, "forbidden", "admin"), "Administer Jira"),
        (lambda sim: setattr(sim.faults, "forbidden", "free"), "Free plan"),
    ],
    ids=["bad-token", "not-admin", "free-plan"],
)
def test_test_connection_failures_are_precise(env, live_sim, setup, words):
    setup(live_sim)
    token = "definitely-wrong-token" if words == "401" else None
    out = run(["test-connection"], with_site(env, live_sim, token))
    assert out.returncode == 1
    assert "Connection failed" in out.stdout and words in out.stdout and "Remedy:" in out.stdout
    assert "definitely-wrong-token" not in out.stdout + out.stderr


def test_test_connection_unreachable_fails_within_seconds(env):
    # Bound but not listening: refused, and no other process can take the port meanwhile.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    t0 = time.monotonic()
    out = run(["test-connection"], env | {"JIRA_SITE": f"http://127.0.0.1:{port}", "JIRA_EMAIL": "a@b.co",
                                          "JIRA_API_TOKEN": "t0k3n"})
    s.close()
    assert out.returncode == 1 and "connection refused" in out.stdout
    assert time.monotonic() - t0 < 15


def test_bad_site_is_refused_with_field_name(env):
    out = run(["test-connection"], env | {"JIRA_SITE": "https://x@evil.example", "JIRA_EMAIL": "a@b.co",
                                          "JIRA_API_TOKEN": "t"})
    assert out.returncode == 2 and "JIRA_SITE" in out.stderr and "credentials" in out.stderr


def test_backfill_records_runs_in_instance_and_loads_duckdb(env, live_sim, tmp_path):
    start, end = today() - dt.timedelta(days=3), today() - dt.timedelta(days=1)
    out = run(["backfill", "--start", start.isoformat(), "--end", end.isoformat()], with_site(env, live_sim))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[3/3]" in out.stdout + out.stderr  # progress per day
    assert live_sim.token not in out.stdout + out.stderr
    # The walk began while Dagster started (head_start.py), and the run's step took it over:
    # each day was walked once. 11 audit requests here: the walk's 9, and one page each for
    # the head start's check and the preflight's (a second walk would add 9 more).
    assert "the walk begun before the run started is this step's" in out.stdout + out.stderr
    assert live_sim.path_counts["/rest/api/3/auditing/record"] <= 12, dict(live_sim.path_counts)
    lo = dt.datetime.combine(start, dt.time(), UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC) - dt.timedelta(milliseconds=1)
    truth = live_sim.data.truth_ids(lo, hi)
    with duckdb.connect(env["JIRA_ETL_DATA_DIR"] + "/jira_audit.duckdb", read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector='acme'").fetchall()]
    assert len(ids) == len(set(ids)) and set(ids) == truth
    with DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"])) as inst:
        runs = inst.get_runs()
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
        assert runs[0].tags["dagster/asset_partition_range_start"] == start.isoformat()
        # The token never reaches the run config or the event log.
        assert live_sim.token not in json.dumps(runs[0].run_config)
        logs = inst.all_logs(runs[0].run_id)
        assert logs and all(live_sim.token not in (e.message or "") for e in logs)
    # sql reads what was loaded, read-only
    out = run(["sql", "SELECT count(*) AS n FROM audit_records", "--format", "json"], env)
    assert out.returncode == 0 and json.loads(out.stdout) == [{"n": len(truth)}]
    out = run(["sql", "DELETE FROM audit_records"], env)
    assert out.returncode == 2 and "read-only" in out.stderr.lower()
    out = run(["sql", "SELECT summary, count(*) FROM audit_records GROUP BY 1"], env)
    assert out.returncode == 0 and "| summary" in out.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--start", "2026-02-30", "--end", "2026-03-01"], "not a date"),
        (["--start", "2026-03-02", "--end", "2026-03-01"], "before --start"),
        (["--start", "2024-01-01", "--end", "2024-01-02"], "before the first partition"),
        (["--start", today().isoformat(), "--end", (today() + dt.timedelta(days=1)).isoformat()], "in the future"),
    ],
)
def test_backfill_rejects_bad_ranges(env, args, words):
    out = run(["backfill", *args], env)
    assert out.returncode == 2 and words in out.stderr


def test_sql_without_warehouse_says_what_to_do(env):
    out = run(["sql", "SELECT 1"], env)
    assert out.returncode == 2 and "backfill" in out.stderr


def test_simulator_command_serves_the_api(env):
    # Port 0: the simulator binds a free port itself and prints its URL (no race for a port).
    proc = subprocess.Popen([str(BIN), "simulator", "--port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        first = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in first, first
        url = first.split("listening on ", 1)[1].strip()
        deadline = time.monotonic() + 30
        while True:
            try:
                r = requests.get(f"{url}/rest/api/3/auditing/record",
                                 auth=("demo@jira-etl.local", "demo-token"), params={"limit": 3}, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert r.status_code == 200 and len(r.json()["records"]) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_dotenv_in_working_directory_is_honoured(env, live_sim, tmp_path):
    (tmp_path / ".env").write_text(
        f"JIRA_SITE={live_sim.url}\nJIRA_EMAIL={live_sim.email}\nJIRA_API_TOKEN={live_sim.token}\nJIRA_CONNECTOR=fromenv\n"
    )
    out = run(["test-connection"], env, cwd=tmp_path)
    assert out.returncode == 0 and "[fromenv] Connection successful" in out.stdout
    # The real environment wins over .env.
    out = run(["test-connection"], env | {"JIRA_API_TOKEN": "overridden-wrong"}, cwd=tmp_path)
    assert out.returncode == 1 and "401" in out.stdout


def test_backfill_start_up_leaves_the_gc_on(env, monkeypatch):
    # The GC is off while a backfill loads Dagster; in-process callers (tests, notebooks)
    # must get it back, also when the backfill refuses its arguments after loading.
    import gc

    from jira_etl import cli

    for key in [k for k in os.environ if k.startswith("JIRA_")]:
        monkeypatch.delenv(key)
    for key in ("JIRA_ETL_DATA_DIR", "DAGSTER_HOME"):
        monkeypatch.setenv(key, env[key])
    assert gc.isenabled()
    day = today() - dt.timedelta(days=1)
    with pytest.raises(cli.CliError, match="unknown connector"):
        cli.run_backfill(day, day, connectors=["no-such-connector"])
    assert gc.isenabled()


def test_status_of_one_connector_and_the_simulator_notice(env, tmp_path):
    out = run(["status", "--connector", "demo", "--format", "json"], env, cwd=tmp_path)
    assert out.returncode == 0 and [r["connector"] for r in json.loads(out.stdout)] == ["demo"]
    assert "BUILT-IN SIMULATOR" in out.stderr
    out = run(["status", "--connector", "nope"], env, cwd=tmp_path)
    assert out.returncode == 2 and "unknown connector(s) nope" in out.stderr
    out = run(["--help"], env, cwd=tmp_path)
    assert "JIRA_ETL_DATA_DIR" in out.stdout and "JIRA_SITE" in out.stdout


def test_demo_summary_lists_severities_most_severe_first(env, tmp_path):
    out = run(["demo", "--days", "7"], env, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    block = out.stdout.split("\nfindings:", 1)[1].split("\n\n", 1)[0]
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    seen = [order[line.split()[0]] for line in block.strip().splitlines()]
    assert len(set(seen)) >= 3 and seen == sorted(seen)
