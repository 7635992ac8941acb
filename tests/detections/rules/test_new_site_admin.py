"""new_site_admin: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import ALICE, DAY, at, days_before

RULE = "new_site_admin"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_admin_groups_any_case(site):
    a = site.add_to_group(at(DAY, 9), "acct-x", "site-admins")
    b = site.add_to_group(at(DAY, 9, 5), "acct-y", "Jira-Administrators")
    site.load()
    found = site.run(RULE)
    assert sorted(ids(found)) == [[a], [b]]
    assert found[0]["severity"] == "high"
    assert found[0]["actor_account_id"] == ALICE


def test_near_miss_groups_that_only_look_like_admin_groups(site):
    site.add_to_group(at(DAY, 9, 10), "acct-z", "site-admins-readonly")
    site.add_to_group(at(DAY, 9, 15), "acct-z", "developers")
    site.add(at(DAY, 9, 20), "User removed from group", "group management",
             obj={"name": "site-admins", "typeName": "GROUP"})
    site.load()
    assert site.run(RULE) == []
    # the list is a parameter
    assert site.run(RULE, admin_groups=["developers"]) != []


def test_clean_day_of_ordinary_group_work_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=5)
    for i in range(12):
        site.add_to_group(at(DAY, 10, i), f"acct-dev-{i}", "jira-software-users")
    site.load()
    assert site.run(RULE) == []
