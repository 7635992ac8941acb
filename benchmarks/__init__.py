"""The harnesses, outside the installed package: `make bench` (benchmarks/bench) and
`make reliability` (benchmarks/reliability). They run from a checkout (`python -m
benchmarks.bench` in the repository root) against the installed `jira_etl`; nothing in
`jira_etl` imports them, so the wheel ships the product only."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_env(extra: dict | None = None) -> dict:
    """This process's environment for a `python -m benchmarks...` child: the checkout on
    PYTHONPATH, so the child finds the harness whatever its working directory."""
    env = dict(os.environ)
    paths = [str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.update(extra or {})
    return env
