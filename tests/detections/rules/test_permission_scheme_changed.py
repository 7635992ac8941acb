"""permission_scheme_changed: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import DAY, at, days_before, project_item

RULE = "permission_scheme_changed"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_updated_deleted_and_added_to_project(site):
    a = site.add(at(DAY, 10), "Permission scheme updated", "permissions", obj={"name": "Default Permission Scheme", "typeName": "SCHEME"})
    b = site.add(at(DAY, 11), "Permission scheme deleted", "permissions", obj={"name": "Old", "typeName": "SCHEME"})
    c = site.add(at(DAY, 12), "Permission scheme added to project", "permissions",
                 obj={"name": "Restricted", "typeName": "SCHEME"}, assoc=[project_item("Payments")])
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[a], [b], [c]]
    assert "Payments" in found[2]["message"]


def test_near_miss_created_and_other_schemes(site):
    site.add(at(DAY, 13), "Permission scheme created", "permissions", obj={"name": "New", "typeName": "SCHEME"})
    site.add(at(DAY, 13), "Workflow scheme updated", "workflows", obj={"name": "WS", "typeName": "SCHEME"})
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6, summary="Workflow scheme updated", category="workflows")
    site.load()
    assert site.run(RULE) == []
