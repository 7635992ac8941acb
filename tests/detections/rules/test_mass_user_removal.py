"""mass_user_removal: fire / near-miss / clean, the actor's usual peak, learning, the
system actor's nightly directory sync (jira_etl/detections/rules/mass_user_removal.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ALICE, BOB, DAY, VICTIMS, at, days_before, project_item, user_item

RULE = "mass_user_removal"
MEMBERS = [f"acct-member-{i:03d}" for i in range(260)]


def ids(findings):
    return [f["record_ids"] for f in findings]


def nightly_sync(site, d, n_removed, n_added=90):
    """The directory sync: no author, 02:00-02:06 UTC, memberships removed and added."""
    t0 = at(d, 2, 0)
    removed = [site.remove_from_group(t0 + dt.timedelta(seconds=2 * i), MEMBERS[i], f"team-{i % 7}", actor=None,
                                      ip=None) for i in range(n_removed)]
    for i in range(n_added):
        site.add_to_group(t0 + dt.timedelta(seconds=2 * i + 1), MEMBERS[-1 - i], f"team-{i % 7}", actor=None,
                          ip=None)
    return removed


# --- fire ------------------------------------------------------------------------------


def test_fires_at_10_within_15_minutes(site):
    rids = [site.remove_from_group(at(DAY, 14, i), VICTIMS[i]) for i in range(10)]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [rids]
    assert found[0]["severity"] == "high" and "10 users" in found[0]["message"]


def test_message_samples_whole_names(site):
    """30 removals: the message names 10 of them whole and says there are more (the cut
    string it replaced ended in half a name or a bare comma)."""
    for i in range(30):
        site.remove_from_group(at(DAY, 14, i % 15, i), VICTIMS[i])
    site.load()
    [found] = site.run(RULE)
    sample = found["message"].split("UTC (", 1)[1].split(");", 1)[0]
    names = sample.split(", ")
    assert names[-1] == "..." and len(names) == 11 and all(n.startswith("acct-victim-") for n in names[:10])


def test_counts_deactivations_deletions_and_project_removals(site):
    rids = [site.remove_from_group(at(DAY, 14, i), VICTIMS[i]) for i in range(4)]
    rids += [site.add(at(DAY, 14, 4 + i), "User deleted", "user management", obj=user_item(VICTIMS[4 + i]))
             for i in range(3)]
    rids += [site.add(at(DAY, 14, 7 + i), "User updated", "user management", obj=user_item(VICTIMS[7 + i]),
                      changed=[{"fieldName": "Active", "changedFrom": "true", "changedTo": "false"}]) for i in range(2)]
    rids.append(site.add(at(DAY, 14, 9), "User removed from project", "projects", obj=user_item(VICTIMS[9]),
                         assoc=[project_item()]))
    site.load()
    assert ids(site.run(RULE)) == [rids]


def test_two_bursts_two_findings(site):
    first = [site.remove_from_group(at(DAY, 9, i), VICTIMS[i]) for i in range(12)]
    second = [site.remove_from_group(at(DAY, 15, i), VICTIMS[i]) for i in range(10)]
    site.load()
    assert ids(site.run(RULE)) == [first, second]


def test_a_past_bulk_clean_up_does_not_raise_the_usual_peak(site):
    # 20 active days, one of them with a 50-user clean-up: the median and q95 of the
    # daily peaks stay 0, so 12 removals in 15 minutes still fire.
    site.routine(days_before(DAY, 20), per_day=3)
    for i in range(50):
        site.remove_from_group(at(DAY - dt.timedelta(days=9), 10) + dt.timedelta(seconds=10 * i), MEMBERS[i])
    rids = [site.remove_from_group(at(DAY, 14, i), VICTIMS[i]) for i in range(12)]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [rids] and "usual peak 0" in found[0]["message"]


# --- the nightly directory sync of the system (FP class d) -----------------------------


def test_the_nightly_directory_sync_never_fires(site):
    nights = days_before(DAY, 10) + [DAY]
    first = None
    for k, d in enumerate(nights):
        removed = nightly_sync(site, d, n_removed=100 + (k * 37) % 30)     # 100..129 removals a night
        first = first or removed
    site.load()
    # night 1: nothing known of the system actor, which is judged from its own history only;
    # nights 2..6 (learning: 1.25 x the largest night seen) and 7..11 (its own usual peak)
    for d in nights:
        assert site.run(RULE, day=d) == [], d
    # with system_min_days 0 the first night is held to the absolute threshold
    found = site.run(RULE, day=nights[0], system_min_days=0)
    assert ids(found) == [first] and found[0]["actor_account_id"] == "(system)"
    assert "learning" in found[0]["message"]
    # ... and a person who removes 100 memberships on its first day is (no history needed)
    people = [site.remove_from_group(at(DAY, 15) + dt.timedelta(seconds=5 * i), MEMBERS[i], actor=ALICE)
              for i in range(100)]
    site.load()
    assert [set(f["record_ids"]) for f in site.run(RULE)] == [set(people)]


def test_the_system_actor_is_caught_far_above_its_nightly_sync(site):
    nights = days_before(DAY, 10)
    for k, d in enumerate(nights):
        nightly_sync(site, d, n_removed=100 + (k * 37) % 30)
    # the system actor removes 240 memberships at 14:00: twice its night
    rids = [site.remove_from_group(at(DAY, 14) + dt.timedelta(seconds=3 * i), MEMBERS[i], "jira-users", actor=None, ip=None)
            for i in range(240)]
    site.load()
    found = site.run(RULE)
    assert [set(f["record_ids"]) for f in found] == [set(rids)] and found[0]["actor_account_id"] == "(system)"
    assert "usual peak" in found[0]["message"]


# --- near misses -----------------------------------------------------------------------


def test_near_misses(site):
    for i in range(9):                                            # 9 removals: one short
        site.remove_from_group(at(DAY, 9, i), VICTIMS[i])
    for i in range(10):                                           # 10, but spread over 18 minutes
        site.remove_from_group(at(DAY, 12, 2 * i), VICTIMS[i])
    for i in range(10):                                           # 10 by two different actors
        site.remove_from_group(at(DAY, 16, i), VICTIMS[i], actor=ALICE if i % 2 else BOB)
    for i in range(15):                                           # additions are not removals
        site.add_to_group(at(DAY, 18, i), VICTIMS[i], "developers")
    site.load()
    assert site.run(RULE) == []
    assert len(site.run(RULE, threshold=9)) == 1


def test_an_admin_whose_routine_is_bulk_removal(site):
    # An offboarding admin who removes ~15 memberships every morning: routine after learning.
    days = days_before(DAY, 10)
    for d in days:
        for i in range(15):
            site.remove_from_group(at(d, 8) + dt.timedelta(seconds=30 * i), MEMBERS[i])
    for i in range(16):
        site.remove_from_group(at(DAY, 8) + dt.timedelta(seconds=30 * i), MEMBERS[i])
    site.load()
    assert site.run(RULE) == []
    # ... but 40 in a quarter of an hour is not its routine
    burst = [site.remove_from_group(at(DAY, 15) + dt.timedelta(seconds=20 * i), MEMBERS[100 + i]) for i in range(40)]
    site.load()
    assert [set(f["record_ids"]) for f in site.run(RULE)] == [set(burst)]
