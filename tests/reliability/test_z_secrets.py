"""Secrets (fast subset; the file name sorts it last): scan everything the other
reliability tests left (Dagster instances incl. event logs, Parquet, DuckDB, captured
stdout/stderr and exception text) for their tokens; the scanner itself must find a
planted token; the site check refuses URL tricks."""

import datetime as dt
import sqlite3

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.reliability import secrets_scan
from benchmarks.reliability.common import Capture, backfill_args, new_token, run_cli, sim_env, yesterday
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator


def test_no_token_anywhere_the_runs_left_anything(rel_root):
    if not list(rel_root.rglob("dagster_home")):
        # Run alone: produce something first, a backfill whose token is revoked mid-run
        # (its failure text goes to the instance, the event log and the output).
        root = rel_root / "secrets"
        with JiraSimulator(SiteData(seed=4), token=new_token(), faults=Faults(revoke_after=2)) as sim:
            out = run_cli(backfill_args(yesterday() - dt.timedelta(days=2), yesterday()), sim_env(root, sim),
                          capture=Capture(rel_root))
        assert out.returncode == 1 and "401" in out.output
    report = secrets_scan.scan([rel_root])
    assert report.files > 10 and report.sqlite_files >= 1
    assert not report.hits, report.hits


def test_the_scanner_finds_a_planted_token(tmp_path):
    token = new_token("x@y.example")
    (tmp_path / "a.log").write_text(f"Authorization failed for {token}")
    pq.write_table(pa.table({"raw": [f'{{"t": "{token}"}}']}), tmp_path / "b.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "c.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT ? AS message", [token.upper().lower()])
    db = sqlite3.connect(tmp_path / "d.db")
    db.execute("CREATE TABLE e (body TEXT)")
    db.execute("INSERT INTO e VALUES (?)", [token])
    db.commit()
    db.close()
    hits = secrets_scan.scan([tmp_path]).hits
    assert len(hits) == 4, hits


def test_site_check_refuses_url_tricks():
    refused, tricks, failures = secrets_scan.check_site_tricks()
    assert not failures, failures
    assert refused == tricks >= 20
