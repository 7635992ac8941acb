"""workflow_scheme_copied: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import DAY, at, days_before

RULE = "workflow_scheme_copied"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_a_copy(site):
    rid = site.add(at(DAY, 10), "Workflow scheme copied", "workflows", obj={"name": "Software Workflow Scheme", "typeName": "SCHEME"})
    site.load()
    assert ids(site.run(RULE)) == [[rid]]


def test_near_miss_created(site):
    site.add(at(DAY, 10), "Workflow scheme created", "workflows", obj={"name": "Copy", "typeName": "SCHEME"})
    site.add(at(DAY, 10, 5), "Workflow copied", "workflows", obj={"name": "Bug Workflow", "typeName": "WORKFLOW"})
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6, summary="Workflow scheme updated", category="workflows")
    site.load()
    assert site.run(RULE) == []
