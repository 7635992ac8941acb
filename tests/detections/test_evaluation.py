"""End-to-end evaluation: a simulated site over real HTTP, the simulator's planted month
(jira_etl/simulator/scenarios.plant_month: every scenario with ground truth, over the
clean realistic background, with 30 days of history before it) plus the optional
new-country scenario, the full pipeline (extract -> load -> findings) in one
dg.materialize range run, then TP / FP / misses per detection.

The site, the truth and the run are jira_etl/detections/evaluation_run.py's (also
`python -m jira_etl.detections.evaluation_run --only planted`).

Fails on any miss and on any finding over the clean background.
"""

from __future__ import annotations

from jira_etl.detections import catalogue
from jira_etl.detections.evaluation import failures, score, table
from jira_etl.detections.evaluation_run import planted_month, run_pipeline


def test_every_planted_scenario_found_and_nothing_on_the_clean_background(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("JIRA_ETL_START_DATE", "2026-01-01")
    site, truth, first, last = planted_month()
    found = run_pipeline(site, first, last, tmp_path)
    scores = score(found, truth, [d.id for d in catalogue.load_catalogue()])
    with capsys.disabled():
        print("\n" + table(scores))
    assert failures(scores) == []
    assert all(s.tp >= 1 for s in scores.values()), "every detection has a planted scenario"
