"""global_permission_added: fire / near-miss / clean."""

from __future__ import annotations

import datetime as dt

from det_helpers import ALICE, BOB, DAY, MALLORY, at, days_before, group_item

RULE = "global_permission_added"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_a_global_permission_added(site):
    rid = site.add(at(DAY, 10), "Global permission added", "permissions", actor=MALLORY,
                   obj={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"}, assoc=[group_item("contractors")])
    site.add(at(DAY, 11), "Global permission removed", "permissions", obj={"name": "Browse users"})
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]]
    assert found[0]["severity"] == "medium" and "Administer Jira" in found[0]["message"]
    assert "contractors" in found[0]["message"]
    assert site.run(RULE, DAY - dt.timedelta(days=1)) == []


def test_near_miss_records_just_outside_the_day(site):
    site.add(at(DAY - dt.timedelta(days=1), 23, 59, 59, 999), "Global permission added", "permissions")
    site.add(at(DAY + dt.timedelta(days=1), 0, 0), "Global permission added", "permissions")
    site.load()
    assert site.run(RULE) == []


def test_clean_day_of_permission_work_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], actor=ALICE, per_day=6)
    site.add(at(DAY, 10), "Global permission removed", "permissions", actor=BOB, obj={"name": "Browse users"})
    site.add(at(DAY, 11), "Permission scheme created", "permissions", obj={"name": "New", "typeName": "SCHEME"})
    site.load()
    assert site.run(RULE) == []
