"""End to end the way the UI does it: `dagster dev` (webserver + daemon), a partition-range
backfill launched through the webserver's GraphQL API, rows checked in DuckDB."""

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
import requests

from support import free_port, stop_group

from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).parent / "dagster"

LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}"""
POLL = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status numPartitions runs(limit: 50) { runId status } }
    ... on PythonError { message }
  }
}"""


def wait_for_server(proc, port: int, log_path, timeout_s: float = 120) -> bool:
    """True once the webserver answers; False if it exited because the port was taken."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            text = log_path.read_text()
            assert "address already in use" in text.lower(), text[-3000:]
            return False
        try:
            if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                return True
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("dagster dev did not start: " + log_path.read_text()[-3000:])
        time.sleep(1)


def gql(port, query, variables):
    r = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables}, timeout=30)
    body = r.json()
    assert r.ok or body.get("data"), r.text[:2000]
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.timeout(360)
def test_ui_backfill_through_graphql(tmp_path):
    site_a, site_b = SiteData(seed=41), SiteData(seed=42)
    today = dt.datetime.now(UTC).date()
    days = [today - dt.timedelta(days=i) for i in (3, 2, 1)]
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with JiraSimulator(site_a, token="tok-a") as sa, JiraSimulator(site_b, token="tok-b") as sb:
        (tmp_path / "connectors.yaml").write_text(
            "connectors:\n"
            f"  - {{name: acme, site: '{sa.url}', email: {sa.email}, api_token_env: ACME_TOKEN}}\n"
            f"  - {{name: beta, site: '{sb.url}', email: {sb.email}, api_token_env: BETA_TOKEN}}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {"DAGSTER_HOME": str(home), "JIRA_ETL_DATA_DIR": str(tmp_path / "data"),
                "JIRA_ETL_CONNECTORS": str(tmp_path / "connectors.yaml"), "ACME_TOKEN": "tok-a",
                "BETA_TOKEN": "tok-b"}
        # A free port can be taken between our check and the server's bind: try another
        # one when the server exits saying so, instead of failing on a race.
        for attempt in range(3):
            port = free_port()
            log = open(tmp_path / "dagster_dev.log", "w")
            proc = subprocess.Popen([str(DAGSTER), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1",
                                     "-p", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            if wait_for_server(proc, port, tmp_path / "dagster_dev.log"):
                break
            log.close()
        else:
            pytest.fail("dagster dev found no free port in 3 attempts")
        try:
            deadline = time.monotonic() + 120
            selection = [{"path": [c, a]} for c in ("acme", "beta")
                         for a in ("audit_records_parquet", "audit_records_duckdb")]
            # The code location may still be loading right after the server answers.
            while True:
                launched = gql(port, LAUNCH, {"params": {"partitionNames": [d.isoformat() for d in days],
                                                         "assetSelection": selection}})["launchPartitionBackfill"]
                if launched["__typename"] == "LaunchBackfillSuccess" or time.monotonic() > deadline:
                    break
                time.sleep(2)
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            backfill_id = launched["backfillId"]
            deadline = time.monotonic() + 240
            while True:
                state = gql(port, POLL, {"id": backfill_id})["partitionBackfillOrError"]
                if state["status"] in ("COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED", "COMPLETED"):
                    break
                assert time.monotonic() < deadline, state
                time.sleep(2)
            assert state["status"] in ("COMPLETED_SUCCESS", "COMPLETED"), (
                state, (tmp_path / "dagster_dev.log").read_text()[-3000:])
            # Single-run backfill policy: the whole range is one run.
            assert len(state["runs"]) == 1, state["runs"]
        finally:
            stop_group(proc, grace=30)
            log.close()
        lo = dt.datetime.combine(days[0], dt.time(), UTC)
        hi = dt.datetime.combine(today, dt.time(), UTC) - dt.timedelta(milliseconds=1)
        with duckdb.connect(str(tmp_path / "data" / "jira_audit.duckdb"), read_only=True) as con:
            for name, site in (("acme", site_a), ("beta", site_b)):
                ids = [r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = ?", [name]).fetchall()]
                assert len(ids) == len(set(ids)) and set(ids) == site.truth_ids(lo, hi)
    assert "tok-a" not in (tmp_path / "dagster_dev.log").read_text()
