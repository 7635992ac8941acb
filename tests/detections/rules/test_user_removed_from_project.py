"""user_removed_from_project: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import DAY, at, days_before, project_item, user_item

RULE = "user_removed_from_project"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_and_names_the_project(site):
    p = site.add(at(DAY, 11), "User removed from project", "projects",
                 obj=user_item("acct-leaver"), assoc=[project_item("Payments")])
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[p]] and "Payments" in found[0]["message"]


def test_near_miss_group_removal_and_role_changes(site):
    site.remove_from_group(at(DAY, 10), "acct-leaver", "developers")
    site.add(at(DAY, 12), "Project roles changed", "projects", obj={"name": "Developers", "typeName": "PROJECT_ROLE"})
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6)
    site.load()
    assert site.run(RULE) == []
