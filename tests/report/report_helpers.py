"""Helpers of the report tests: the demo month's data and the planted cast."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

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


def planted_actor_names() -> set[str]:
    """The display names of the actors the demo's planted attacks use (from the
    simulator's own cast, not from what the pipeline found)."""
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.scenarios import actors

    cast = actors(SiteData())
    return {cast[k].displayName for k in ("config1", "config2", "people2")}
