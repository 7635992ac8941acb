"""dormant_actor_returns: fire / near-miss / clean (cases moved from test_behavioural_rules.py)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ALICE, BOB, DAY, at, days_before

RULE = "dormant_actor_returns"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_dormant_actor_returns_after_31_days(site):
    site.routine(days_before(DAY, 40), per_day=1)                        # Alice keeps the site alive
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", actor="acct-farah")
    rid = site.add_to_group(at(DAY, 10), "acct-x", "developers", actor="acct-farah")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]] and "31 days" in found[0]["message"]


def test_dormant_actor_never_seen_with_full_coverage(site):
    site.routine(days_before(DAY, 35), per_day=1)
    rid = site.add(at(DAY, 10), "Permission scheme updated", "permissions", actor="acct-farah")
    site.load()
    assert ids(site.run(RULE)) == [[rid]]


def test_dormant_actor_near_misses(site):
    site.routine(days_before(DAY, 40), per_day=1)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Project updated", actor="acct-farah")   # 29 days
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.create_user(at(DAY - dt.timedelta(days=3), 10), "acct-joiner")                    # new account
    site.add(at(DAY, 11), "Project updated", actor="acct-joiner")
    site.load()
    assert site.run(RULE) == []


def test_dormant_unknown_actor_needs_30_collected_days(site):
    site.routine(days_before(DAY, 20), per_day=1)
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.load()
    assert site.run(RULE) == []


def test_clean_month_of_regular_actors_is_silent(site):
    for actor, hours in ((ALICE, (8, 17)), (BOB, (9, 18))):
        site.routine(days_before(DAY, 40) + [DAY], actor=actor, per_day=2, hours=hours)
    site.load()
    assert site.run(RULE) == []


def test_message_lists_whole_actions_in_order(site):
    """Seven kinds of change by a returning actor: five named whole, sorted, then "..."
    (was an unordered list cut at 200 characters)."""
    site.routine(days_before(DAY, 40), per_day=1)
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", actor="acct-farah")
    actions = ["Workflow updated", "Screen updated", "Project updated", "Permission scheme updated",
               "Notification scheme updated", "Issue type updated", "Field updated"]
    for i, a in enumerate(actions):
        site.add(at(DAY, 10, i), a, "projects", actor="acct-farah")
    site.load()
    [found] = site.run(RULE)
    listed = found["message"].rsplit(" (", 1)[1].rstrip(")").split(", ")
    # sorted, whole, then "..." (as the site writes them: Data Center's spelling differs)
    assert len(listed) == 6 and listed[-1] == "..." and listed[:5] == sorted(set(listed[:5]))
