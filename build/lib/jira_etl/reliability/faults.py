"""Fault matrix: the connector's Dagster assets (extract, load, findings) over real HTTP
against the simulator with one fault switched on.

Each scenario either completes with exactly the truth, or fails with a clear message
(words the user can act on) and publishes nothing partial; then the fault is cleared
and a re-run must complete with exactly the truth.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jira_etl.reliability.common import (CONNECTOR, Capture, compare, day_range, inspect, partial_problems,
                                         truth, truth_by_day, yesterday)

TOKEN_ENV = "JIRA_ETL_RELIABILITY_TOKEN"


@dataclass
class Scenario:
    name: str
    faults: dict[str, Any]
    expect: str = "ok"  # "ok": must complete with the truth; "fail": must fail clearly
    words: tuple[str, ...] = ()  # the failure message must contain each (case-insensitive)
    jira: dict[str, Any] = field(default_factory=dict)  # JiraResource overrides


# Bounded faults must be ridden out; unbounded ones must end in a clear failure.
FULL: list[Scenario] = [
    Scenario("429 with Retry-After", dict(rate_limit_every=3, retry_after=1, max_faults=4)),
    Scenario("429 without Retry-After", dict(rate_limit_every=2, retry_after=None, max_faults=10)),
    Scenario("429 storm (never ends)", dict(rate_limit_every=1, retry_after=0), "fail", ("429", "attempts")),
    Scenario("503 burst", dict(error_5xx_every=2, max_faults=10)),
    Scenario("500 burst with Retry-After", dict(error_5xx_every=3, error_status=500, error_retry_after=0,
                                                max_faults=8)),
    Scenario("502 storm (never ends)", dict(error_5xx_every=1, error_status=502), "fail", ("502", "attempts")),
    Scenario("slow responses past the timeout", dict(slow_every=4, slow_s=1.5, max_faults=6)),
    Scenario("dropped connections", dict(drop_every=3, max_faults=10)),
    # Every 3rd request, not every 2nd: with days walked two at a time, two threads
    # retrying in step could leave one of them every even request, six truncated
    # answers in a row (a pattern of the injector, not of a server), out of retries.
    Scenario("truncated JSON", dict(truncated_json_every=3, max_faults=10)),
    Scenario("HTML page with status 200", dict(html_200_every=2, max_faults=10)),
    Scenario("HTML page with status 200 (always)", dict(html_200_every=1), "fail", ("HTML",)),
    # Revoked after a few answered requests, so it lands inside the first day whatever the slicing.
    Scenario("401 mid-backfill (token revoked)", dict(revoke_after=3), "fail", ("401", "revoked")),
    Scenario("403 not an admin", dict(forbidden="admin"), "fail", ("403", "Administer Jira")),
    Scenario("403 Free plan", dict(forbidden="free"), "fail", ("403", "Free plan")),
    # Rates sized for the few requests a probed small day now takes (a 2,500-record day
    # is one slice): at one fault in ~40 requests the injector could stay silent.
    Scenario("every fault at random", dict(rate_limit_prob=0.08, retry_after=0, error_5xx_prob=0.08,
                                           drop_every=7, truncated_json_every=11, html_200_every=13,
                                           slow_every=17, slow_s=1.5, max_faults=20)),
    Scenario("latency 20 ms per request", dict(latency_s=0.02)),
    Scenario("one thread (concurrency 1) with 503s", dict(error_5xx_every=4, max_faults=6),
             jira=dict(concurrency=1, slices=1)),
]

# The fast subset (make test): two days cut into 8 slices each, extract and load only.
FAST: list[Scenario] = [
    Scenario("429 (Retry-After) + 503 + slow", dict(rate_limit_every=4, retry_after=1, error_5xx_every=5,
                                                   slow_every=7, slow_s=1.2, max_faults=4)),
    Scenario("dropped connections + truncated JSON + HTML 200",
             dict(drop_every=3, truncated_json_every=4, html_200_every=5, max_faults=6)),
    Scenario("401 mid-backfill (token revoked)", dict(revoke_after=3), "fail", ("401", "revoked")),
    Scenario("429 storm (never ends)", dict(rate_limit_every=1, retry_after=0), "fail", ("429", "attempts"),
             jira=dict(max_retries=3)),
]
FAST_OPTIONS = dict(days=2, volume=1500, jira=dict(slices=8), findings=False)


@dataclass
class ScenarioResult:
    name: str
    expect: str
    passed: bool
    message: str
    problems: list[str]
    seconds: float


@dataclass
class FaultReport:
    results: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failures(self) -> list[str]:
        return [f"{r.name}: {'; '.join(r.problems)}" for r in self.results if not r.passed]


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(record.getMessage())
        except Exception:  # noqa: BLE001
            pass


def materialize(sim, data_dir: Path, instance, start: dt.date, end: dt.date, findings: bool = True, **jira):
    """The CLI's in-process range run, with quick retries (the waits are the only change)."""
    import dagster as dg

    from jira_etl.cli.backfill import RANGE_END_TAG, RANGE_START_TAG, _run_failure
    from jira_etl.defs.definitions import collection_assets, connector_assets
    from jira_etl.defs.resources import JiraResource, StorageResource

    os.environ[TOKEN_ENV] = sim.token  # read through dg.EnvVar, as configured connectors are
    kw = dict(max_retries=5, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=0.5) | jira
    resources = {
        f"jira_{CONNECTOR}": JiraResource(connector=CONNECTOR, site=sim.url, email=sim.email,
                                          api_token=dg.EnvVar(TOKEN_ENV), **kw),
        "storage": StorageResource(data_dir=str(data_dir)),
    }
    result = dg.materialize(
        connector_assets(CONNECTOR) if findings else collection_assets(CONNECTOR), resources=resources, instance=instance,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat(), "jira_etl/source": "reliability"},
        raise_on_error=False,
    )
    return result.success, ("" if result.success else _run_failure(result))


