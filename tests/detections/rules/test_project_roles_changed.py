"""project_roles_changed: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import DAY, at, days_before

RULE = "project_roles_changed"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_project_roles_changed(site):
    rid = site.add(at(DAY, 10), "Project roles changed", "projects",
                   obj={"name": "Administrators", "typeName": "PROJECT_ROLE", "parentName": "Website"})
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]] and found[0]["severity"] == "medium"


def test_near_miss_role_deleted(site):
    site.add(at(DAY, 11), "Project role deleted", "projects", obj={"name": "Old role", "typeName": "PROJECT_ROLE"})
    site.add(at(DAY, 12), "Project role created", "projects", obj={"name": "New role", "typeName": "PROJECT_ROLE"})
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6)
    site.load()
    assert site.run(RULE) == []
