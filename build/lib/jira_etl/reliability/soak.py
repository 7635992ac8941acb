"""Soak: a long backfill of a busy simulated site through the CLI, compared with the
truth, with the backfill process's peak memory measured (wait4's ru_maxrss).

Memory is bounded when the long range's peak stays close to a short range's peak on
the same site (collection streams day by day; a range must not accumulate) and under
an absolute ceiling.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from jira_etl.reliability.common import (Capture, backfill_args, compare, inspect, new_token, run_cli, sim_env,
                                         truth, yesterday)


@dataclass
class SoakReport:
    days: int = 0
    volume: int = 0
    records: int = 0
    expected: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0
    reference_days: int = 0
    reference_peak_mb: float = 0.0
    reference_seconds: float = 0.0
    ceiling_mb: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def run_soak(root: Path, capture: Capture, *, days: int = 365, volume: int = 5000, reference_days: int = 14,
             ceiling_mb: float = 2048, growth_mb: float = 256, seed: int = 3, log=print) -> SoakReport:
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import JiraSimulator

    root = Path(root)
    report = SoakReport(days=days, volume=volume, reference_days=reference_days, ceiling_mb=ceiling_mb)
    end = yesterday()
    start = end - dt.timedelta(days=days - 1)
    site = SiteData(seed=seed, daily_volume=volume, start=start - dt.timedelta(days=1))
    with JiraSimulator(site, token=new_token()) as sim:
        if reference_days:
            # A short range first, on its own data dir: the reference peak.
            ref_env = sim_env(root / "reference", sim, JIRA_ETL_START_DATE=start.isoformat())
            ref = run_cli(backfill_args(end - dt.timedelta(days=reference_days - 1), end), ref_env, capture=capture)
            report.reference_peak_mb, report.reference_seconds = ref.max_rss_mb, ref.seconds
            if ref.returncode != 0:
                report.failures.append(f"reference backfill failed: {ref.output[-400:]}")
        env = sim_env(root / "long", sim, JIRA_ETL_START_DATE=start.isoformat())
        t0 = time.monotonic()
        res = run_cli(backfill_args(start, end), env, capture=capture, timeout=4 * 3600)
        report.seconds, report.peak_mb = time.monotonic() - t0, res.max_rss_mb
        if res.returncode != 0:
            report.failures.append(f"backfill of {days} days failed: {res.output[-400:]}")
        expected = truth(site, start, end)
        report.expected = len(expected)
        state = inspect(root / "long" / "data")
        report.records = len(state.table_ids)
        report.failures += compare(state, expected)
    if report.peak_mb > ceiling_mb:
        report.failures.append(f"peak memory {report.peak_mb:.0f} MB is over the ceiling {ceiling_mb:.0f} MB")
    if reference_days and report.peak_mb > report.reference_peak_mb * 1.5 + growth_mb:
        report.failures.append(f"peak memory grows with the range: {report.peak_mb:.0f} MB for {days} days vs "
                               f"{report.reference_peak_mb:.0f} MB for {reference_days}")
    log(f"  soak: {days} days x {volume}/day: {report.records}/{report.expected} records in "
        f"{report.seconds:.0f} s, peak {report.peak_mb:.0f} MB (reference {reference_days} days: "
        f"{report.reference_peak_mb:.0f} MB)" + ("" if not report.failures else f": {report.failures}"))
    return report