def run_scenario(sc: Scenario, root: Path, instance, capture: Capture, *, seed: int, days: int = 3,
                 volume: int = 2500, jira: dict | None = None, findings: bool = True) -> ScenarioResult:
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import Faults, JiraSimulator
    from jira_etl.reliability.common import new_token

    t0 = time.monotonic()
    end = yesterday()
    start = end - dt.timedelta(days=days - 1)
    site = SiteData(seed=seed, daily_volume=volume)
    data_dir = root / "data"
    problems: list[str] = []
    message = ""
    handler = _Collect()
    logging.getLogger().addHandler(handler)
    try:
        with JiraSimulator(site, token=new_token(), faults=Faults(seed=seed, **sc.faults)) as sim:
            expected_days = truth_by_day(site, start, end)
            expected = truth(site, start, end)
            kw = (jira or {}) | sc.jira
            ok, message = materialize(sim, data_dir, instance, start, end, findings, **kw)
            state = inspect(data_dir)
            if sc.expect == "ok":
                if not ok:
                    problems.append(f"the run failed: {message}")
                problems += compare(state, expected, expected_days)
                if sc.faults.get("max_faults") and not sim.faults_injected and not sc.faults.get("latency_s"):
                    problems.append("no fault was injected: the scenario tested nothing")
            else:
                if ok:
                    problems.append("the run succeeded although the fault never ends")
                low = message.lower()
                problems += [f"message lacks {w!r}: {message!r}" for w in sc.words if w.lower() not in low]
                problems += partial_problems(state, expected_days)
            # Clear the fault: a re-run must complete with exactly the truth.
            sim.faults = Faults()
            ok2, message2 = materialize(sim, data_dir, instance, start, end, findings, **kw)
            if not ok2:
                problems.append(f"the re-run failed: {message2}")
            problems += [f"after re-run: {p}" for p in compare(inspect(data_dir), expected, expected_days)]
            capture.add(f"fault-{sc.name}", "\n".join([message, message2, *handler.lines]))
    except Exception as exc:  # noqa: BLE001 - a crash of the harness is a failed scenario
        problems.append(f"crashed: {type(exc).__name__}: {exc}")
        capture.add(f"fault-{sc.name}-crash", f"{type(exc).__name__}: {exc}")
    finally:
        logging.getLogger().removeHandler(handler)
    return ScenarioResult(sc.name, sc.expect, not problems, message, problems, time.monotonic() - t0)


def run_matrix(root: Path, capture: Capture, scenarios: list[Scenario] | None = None, *, days: int = 3,
               volume: int = 2500, jira: dict | None = None, findings: bool = True, log=print) -> FaultReport:
    """Every scenario in its own data dir; one persistent Dagster instance (scanned later)."""
    import dagster as dg

    scenarios = FULL if scenarios is None else scenarios
    home = Path(root) / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    report = FaultReport()
    with dg.DagsterInstance.local_temp(tempdir=str(home)) as instance:
        for i, sc in enumerate(scenarios):
            res = run_scenario(sc, Path(root) / f"s{i:02d}", instance, capture, seed=100 + i, days=days,
                               volume=volume, jira=jira, findings=findings)
            report.results.append(res)
            log(f"  fault {'PASS' if res.passed else 'FAIL'} {sc.name} ({res.seconds:.1f} s)"
                + ("" if res.passed else f": {'; '.join(res.problems)}"))
    return report


__all__ = ["FAST", "FULL", "FaultReport", "Scenario", "run_matrix", "day_range"]
