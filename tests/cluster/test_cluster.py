"""The cluster deployment end to end, on loopback: moto's S3 server holding the lake,
PostgreSQL holding the Dagster instance, Redis as Celery's broker and backend, the
daemon, the webserver (its GraphQL API launches the backfills, as the UI does) and two
Celery run workers from deploy/. Two connectors against two simulators; one worker is
killed in the middle of a run, which must be failed by run monitoring and retried on a
live worker, with the bucket and the warehouse holding exactly the records after.

Run by .ci/run after `make test` (needs the `cluster` extra, postgresql, redis-server):
    pytest -m cluster tests/cluster
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import boto3
import dagster as dg
import duckdb
import psycopg2
import pytest
import requests

from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator
from jira_etl.storage import compaction
from services import REPO, VENV_BIN, Postgres, Proc, free_port, start_moto, start_redis, wait_port

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]
UTC = dt.timezone.utc
DAYS = [dt.date(2026, 11, 10) + dt.timedelta(days=i) for i in range(6)]
CONNECTORS = {"alpha": 21, "beta": 22}  # name -> simulator seed
SECRETS = {"pg": "pg-Pw-7d1f0c", "s3": "s3-Secret-4b9e2a", "jira": "jira-Token-93c1e8"}

LAUNCH = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on UnauthorizedError { message } } }"""


def graphql(url: str, query: str, variables: dict) -> dict:
    resp = requests.post(url + "/graphql", json={"query": query, "variables": variables}, timeout=60)
    resp.raise_for_status()
    return resp.json()


@pytest.fixture
def cluster(tmp_path):
    sims = {name: JiraSimulator(SiteData(seed=seed, daily_volume=400), token=SECRETS["jira"],
                                faults=Faults(latency_s=0.12, limit_clamp=40)) for name, seed in CONNECTORS.items()}
    procs: list[Proc] = []
    pg = Postgres(SECRETS["pg"])
    try:
        for s in sims.values():
            s.start()
        moto, s3_url = start_moto(tmp_path)
        procs.append(moto)
        redis_proc, redis_port = start_redis(tmp_path)
        procs.append(redis_proc)
        pg_url = pg.start()
        boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1", aws_access_key_id="cluster-key",
                     aws_secret_access_key=SECRETS["s3"]).create_bucket(Bucket="lake")
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
        (tmp_path / "connectors.yaml").write_text("connectors:\n" + "".join(
            f"  - {{name: {n}, site: '{s.url}', email: {s.email}, api_token_env: SIM_TOKEN, concurrency: 1, slices: 1}}\n"
            for n, s in sims.items()))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "DAGSTER_", "AWS_"))}
        env.update(
            DAGSTER_HOME=str(home), DAGSTER_PG_URL=pg_url,
            DAGSTER_CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0",
            DAGSTER_CELERY_BACKEND_URL=f"redis://127.0.0.1:{redis_port}/1",
            JIRA_ETL_CONNECTORS=str(tmp_path / "connectors.yaml"), SIM_TOKEN=SECRETS["jira"],
            JIRA_ETL_DATA_DIR=str(tmp_path / "data"), JIRA_ETL_LAKE="s3://lake/jira",
            JIRA_ETL_START_DATE="2026-11-01",
            AWS_ENDPOINT_URL=s3_url, AWS_ACCESS_KEY_ID="cluster-key", AWS_SECRET_ACCESS_KEY=SECRETS["s3"],
            AWS_REGION="us-east-1", PATH=f"{VENV_BIN}:{os.environ['PATH']}",
        )
        # The schema first: processes starting together on an empty database collide.
        t0 = time.monotonic()
        migrate = Proc(["bash", "-c", "source deploy/env.sh && dagster instance migrate"], tmp_path / "migrate.log",
                       env=env, cwd=REPO)
        assert migrate.popen.wait(180) == 0, migrate.text()
        procs.append(Proc(["deploy/daemon.sh"], tmp_path / "daemon.log", env=env, cwd=REPO))
        web_port = free_port()
        web = Proc(["deploy/webserver.sh", "127.0.0.1", str(web_port)], tmp_path / "web.log", env=env, cwd=REPO)
        procs.append(web)
        workers = {n: Proc(["deploy/worker.sh", n], tmp_path / f"{n}.log", env=env, cwd=REPO) for n in ("w1", "w2")}
        procs.extend(workers.values())
        wait_port(web_port, timeout=180, proc=web.popen)
        for w in workers.values():
            _wait_for(lambda w=w: "ready." in w.text(), 120, f"worker {w.log}")
        yield dict(env=env, sims=sims, procs=procs, workers=workers, web=f"http://127.0.0.1:{web_port}",
                   tmp=tmp_path, s3_url=s3_url, pg_url=pg_url, started=t0)
    finally:
        for p in reversed(procs):
            p.stop()
        pg.stop()
        for s in sims.values():
            s.stop()


def _wait_for(cond, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"waited {timeout:g} s for {what}")


def _instance(env: dict) -> dg.DagsterInstance:
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "DAGSTER_PG_URL", "DAGSTER_CELERY_BROKER_URL",
                                           "DAGSTER_CELERY_BACKEND_URL")})
    return dg.DagsterInstance.get()


