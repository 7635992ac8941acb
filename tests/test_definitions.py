"""The code location loads the way `dagster dev` loads it: every definition resolves."""

import dagster as dg

from jira_etl.defs import definitions


def test_definitions_resolve_for_simulator_and_several_connectors(tmp_path, monkeypatch):
    dg.Definitions.validate_loadable(definitions.build_definitions())
    monkeypatch.setenv("A_TOKEN", "x")
    monkeypatch.setenv("B_TOKEN", "y")
    (tmp_path / "c.yaml").write_text(
        "connectors:\n"
        "  - {name: acme, site: acme, email: a@b.co, api_token_env: A_TOKEN}\n"
        "  - {name: beta, site: beta, email: b@b.co, api_token_env: B_TOKEN}\n"
    )
    monkeypatch.setenv("JIRA_ETL_CONNECTORS", str(tmp_path / "c.yaml"))
    defs = definitions.build_definitions()
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    assert {"collect_acme", "collect_beta", "test_connection_acme", "test_connection_beta"} <= set(repo.job_names)
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"acme/audit_records_parquet", "beta/audit_records_duckdb", "beta/findings", "acme/report",
            "acme/jira_connection", "beta/open_findings", "beta/collection_health"} <= keys
    assert {"collection_health_acme", "collection_health_beta"} <= set(repo.job_names)
    schedules = {s.name for s in repo.schedule_defs}
    assert schedules == {f"{c}_{s}" for c in ("acme", "beta")
                         for s in ("refresh_today", "finalize_yesterday", "settle_recent", "collection_health",
                                   "compact_months")}


def test_loading_the_definitions_leaves_pandas_and_the_report_for_later(tmp_path):
    # Every command (a backfill before its first request) paid ~0.4 s importing pandas,
    # and the report's jinja2, at start-up; they are imported where a frame or a report
    # is built. A fresh interpreter, as the CLI starts.
    import subprocess
    import sys

    code = ("import sys; import jira_etl.cli.backfill; from jira_etl.defs import definitions; "
            "definitions.build_definitions(); "
            "print(sorted(m for m in ('pandas', 'jinja2', 'altair') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_the_cli_starts_numpy_without_a_blas_thread_pool_unless_the_user_sets_one(tmp_path):
    # OpenBLAS starts a worker per core at numpy's import, whose workers spin after a call;
    # the CLI does no linear algebra. A fresh interpreter, as the console script starts.
    import os
    import subprocess
    import sys

    code = ("import os, jira_etl.cli.main, numpy; a = numpy.ones((64, 64)); a @ a; "
            "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "1"], out.stdout + out.stderr
    mine = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "OPENBLAS_NUM_THREADS": "2"},
                          capture_output=True, text=True, check=True)
    assert mine.stdout.split() == ["2", "2"], mine.stdout + mine.stderr
