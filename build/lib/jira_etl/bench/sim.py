"""A simulator in its own process (so it never shares a GIL with what is measured).

    python -m jira_etl.bench.sim --volume N [--latency S] [--seed S]

Prints one line `READY <url>` and serves until killed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

EMAIL, TOKEN = "demo@jira-etl.local", "demo-token"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--volume", type=int, required=True)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import Faults, JiraSimulator

    sim = JiraSimulator(SiteData(seed=a.seed, daily_volume=a.volume), email=EMAIL, token=TOKEN,
                        faults=Faults(latency_s=a.latency))
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
    """Context manager: a fresh simulator process per measure, so each starts cold."""

    def __init__(self, volume: int, latency: float = 0.0, seed: int = 7):
        self.args = [sys.executable, "-m", "jira_etl.bench.sim", "--volume", str(volume),
                     "--latency", str(latency), "--seed", str(seed)]
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> "SimProcess":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True,
                                     env=os.environ | {"PYTHONUNBUFFERED": "1"})
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        return self

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
