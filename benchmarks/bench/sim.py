"""A simulator in its own process (so it never shares a GIL with what is measured).

    python -m benchmarks.bench.sim --volume N [--latency S] [--seed S]
    python -m benchmarks.bench.sim --shape NAME --first YYYY-MM-DD [--latency S] [--seed S]

Prints one line `READY <url>` and serves until killed. On SIGUSR1 it prints one line
`STATS {json}`: audit pages and records served, every request, and the monotonic time
(comparable across processes on Linux) of the first and the last request it answered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time

from benchmarks import python_env

EMAIL, TOKEN = "demo@jira-etl.local", "demo-token"


def _counting(cls):
    """`cls` (a SiteData) counting the audit pages and records it serves."""

    class Counting(cls):
        def page_texts(self, *args, **kw):
            total, texts = super().page_texts(*args, **kw)
            with _COUNT_LOCK:
                _COUNTS["served"] += len(texts)
                _COUNTS["pages"] += 1
            return total, texts

    return Counting


_COUNT_LOCK = threading.Lock()
_COUNTS = {"served": 0, "pages": 0}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--volume", type=int, default=None)
    p.add_argument("--shape", default=None)
    p.add_argument("--first", default=None, help="first day of the shape (YYYY-MM-DD)")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import Faults, JiraSimulator

    if a.shape:
        from benchmarks.bench.shapes import SHAPES, ShapedSite

        data = _counting(ShapedSite)(SHAPES[a.shape], dt.date.fromisoformat(a.first), seed=a.seed)
    else:
        data = _counting(SiteData)(seed=a.seed, daily_volume=a.volume)
    first: list[float] = []
    last = [0.0]

    class Sim(JiraSimulator):
        def _log(self, path, query, status):
            now = time.monotonic()
            if not first:
                first.append(now)
            last[0] = now
            super()._log(path, query, status)

    sim = Sim(data, email=EMAIL, token=TOKEN, faults=Faults(latency_s=a.latency))

    def stats(*_):
        with _COUNT_LOCK:
            out = dict(_COUNTS, requests=sim.api_requests, first_request_at=first[0] if first else None,
                       last_request_at=last[0] if first else None,
                       audit_requests=sim.path_counts.get("/rest/api/3/auditing/record", 0))
        print("STATS " + json.dumps(out), flush=True)

    signal.signal(signal.SIGUSR1, stats)
    url = sim.start()
    print(f"READY {url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


class SimProcess:
    """Context manager: a fresh simulator process per measure, so each starts cold.
    `shape` (with `first`, the window's first day) serves a shapes.py site."""

    def __init__(self, volume: int | None = None, latency: float = 0.0, seed: int = 7,
                 shape: str | None = None, first: dt.date | None = None):
        self.args = [sys.executable, "-m", "benchmarks.bench.sim", "--latency", str(latency), "--seed", str(seed)]
        if shape:
            self.args += ["--shape", shape, "--first", first.isoformat()]
        else:
            self.args += ["--volume", str(volume)]
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "SimProcess":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True,
                                     env=python_env({"PYTHONUNBUFFERED": "1"}))
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        return self

    def stats(self) -> dict:
        """What the simulator has served so far (see the module docstring)."""
        self.proc.send_signal(signal.SIGUSR1)
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("simulator exited")
            if line.startswith("STATS "):
                return json.loads(line[6:])

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    main()
