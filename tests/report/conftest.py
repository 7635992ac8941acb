"""The demo month: `jira-etl demo --days 30` run once as users run it (a subprocess with
its own data directory and Dagster instance), shared by the report's tests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from report_helpers import BIN, DemoMonth

UTC = dt.timezone.utc


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
