"""Issue 5: connectors.yaml, Test Connection in Dagster, collection status, side-by-side collection."""

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from jira_etl.defs.assets.connection import build_connection_asset, build_connection_job
from jira_etl.connectors import Connector, configured_connectors, load_file
from jira_etl.defs.resources import JiraResource, StorageResource, jira_resource
from jira_etl.settings import ConfigError
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator
from jira_etl.status import collection_status
from jira_etl.storage.warehouse import Warehouse

UTC = dt.timezone.utc
BIN = Path(sys.executable).parent / "jira-etl"


def today() -> dt.date:
    return dt.datetime.now(UTC).date()  # read when the test runs, not at import


def write(tmp_path, text, name="connectors.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


GOOD = """
connectors:
  - name: acme
    site: acme
    email: secops@acme.example
    api_token_env: ACME_TOKEN
  - name: beta_eu
    cloud_id: 0f3c9d2e-1111-2222-3333-444455556666
    oauth_token_env: BETA_OAUTH
    concurrency: 4
"""


def test_good_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_TOKEN", "s3cret")
    monkeypatch.setenv("BETA_OAUTH", "s3cret2")
    monkeypatch.setenv("JIRA_ETL_CONNECTORS", str(write(tmp_path, GOOD)))
    acme, beta = configured_connectors()
    assert acme == Connector("acme", site="acme", email="secops@acme.example", token_env="ACME_TOKEN")
    assert beta.cloud_id.startswith("0f3c") and beta.oauth_env == "BETA_OAUTH" and beta.concurrency == 4
    res = jira_resource(acme)
    assert "s3cret" not in repr(res.__dict__)  # the resource holds the variable, not its value


@pytest.mark.parametrize(
    "text, words",
    [
        ("connectors: [{name: acme, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, colour: red}]",
         ["connector 'acme'", "unknown field(s) colour"]),
        ("connectors: [{name: acme, site: acme, email: a@b.co, api_token_env: NOT_SET_ANYWHERE}]",
         ["connector 'acme'", "api_token_env", "NOT_SET_ANYWHERE", "not set"]),
        ("connectors: [{name: acme, site: 'http://evil.example', email: a@b.co, api_token_env: ACME_TOKEN}]",
         ["connector 'acme'", "field 'site'", "plain http"]),
        ("connectors: [{name: acme, site: acme, email: a@b.co, api_token_env: ACME_TOKEN},"
         " {name: acme, site: other, email: a@b.co, api_token_env: ACME_TOKEN}]",
         ["connector 'acme'", "duplicate"]),
        ("connectors: [{name: Acme-1, site: acme, email: a@b.co, api_token_env: ACME_TOKEN}]",
         ["connector #1", "field 'name'"]),
        ("connectors: [{name: acme, site: acme, api_token_env: ACME_TOKEN}]", ["connector 'acme'", "'email' is missing"]),
        ("connectors: [{name: acme, site: acme, email: nope, api_token_env: ACME_TOKEN}]",
         ["connector 'acme'", "field 'email'"]),
        ("connectors: [{name: acme, site: acme, email: a@b.co, api_token_env: 's3cret value'}]",
         ["connector 'acme'", "NAME of an environment variable"]),
        ("connectors: [{name: acme, cloud_id: 'x/y', oauth_token_env: ACME_TOKEN}]", ["connector 'acme'", "cloud_id"]),
        ("connectors: [{name: acme, cloud_id: abc, site: acme, oauth_token_env: ACME_TOKEN}]",
         ["connector 'acme'", "either"]),
        ("connectors: {name: acme}", ["one key, 'connectors'"]),
        ("connectors: []", ["empty"]),
        ("connectors: [\n  - name: [unclosed", ["not valid YAML"]),
    ],
)
def test_bad_files_name_file_connector_and_field(tmp_path, monkeypatch, text, words):
    monkeypatch.setenv("ACME_TOKEN", "s3cret")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_file(path)
    msg = str(err.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, (w, msg)
    assert "s3cret" not in msg


def test_missing_connectors_file_and_env_fallbacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert [c.name for c in configured_connectors()] == ["demo"]
    monkeypatch.setenv("JIRA_ETL_CONNECTORS", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="nope.yaml"):
        configured_connectors()
    monkeypatch.delenv("JIRA_ETL_CONNECTORS")
    monkeypatch.setenv("JIRA_SITE", "acme")
    monkeypatch.setenv("JIRA_EMAIL", "a@b.co")
    with pytest.raises(ConfigError, match="JIRA_API_TOKEN"):
        configured_connectors()
    monkeypatch.setenv("JIRA_API_TOKEN", "t")
    monkeypatch.setenv("JIRA_CONNECTOR", "prod")
    assert [c.name for c in configured_connectors()] == ["prod"]


def run_connection_job(resource, instance):
    job = build_connection_job("acme")
    return job.execute_in_process(resources={"jira_acme": resource}, instance=instance, raise_on_error=False)


def test_connection_job_and_check_in_dagster(instance, tmp_path):
    with JiraSimulator(SiteData(seed=3)) as sim:
        good = JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token)
        ok = run_connection_job(good, instance)
        assert ok.success
        assert any("Connection successful" in (e.message or "") for e in instance.all_logs(ok.run_id))
        sim.faults.forbidden = "admin"
        bad = run_connection_job(good, instance)
        assert not bad.success
        failure = next(e for e in bad.all_events if e.is_step_failure)
        assert "Administer Jira" in failure.step_failure_data.user_failure_data.description
        # The preflight of every collection run: the same test, as a blocking check.
        failed = preflight(good, instance, tmp_path)
        assert not failed.success and connection_checks(failed)[0].passed is False
        assert "Administer Jira" in connection_checks(failed)[0].description
        sim.faults.forbidden = None
        passed = preflight(good, instance, tmp_path)
        assert passed.success and [c.passed for c in connection_checks(passed)] == [True]


def preflight(resource, instance, data):
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    return dg.materialize([build_connection_asset("acme")], instance=instance, partition_key=day,
                          resources={"jira_acme": resource, "storage": StorageResource(data_dir=str(data))},
                          raise_on_error=False)


def connection_checks(result):
    return [e.asset_check_evaluation_data for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.asset_check_evaluation_data.check_name == "connection"]


def connectors_yaml(tmp_path, sims: dict) -> Path:
    lines = ["connectors:"]
    for name, sim in sims.items():
        lines += [f"  - name: {name}", f"    site: '{sim.url}'", f"    email: {sim.email}",
                  f"    api_token_env: {name.upper()}_TOKEN"]
    return write(tmp_path, "\n".join(lines) + "\n")


@pytest.fixture
def two_sites():
    a, b = SiteData(seed=101), SiteData(seed=202)
    with JiraSimulator(a, token="token-a") as sa, JiraSimulator(b, token="token-b") as sb:
        yield {"acme": sa, "beta": sb}


def cli_env(tmp_path, sims):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    env |= {"JIRA_ETL_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "dh"),
            "JIRA_ETL_CONNECTORS": str(connectors_yaml(tmp_path, sims)),
            "ACME_TOKEN": "token-a", "BETA_TOKEN": "token-b"}
    return env


def truth(sim, start, end):
    lo = dt.datetime.combine(start, dt.time(), UTC)
    return sim.data.truth_ids(lo, dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC)
                              - dt.timedelta(milliseconds=1))


