"""Crashes: SIGKILL a `jira-etl backfill` subprocess at random moments of each phase
(fetching while the day's Parquet file is being written, the DuckDB load, the
findings), check what readers would see right after the kill, re-run, and compare
with the simulator's truth. Days are loaded and their findings evaluated while later
days are fetched, so kills in the fetch and load phases land in loads and findings
too; the last day's load and findings come after the last `[n/n]` line, and what
follows `loaded ... records over` is the findings' result.

A kill is survived when, right after it, every Parquet file where readers look reads
cleanly, DuckDB opens and holds no half-loaded day and no duplicate, and the next
complete run ends with exactly the truth (zero lost, zero duplicated) and no temporary
file left behind.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.reliability.common import (BIN, CONNECTOR, Capture, backfill_args, compare, inspect, new_token,
                                         sim_env, truth, truth_by_day, yesterday)

TARGETS = ("fetch", "load", "findings", "anywhere")


@dataclass
class Kill:
    target: str
    phase: str
    after_s: float
    problems: list[str]
    survived: bool = False


@dataclass
class CrashReport:
    kills: list[Kill] = field(default_factory=list)
    reruns: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> list[Kill]:
        """Kills that hit a running backfill (a run that had already ended is no kill)."""
        return [k for k in self.kills if not k.phase.startswith("missed")]

    @property
    def survived(self) -> int:
        return sum(k.survived for k in self.delivered)

    def by_phase(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        for k in self.delivered:
            s = out.setdefault(k.phase, [0, 0])
            s[0] += k.survived
            s[1] += 1
        return {p: (a, b) for p, (a, b) in sorted(out.items())}


class _Watched:
    """A backfill subprocess whose output lines are timestamped as they arrive."""

    def __init__(self, args, env, cwd):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([str(BIN), *args], env=env, cwd=str(cwd), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.t0, line.rstrip("\n")))

    def text(self) -> str:
        return "\n".join(line for _, line in list(self.lines))

    def first(self, needle: str) -> float | None:
        return next((t for t, line in list(self.lines) if needle in line), None)

    def wait_for(self, needle: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.first(needle) is not None:
                return True
            if self.proc.poll() is not None:
                self._thread.join(2)
                return self.first(needle) is not None
            time.sleep(0.01)
        return False

    def finish(self, timeout: float = 900) -> int:
        rc = self.proc.wait(timeout)
        self._thread.join(5)
        return rc


def _phase(w: _Watched, ndays: int, data_dir: Path) -> str:
    text = w.text()
    if "loaded " in text and " records over " in text:
        return "after the load (findings' result)" if "finding(s)" not in text else "after the findings"
    if f"[{ndays}/{ndays}]" in text:
        return "last DuckDB load and findings"
    if "[1/" in text or list(data_dir.glob("parquet/audit_records/*/*/.*.tmp")):
        return "fetching + writing Parquet"
    return "start-up"


def _markers(ndays: int) -> dict[str, str]:
    return {"fetch": f"[1/{ndays}]", "load": f"[{ndays}/{ndays}]", "findings": " records over "}


def run_crash(root: Path, capture: Capture, *, kills: int = 16, days: int = 8, volume: int = 5000,
              latency_s: float = 0.0, seed: int = 7, rerun_each: bool = True, targets=TARGETS,
              rng_seed: int | None = None, log=print) -> CrashReport:
    """`kills` SIGKILLs cycling through `targets`. With `rerun_each`, a complete run follows
    every kill; otherwise kills are chained (each interrupts the re-run of the previous)
    and one complete run ends the series."""
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import Faults, JiraSimulator

    rng = random.Random(rng_seed)
    report = CrashReport()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    data_dir = root / "data"
    end = yesterday()
    start = end - dt.timedelta(days=days - 1)
    site = SiteData(seed=seed, daily_volume=volume)
    expected, expected_days = truth(site, start, end), truth_by_day(site, start, end)
    markers = _markers(days)
    # Phase durations (s), learned from complete runs; first guesses until then.
    spans = {"fetch": 0.3 * days, "load": 1.0, "findings": 2.0, "anywhere": 8.0 + 0.5 * days}

    def complete_run(label: str) -> list[str]:
        w = _Watched(backfill_args(start, end), env, root)
        rc = w.finish()
        capture.add(f"crash-rerun-{label}", w.text())
        report.reruns += 1
        t_first, t_last = w.first(markers["fetch"]), w.first(markers["load"])
        t_loaded, t_done = w.first(markers["findings"]), w.first("finding(s) over")
        if None not in (t_first, t_last, t_loaded):
            spans["fetch"] = max(0.2, t_last - t_first)
            spans["load"] = max(0.2, t_loaded - t_last)
            spans["anywhere"] = max(1.0, (t_done or t_loaded) + 1.0)
        if t_done is not None and t_loaded is not None:
            spans["findings"] = max(0.2, t_done - t_loaded)
        problems = [] if rc == 0 else [f"re-run exited {rc}: {w.text()[-400:]}"]
        return problems + compare(inspect(data_dir), expected, expected_days)

    with JiraSimulator(site, token=new_token(), faults=Faults(latency_s=latency_s)) as sim:
        env = sim_env(root, sim)
        pending: list[Kill] = []  # chained mode: kills waiting for the final complete run
        for i in range(kills):
            target = targets[i % len(targets)]
            w = _Watched(backfill_args(start, end), env, root)
            if target == "anywhere":
                delay = rng.uniform(0.5, spans["anywhere"])
                reached = True
            else:
                reached = w.wait_for(markers[target], timeout=600)
                # Within the first half of the phase as a complete run timed it: this run
                # may be faster (the tail after the last load is ~1 s now), and a kill
                # after its end tests nothing.
                delay = rng.uniform(0.0, spans[target] / 2)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and w.proc.poll() is None:
                time.sleep(0.005)
            phase = _phase(w, days, data_dir)
            alive = w.proc.poll() is None
            if alive:
                os.kill(w.proc.pid, signal.SIGKILL)
            rc = w.finish()
            capture.add(f"crash-kill-{i}", w.text())
            if not alive or not reached:
                phase = "missed (run had ended)" if rc == 0 else f"missed (exit {rc})"
            after = w.lines[-1][0] if w.lines else 0.0
            # What a reader sees right after the kill (a hidden temporary is expected).
            state = inspect(data_dir)
            problems = [p for p in state.problems() if not p.startswith("temporary file left")]
            kill = Kill(target, phase, round(after, 2), problems)
            report.kills.append(kill)
            pending.append(kill)
            if rerun_each or i == kills - 1:
                problems_after = complete_run(str(i))
                for k in pending:
                    k.problems += [f"after re-run: {p}" for p in problems_after]
                    k.survived = not k.problems
                pending = []
            log(f"  kill {i + 1}/{kills} target={target} phase={phase}: "
                + ("ok" if not kill.problems else "; ".join(kill.problems)))
    report.failures = [f"kill {i + 1} ({k.phase}): {'; '.join(k.problems)}"
                       for i, k in enumerate(report.kills) if k.problems]
    return report
