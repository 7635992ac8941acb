"""Fault matrix (fast subset): the connector's assets over real HTTP against the
simulator with faults on; bounded faults end with exactly the truth, endless ones fail
clearly with only whole days published, and a re-run completes."""

from benchmarks.reliability.common import Capture
from benchmarks.reliability.faults import FAST, FAST_OPTIONS, run_matrix


def test_fault_matrix_fast_subset(rel_root):
    report = run_matrix(rel_root / "faults", Capture(rel_root), FAST, log=lambda *_: None, **FAST_OPTIONS)
    assert not report.failures, report.failures
    assert report.passed == len(FAST) and {r.expect for r in report.results} == {"ok", "fail"}