def _worker_of(cluster, run) -> str | None:
    task = run.tags.get("dagster-celery/task_id")
    for name, w in cluster["workers"].items():
        if task and task in w.text():
            return name
    return None


def test_backfill_on_two_workers_survives_a_killed_worker(cluster):
    env = cluster["env"]
    for name in CONNECTORS:
        got = graphql(cluster["web"], LAUNCH, {"p": {
            "partitionNames": [d.isoformat() for d in DAYS],
            "assetSelection": [{"path": [name, "audit_records_parquet"]}, {"path": [name, "audit_records_duckdb"]}],
        }})
        assert got["data"]["launchPartitionBackfill"]["__typename"] == "LaunchBackfillSuccess", got
    instance = _instance(env)

    def runs():
        return instance.get_runs()

    # Kill the worker running beta's collection once it has published a day or two.
    s3 = boto3.client("s3", endpoint_url=cluster["s3_url"], region_name="us-east-1",
                      aws_access_key_id="cluster-key", aws_secret_access_key=SECRETS["s3"])

    def beta_mid_run():
        for r in runs():
            if r.status == dg.DagsterRunStatus.STARTED and "beta" in str(r.asset_selection):
                listed = s3.list_objects_v2(Bucket="lake", Prefix="jira/audit_records/connector=beta/")
                if listed.get("KeyCount", 0) >= 1 and _worker_of(cluster, r):
                    return r
        return None

    victim_run = _wait_for(beta_mid_run, 240, "beta's run to be under way on a worker", every=0.2)
    victim = _worker_of(cluster, victim_run)
    cluster["workers"][victim].kill()
    killed_at = time.monotonic()
    # A replacement comes up, so two workers serve again (the retry may land on either).
    cluster["workers"]["w3"] = Proc(["deploy/worker.sh", "w3"], cluster["tmp"] / "w3.log", env=env, cwd=REPO)
    cluster["procs"].append(cluster["workers"]["w3"])

    def settled():
        rs = runs()
        done = {n: [r for r in rs if n in str(r.asset_selection) and r.status == dg.DagsterRunStatus.SUCCESS]
                for n in CONNECTORS}
        busy = [r for r in rs if not r.is_finished]
        return all(done.values()) and not busy and done

    done = _wait_for(settled, 420, "both connectors' runs to succeed")
    elapsed = time.monotonic() - cluster["started"]
    print(f"cluster: services up to both backfills done {elapsed:.0f} s; kill to recovery "
          f"{time.monotonic() - killed_at:.0f} s")

    failed = instance.get_run_by_id(victim_run.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    retry = done["beta"][0]
    assert retry.tags.get("dagster/parent_run_id") == victim_run.run_id or \
        retry.tags.get("dagster/root_run_id") == victim_run.run_id
    hosts = {_worker_of(cluster, r) for rs in done.values() for r in rs} | {victim}
    assert None not in hosts and len(hosts) >= 2, hosts  # whole runs on the Celery workers

    # The bucket holds exactly one object per connector-day, each exactly the site's records.
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="jira/")["Contents"])
    assert keys == sorted(f"jira/audit_records/connector={n}/date={d}/data.parquet" for n in CONNECTORS for d in DAYS)
    os.environ.update({k: env[k] for k in ("JIRA_ETL_LAKE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY", "AWS_REGION")})
    expected = {}
    for n, sim in cluster["sims"].items():
        tables = compaction.read_days(Path(env["JIRA_ETL_DATA_DIR"]), n, DAYS)
        for d in DAYS:
            lo = dt.datetime.combine(d, dt.time(), UTC)
            truth = sim.data.truth_ids(lo, lo + dt.timedelta(days=1) - dt.timedelta(milliseconds=1))
            ids = tables[d].column("id").to_pylist()
            assert len(ids) == len(set(ids)) and set(ids) == truth and truth, (n, d)
            expected[(n, d)] = truth

    # The warehouse on the loading node holds the same records, once each.
    con = duckdb.connect(str(Path(env["JIRA_ETL_DATA_DIR"]) / "jira_audit.duckdb"), read_only=True)
    rows = con.execute("SELECT connector, CAST(timezone('UTC', created) AS DATE), list(id), count(*) "
                       "FROM audit_records GROUP BY ALL").fetchall()
    con.close()
    assert {(c, d): set(ids) for c, d, ids, _ in rows} == expected
    assert sum(n for *_, n in rows) == sum(map(len, expected.values()))

    # No secret in the instance's database (event log, runs, tags) or the logs.
    with psycopg2.connect(env["DAGSTER_PG_URL"]) as db, db.cursor() as cur:
        cur.execute("SELECT event FROM event_logs UNION ALL SELECT run_body FROM runs "
                    "UNION ALL SELECT value FROM run_tags")
        stored = "\n".join(r[0] or "" for r in cur.fetchall())
    logs = "\n".join(p.text() for p in cluster["procs"])
    for secret in SECRETS.values():
        assert secret not in stored
        assert secret not in logs
