"""user_removed_from_group: fire / near-miss / clean, and the directory sync (no author)."""

from __future__ import annotations

from det_helpers import BOB, DAY, at, days_before

RULE = "user_removed_from_group"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_an_admins_removal(site):
    g = site.remove_from_group(at(DAY, 10), "acct-leaver", "developers")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[g]] and found[0]["severity"] == "low"


def test_near_miss_adds_and_project_removals(site):
    site.add_to_group(at(DAY, 12), "acct-leaver", "qa-team")
    site.add(at(DAY, 11), "User removed from project", "projects", obj={"name": "acct-leaver", "typeName": "USER"})
    site.load()
    assert site.run(RULE) == []


def test_the_nightly_directory_sync_is_not_a_finding(site):
    """A sync with no author removing 100 members at 02:00 (the realistic background's
    habit, 8 findings a night before): skipped by default, reported with include_system;
    an admin's own removal the same night still fires."""
    sync = [site.remove_from_group(at(DAY, 2, i // 60, i % 60), f"acct-leaver-{i:03d}", "jira-users", actor=None, ip=None)
            for i in range(100)]
    own = site.remove_from_group(at(DAY, 2, 30), "acct-x", "developers", actor=BOB)
    site.load()
    assert ids(site.run(RULE)) == [[own]]
    with_system = site.run(RULE, include_system=True)
    assert sorted(len(f["record_ids"]) for f in with_system) == [1, 100]
    assert {r for f in with_system for r in f["record_ids"]} == set(sync) | {own}


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6)
    site.add_to_group(at(DAY, 10), "acct-dev", "developers")
    site.load()
    assert site.run(RULE) == []
