"""The demo month: `jira-etl demo --days 30` run once as users run it (a subprocess with
its own data directory and Dagster instance), shared by the report's tests."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "jira-etl"
UTC = dt.timezone.utc


@dataclass
class DemoMonth:
    root: Path
    data_dir: Path
    dagster_home: Path
    stdout: str
    start: dt.date
    end: dt.date
    report: Path

    def env(self, data_dir: Path | None = None) -> dict:
        e = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        return e | {"JIRA_ETL_DATA_DIR": str(data_dir or self.data_dir), "DAGSTER_HOME": str(self.dagster_home)}

    def copy(self, dest: Path) -> Path:
        """A private copy of the data directory, for tests that change the data."""
        shutil.copytree(self.data_dir, dest, ignore=shutil.ignore_patterns("*.lock", "parquet"))
        return dest


@pytest.fixture(scope="session")
def demo_month(tmp_path_factory) -> DemoMonth:
    root = tmp_path_factory.mktemp("demo_month")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    env |= {"JIRA_ETL_DATA_DIR": str(root / "data"), "DAGSTER_HOME": str(root / "dagster_home")}
    out = subprocess.run([str(BIN), "demo", "--days", "30"], env=env, cwd=root, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    today = dt.datetime.now(UTC).date()
    line = next(l for l in out.stdout.splitlines() if l.startswith("Report:"))
    report = Path(line.split(None, 1)[1].strip())
    return DemoMonth(root, root / "data", root / "dagster_home", out.stdout, today - dt.timedelta(days=30),
                     today - dt.timedelta(days=1), report)


def planted_actor_names() -> set[str]:
    """The display names of the actors the demo's planted attacks use (from the
    simulator's own cast, not from what the pipeline found)."""
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.scenarios import actors

    cast = actors(SiteData())
    return {cast[k].displayName for k in ("config1", "config2", "people2")}
