"""Soak (fast subset): eight busy days (4,000 records each) through the CLI
gives the truth under a memory ceiling (make reliability also compares a year's peak
with a month's on the same site)."""

from benchmarks.reliability.common import Capture
from benchmarks.reliability.soak import run_soak


def test_busy_range_through_the_cli_gives_the_truth_with_bounded_memory(rel_root):
    report = run_soak(rel_root / "soak", Capture(rel_root), days=8, volume=4000, reference_days=0,
                      ceiling_mb=1200, log=lambda *_: None)
    assert not report.failures, report.failures
    assert report.records == report.expected == 8 * 4000
