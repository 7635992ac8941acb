"""End-to-end evaluation: a simulated site over real HTTP, the simulator's planted month
(jira_etl/simulator/scenarios.plant_month: every scenario with ground truth, over the
clean realistic background, with 30 days of history before it) plus the optional
new-country scenario, the full pipeline (extract -> load -> findings) in one
dg.materialize range run, then TP / FP / misses per detection.

Fails on any miss and on any finding over the clean background.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from jira_etl.defs.definitions import connector_assets
from jira_etl.detections import catalogue
from jira_etl.detections.evaluation import Planted, failures, score, table
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.simulator.data import SiteData
from jira_etl.simulator import scenarios
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
MONTH_START = dt.date(2026, 3, 2)
MONTH_DAYS = 30
START, END = scenarios.evaluation_range(MONTH_START, MONTH_DAYS)


def plant_new_country(site: SiteData, last_day: dt.date, avoid: set[dt.date]) -> list[Planted]:
    """The optional rule: an actor working from a GB address for 20 days, then once
    from a CN address (iptocc places both offline). Not in scenarios.py."""
    traveller = site.add_user("Tara Traveller", ip="81.2.69.160")
    project = {"id": "10001", "name": "Website", "typeName": "PROJECT"}

    def at(d):
        return dt.datetime.combine(d, dt.time(11, 0), UTC)

    days = [last_day - dt.timedelta(days=i) for i in range(21, 1, -1)]
    history = [site.add_record(at(d), actor=traveller, summary="Project updated", category="projects",
                               objectItem=project)["id"] for d in days if d not in avoid]
    assert last_day not in avoid
    final = site.add_record(at(last_day), actor=traveller, summary="Project updated", category="projects",
                            objectItem=project, remoteAddress="175.16.199.1")["id"]
    return [Planted("new_country", frozenset({"new_country_or_network_for_actor", "new_ip_for_actor"}),
                    frozenset({final})),
            Planted("new_country/history", frozenset(), frozenset(history))]


def from_scenarios(planted) -> list[Planted]:
    """scenarios.Planted -> scorer truth: the primary detection on its records, each
    collateral (`also`) detection on its records, setup records as touch-only."""
    out = []
    for p in planted:
        if p.negative:
            continue
        out.append(Planted(p.detection_id, frozenset({p.detection_id}), frozenset(p.record_ids),
                           frozenset({p.day})))
        for det, ids in sorted(p.also.items()):
            out.append(Planted(f"{p.detection_id}+{det}", frozenset({det}), frozenset(ids)))
        if p.setup_ids:
            out.append(Planted(f"{p.detection_id}/setup", frozenset(), frozenset(p.setup_ids)))
    return out


def run_pipeline(site, tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance, JiraSimulator(site, faults=Faults()) as sim:
        result = dg.materialize(
            connector_assets("acme"),
            resources={"jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token,
                                                 backoff_base_s=0.01, backoff_max_s=0.05),
                       "storage": StorageResource(data_dir=str(tmp_path / "data"))},
            instance=instance,
            tags={"dagster/asset_partition_range_start": START.isoformat(),
                  "dagster/asset_partition_range_end": END.isoformat()},
            raise_on_error=False,
        )
    assert result.success
    with duckdb.connect(str(tmp_path / "data" / "jira_audit.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM findings WHERE connector = 'acme'")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


@pytest.fixture
def planted_month(monkeypatch):
    monkeypatch.setenv("JIRA_ETL_START_DATE", "2026-01-01")
    site = SiteData(seed=7, start=START, clock=lambda: dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), UTC))
    planted = scenarios.plant_month(site, MONTH_START, MONTH_DAYS)
    truth = from_scenarios(planted)
    gap_days = {p.day for p in planted if p.detection_id == "audit_gap"}
    last = next(END - dt.timedelta(days=k) for k in range(10) if END - dt.timedelta(days=k) not in gap_days)
    truth += plant_new_country(site, last, avoid=gap_days)
    return site, truth


def test_every_planted_scenario_found_and_nothing_on_the_clean_background(planted_month, tmp_path, capsys):
    site, scenarios = planted_month
    found = run_pipeline(site, tmp_path)
    scores = score(found, scenarios, [d.id for d in catalogue.load_catalogue()])
    with capsys.disabled():
        print("\n" + table(scores))
    assert failures(scores) == []
    assert all(s.tp >= 1 for s in scores.values()), "every detection has a planted scenario"
