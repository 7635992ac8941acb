"""Concurrency: several `jira-etl backfill` processes over overlapping and disjoint
ranges at once (what the UI lets users launch), sharing one data directory and one
Dagster instance, while a reader runs `jira-etl sql` in a loop.

No run may fail (on the DuckDB lock or anything else), no read may fail, no read may
see a half-loaded day (a day's rows must always be all of its records or none of them),
and at the end the warehouse holds exactly the truth of the union of the ranges.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from jira_etl.reliability.common import (BIN, CONNECTOR, Capture, backfill_args, compare, inspect, new_token,
                                         run_cli, sim_env, truth, truth_by_day, yesterday)

# Every day the warehouse says it collected, with what collected_partitions claims and
# what audit_records actually holds for it; plus duplicates. One snapshot per read.
READ_SQL = f"""
SELECT c.day::VARCHAR AS day, c.record_count AS claimed, count(a.id) AS held,
       count(a.id) - count(DISTINCT a.id) AS dup
FROM collected_partitions c
LEFT JOIN audit_records a
  ON a.connector = c.connector
 AND a.created >= c.day::TIMESTAMP AT TIME ZONE 'UTC'
 AND a.created < (c.day + 1)::TIMESTAMP AT TIME ZONE 'UTC'
WHERE c.connector = '{CONNECTOR}'
GROUP BY ALL ORDER BY 1
"""


@dataclass
class ConcurrencyReport:
    runs: int = 0
    runs_failed: int = 0
    reads: int = 0
    reads_failed: int = 0
    half_loaded_seen: int = 0
    records: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def ranges_for(days: int, runs: int) -> list[tuple[int, int]]:
    """Day offsets (0 = oldest) of `runs` ranges: two disjoint halves, then ranges that
    overlap them (the middle, the whole range, shifted windows)."""
    half = max(1, days // 2)
    shapes = [(0, half - 1), (half, days - 1), (half - 1, half), (0, days - 1), (1, days - 2),
              (0, 0), (days - 2, days - 1), (half - 2, half + 1)]
    out = []
    for a, b in (shapes * (runs // len(shapes) + 1))[:runs]:
        a, b = max(0, a), min(days - 1, b)
        out.append((a, max(a, b)))
    return out


def run_concurrency(root: Path, capture: Capture, *, days: int = 10, runs: int = 6, volume: int = 3000,
                    seed: int = 9, log=print) -> ConcurrencyReport:
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import JiraSimulator

    report = ConcurrencyReport()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    end = yesterday()
    first = end - dt.timedelta(days=days - 1)
    site = SiteData(seed=seed, daily_volume=volume)
    by_day = truth_by_day(site, first, end)
    t0 = time.monotonic()
    with JiraSimulator(site, token=new_token()) as sim:
        env = sim_env(root, sim)
        # A first small load, so the warehouse exists when the reader starts.
        seed_run = run_cli(backfill_args(end, end), env, capture=capture)
        report.runs += 1
        if seed_run.returncode != 0:
            report.runs_failed += 1
            report.failures.append(f"first backfill failed: {seed_run.output[-400:]}")
            return report
        stop = threading.Event()

        def reader():
            while not stop.is_set():
                res = run_cli(["sql", READ_SQL, "--format", "json", "--max-rows", "100000"], env)
                report.reads += 1
                if res.returncode != 0:
                    report.reads_failed += 1
                    report.failures.append(f"read {report.reads} failed ({res.returncode}): {res.stderr.strip()[-300:]}")
                    capture.add("concurrency-read-failed", res.output)
                    continue
                try:
                    rows = json.loads(res.stdout)
                except ValueError:
                    report.reads_failed += 1
                    report.failures.append(f"read {report.reads}: not JSON: {res.stdout[:200]!r}")
                    continue
                for r in rows:
                    want = by_day.get(dt.date.fromisoformat(r["day"]))
                    bad = r["claimed"] != r["held"] or r["dup"] or (want is not None and r["held"] != len(want))
                    if bad:
                        report.half_loaded_seen += 1
                        report.failures.append(f"read {report.reads} saw day {r['day']}: claimed {r['claimed']}, "
                                               f"held {r['held']}, dup {r['dup']}, truth "
                                               f"{len(want) if want is not None else '?'}")

        reader_thread = threading.Thread(target=reader, daemon=True)
        reader_thread.start()
        procs = []
        for a, b in ranges_for(days, runs):
            s, e = first + dt.timedelta(days=a), first + dt.timedelta(days=b)
            log_path = root / f"run-{len(procs)}.log"
            procs.append((s, e, log_path, subprocess.Popen(
                [str(BIN), *backfill_args(s, e)], env=env, cwd=str(root),
                stdout=open(log_path, "w"), stderr=subprocess.STDOUT)))
        for s, e, log_path, p in procs:
            rc = p.wait(timeout=1800)
            report.runs += 1
            text = log_path.read_text()
            capture.add(f"concurrency-run-{s}-{e}", text)
            if rc != 0:
                report.runs_failed += 1
                tail = [line for line in text.splitlines() if "FAILED" in line or "Error" in line][-3:]
                report.failures.append(f"backfill {s}..{e} exited {rc}: {' | '.join(tail) or text[-300:]}")
        stop.set()
        reader_thread.join(120)
        covered = {first + dt.timedelta(days=i) for a, b in ranges_for(days, runs) for i in range(a, b + 1)}
        covered.add(end)
        expected_days = {d: ids for d, ids in by_day.items() if d in covered}
        expected = set().union(*expected_days.values())
        state = inspect(data_dir)
        report.records = len(state.table_ids)
        report.failures += [f"final state: {p}" for p in compare(state, expected, expected_days)]
    report.seconds = time.monotonic() - t0
    log(f"  concurrency: {report.runs} runs ({report.runs_failed} failed), {report.reads} reads "
        f"({report.reads_failed} failed, {report.half_loaded_seen} half-loaded views), {report.records} records, "
        f"{report.seconds:.0f} s")
    return report


__all__ = ["ConcurrencyReport", "run_concurrency", "truth"]
