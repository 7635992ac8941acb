"""Section A: every rule together on a clean day. Each single-event rule's own fire /
near-miss / clean cases are in tests/detections/rules/test_<rule>.py."""

from __future__ import annotations

from det_helpers import ALICE, BOB, DAY, at, days_before


def test_clean_day_is_silent_for_every_rule(site):
    site.routine(days_before(DAY, 20) + [DAY], actor=ALICE, per_day=8)
    site.routine(days_before(DAY, 20) + [DAY], actor=BOB, per_day=5, ip="10.20.0.30",
                 summary="Workflow updated", category="workflows")
    site.add_to_group(at(DAY, 10), "acct-dev", "developers")
    site.add(at(DAY, 11), "Project version released", "projects", obj={"name": "1.2.0", "typeName": "VERSION"})
    site.add(at(DAY, 12), "Workflow deleted", "workflows", obj={"name": "Bug Workflow", "typeName": "WORKFLOW"})
    site.load()
    assert site.run_all() == []
