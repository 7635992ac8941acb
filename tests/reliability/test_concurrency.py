"""Concurrency (fast subset): overlapping and disjoint `jira-etl backfill` processes at
once while `jira-etl sql` reads in a loop: no failed run or read, no half-loaded day."""

from benchmarks.reliability.common import Capture
from benchmarks.reliability.concurrency import run_concurrency


def test_overlapping_backfills_and_a_reader_at_once(rel_root):
    report = run_concurrency(rel_root / "concurrency", Capture(rel_root), days=4, runs=3, volume=1500,
                             log=lambda *_: None)
    assert not report.failures, report.failures
    assert report.runs == 4 and report.runs_failed == 0
    assert report.reads >= 2 and report.reads_failed == 0 and report.half_loaded_seen == 0