def test_two_connectors_side_by_side_and_status(tmp_path, two_sites):
    env = cli_env(tmp_path, two_sites)
    run = lambda *a: subprocess.run([str(BIN), *a], env=env, capture_output=True, text=True, timeout=300)
    before = run("status")
    assert before.returncode == 0 and before.stdout.count("Never collected") == 2
    out = run("test-connection", "--all")
    assert out.returncode == 0 and out.stdout.count("Connection successful") == 2
    start, end = today() - dt.timedelta(days=3), today() - dt.timedelta(days=1)
    # One connector alone first, then all of them.
    out = run("backfill", "--start", start.isoformat(), "--end", end.isoformat(), "--connector", "beta")
    assert out.returncode == 0, out.stderr
    two_sites["acme"].faults.forbidden = "free"  # a failing connector must not block the other
    out = run("backfill", "--start", start.isoformat(), "--end", end.isoformat())
    assert out.returncode == 1 and "acme" in out.stdout and "Free plan" in out.stdout
    status = run("status", "--format", "json")
    import json

    rows = {r["connector"]: r for r in json.loads(status.stdout)}
    assert rows["acme"]["state"] == "Failing" and "Free plan" in rows["acme"]["last error"]
    assert rows["beta"]["state"] == "Active" and rows["beta"]["last partition"] == end.isoformat()
    two_sites["acme"].faults.forbidden = None
    assert run("backfill", "--start", start.isoformat(), "--end", end.isoformat()).returncode == 0
    with duckdb.connect(str(tmp_path / "data/jira_audit.duckdb"), read_only=True) as con:
        got = {n: {r[0] for r in con.execute("SELECT id FROM audit_records WHERE connector = ?", [n]).fetchall()}
               for n in ("acme", "beta")}
        total = con.execute("SELECT count(*) FROM audit_records").fetchone()[0]
    assert got["acme"] == truth(two_sites["acme"], start, end)
    assert got["beta"] == truth(two_sites["beta"], start, end)
    assert total == len(got["acme"]) + len(got["beta"])
    for name in ("acme", "beta"):
        assert len(list((tmp_path / f"data/parquet/audit_records/connector={name}").glob("date=*/data.parquet"))) == 3
    rows = {r["connector"]: r for r in json.loads(run("status", "--format", "json").stdout)}
    assert rows["acme"]["state"] == "Active" and rows["acme"]["last error"] == "-"


def test_status_states(tmp_path):
    wh = Warehouse(tmp_path)
    now = dt.datetime(2026, 5, 10, 12, tzinfo=UTC)
    cs = [Connector("a"), Connector("b"), Connector("c"), Connector("d")]
    assert {s.state for s in collection_status(cs, wh, now)} == {"Never collected"}
    with wh.writer() as con:
        con.execute("INSERT INTO collected_partitions VALUES ('a', DATE '2026-05-09', 10, ?), "
                    "('b', DATE '2026-05-01', 5, ?), ('c', DATE '2026-05-09', 3, ?)",
                    [now - dt.timedelta(hours=11), now - dt.timedelta(days=8), now - dt.timedelta(hours=11)])
    wh.record_attempt("c", False, dt.date(2026, 5, 10), dt.date(2026, 5, 10), "AuthenticationError: 401")
    wh.record_attempt("d", False, dt.date(2026, 5, 10), dt.date(2026, 5, 10), "UnreachableError: refused")
    states = {s.connector: s for s in collection_status(cs, wh, now)}
    assert states["a"].state == "Active" and states["a"].lag == dt.timedelta(hours=12)
    assert states["b"].state == "Stale"
    assert states["c"].state == "Failing" and "401" in states["c"].last_error
    assert states["d"].state == "Failing" and states["d"].last_partition is None
