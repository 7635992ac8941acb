"""Crashes (fast subset): SIGKILL `jira-etl backfill` while it fetches and writes
Parquet and inside the DuckDB load, then a complete run must end with exactly the truth;
temporaries left by a killed writer are covered in test_regressions.py."""

from benchmarks.reliability.common import Capture
from benchmarks.reliability.crash import run_crash


def test_sigkill_while_fetching_and_while_loading_then_rerun_gives_the_truth(rel_root):
    root = rel_root / "crash"
    report = run_crash(root, Capture(rel_root), kills=2, days=3, volume=2500, rerun_each=False,
                       targets=("fetch", "load"), rng_seed=1, log=lambda *_: None)
    assert not report.failures, report.failures
    phases = [k.phase for k in report.delivered]
    assert len(phases) == 2, [k.phase for k in report.kills]
    assert report.survived == 2
