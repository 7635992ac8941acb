"""security_scheme_removed: fire / near-miss / clean (cases moved from test_behavioural_rules.py)."""

from __future__ import annotations

from det_helpers import DAY, at, days_before, project_item

RULE = "security_scheme_removed"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_security_scheme_removed(site):
    a = site.add(at(DAY, 10), "Issue Security scheme deleted", "permissions", obj={"name": "HR Restricted", "typeName": "SCHEME"})
    b = site.add(at(DAY, 11), "Issue Security scheme removed from project", "permissions",
                 obj={"name": "Confidential", "typeName": "SCHEME"}, assoc=[project_item("Payments")])
    c = site.add(at(DAY, 12), "Permission scheme deleted", "permissions", obj={"name": "PS", "typeName": "SCHEME"})
    site.add(at(DAY, 13), "Issue Security scheme added to project", "permissions", obj={"name": "C", "typeName": "SCHEME"})
    site.add(at(DAY, 14), "Notification scheme deleted", "notifications", obj={"name": "N", "typeName": "SCHEME"})
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[a], [b], [c]] and found[0]["severity"] == "high"


def test_near_misses_additions_and_other_schemes(site):
    site.add(at(DAY, 13), "Issue Security scheme added to project", "permissions", obj={"name": "C", "typeName": "SCHEME"})
    site.add(at(DAY, 14), "Notification scheme deleted", "notifications", obj={"name": "N", "typeName": "SCHEME"})
    site.add(at(DAY, 15), "Permission scheme updated", "permissions", obj={"name": "PS", "typeName": "SCHEME"})
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6, summary="Workflow scheme updated", category="workflows")
    site.load()
    assert site.run(RULE) == []
