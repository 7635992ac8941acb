"""Section B: behavioural rules fire on their scenario and stay silent on near-misses (the
non-behavioural rules of section B have their own modules in tests/detections/rules/)."""

from __future__ import annotations

import datetime as dt

from det_helpers import (ADMIN_IP, ALICE, BOB, DAY, MALLORY, VICTIMS, at, days_before, group_item, project_item,
                         user_item)


def ids(findings):
    return [f["record_ids"] for f in findings]


# --- mass_user_removal -----------------------------------------------------------------


def test_mass_user_removal_fires_at_10_within_15_minutes(site):
    rids = [site.remove_from_group(at(DAY, 14, i), VICTIMS[i]) for i in range(10)]
    site.load()
    found = site.run("mass_user_removal")
    assert ids(found) == [rids]
    assert found[0]["severity"] == "high" and "10 users" in found[0]["message"]


def test_mass_user_removal_counts_deactivations_deletions_and_project_removals(site):
    rids = [site.remove_from_group(at(DAY, 14, i), VICTIMS[i]) for i in range(4)]
    rids += [site.add(at(DAY, 14, 4 + i), "User deleted", "user management", obj=user_item(VICTIMS[4 + i]))
             for i in range(3)]
    rids += [site.add(at(DAY, 14, 7 + i), "User updated", "user management", obj=user_item(VICTIMS[7 + i]),
                      changed=[{"fieldName": "Active", "changedFrom": "true", "changedTo": "false"}]) for i in range(2)]
    rids.append(site.add(at(DAY, 14, 9), "User removed from project", "projects", obj=user_item(VICTIMS[9]),
                         assoc=[project_item()]))
    site.load()
    assert ids(site.run("mass_user_removal")) == [rids]


def test_mass_user_removal_near_misses(site):
    for i in range(9):                                            # 9 removals: one short
        site.remove_from_group(at(DAY, 9, i), VICTIMS[i])
    for i in range(10):                                           # 10, but spread over 18 minutes
        site.remove_from_group(at(DAY, 12, 2 * i), VICTIMS[i])
    for i in range(10):                                           # 10 by two different actors
        site.remove_from_group(at(DAY, 16, i), VICTIMS[i], actor=ALICE if i % 2 else BOB)
    site.load()
    assert site.run("mass_user_removal") == []
    assert len(site.run("mass_user_removal", threshold=9)) == 1


def test_mass_user_removal_two_bursts_two_findings(site):
    first = [site.remove_from_group(at(DAY, 9, i), VICTIMS[i]) for i in range(12)]
    second = [site.remove_from_group(at(DAY, 15, i), VICTIMS[i]) for i in range(10)]
    site.load()
    assert ids(site.run("mass_user_removal")) == [first, second]


# --- config_change_burst ---------------------------------------------------------------


def test_config_change_burst_above_20_for_a_quiet_actor(site):
    site.routine(days_before(DAY, 14), per_day=4)
    rids = [site.add(at(DAY, 15, 2 * i), "Workflow updated", "workflows") for i in range(21)]
    site.load()
    found = site.run("config_change_burst")
    assert ids(found) == [rids] and "21" in found[0]["message"]


def test_config_change_burst_near_misses(site):
    site.routine(days_before(DAY, 14), per_day=4)
    for i in range(20):                                           # exactly 20: not above
        site.add(at(DAY, 9, 2 * i), "Workflow updated", "workflows")
    for i in range(30):                                           # 30 over 2.5 hours
        site.add(at(DAY, 13, 0) + dt.timedelta(minutes=5 * i), "Project updated", "projects", actor=BOB)
    for i in range(25):                                           # user management is not configuration
        site.add(at(DAY, 18, i), "User updated", "user management", obj=user_item(VICTIMS[i]))
    site.load()
    assert site.run("config_change_burst") == []


def test_config_change_burst_respects_a_busy_actors_baseline(site):
    # A bot that does ~30 changes every hour: 35 in an hour is normal for it, 120 is not.
    for d in days_before(DAY, 14):
        for h in range(24):
            for i in range(28 + (h % 5)):
                site.add(at(d, h, i), "Project updated", actor="acct-bot", ip="10.99.0.5")
    for i in range(35):
        site.add(at(DAY, 3, i), "Project updated", actor="acct-bot", ip="10.99.0.5")
    site.load()
    assert site.run("config_change_burst") == []
    for i in range(120):
        site.add(at(DAY, 10, i // 2, 30 * (i % 2)), "Project updated", actor="acct-bot", ip="10.99.0.5")
    site.load()
    assert len(site.run("config_change_burst")) == 1


# --- new_ip_for_actor ------------------------------------------------------------------


def test_new_ip_for_actor(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.routine([DAY], per_day=2)
    new = [site.add(at(DAY, 13), "Project updated", ip="192.0.2.200"),
           site.add(at(DAY, 14), "Workflow updated", "workflows", ip="192.0.2.200")]
    site.load()
    found = site.run("new_ip_for_actor")
    assert ids(found) == [new]
    assert found[0]["remote_address"] == "192.0.2.200" and ADMIN_IP in found[0]["message"]


def test_new_ip_for_actor_near_misses(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Project updated", ip="10.1.1.1")   # used 29 days ago
    site.add(at(DAY, 10), "Project updated", ip="10.1.1.1")
    site.add(at(DAY, 11), "Project updated", actor="acct-newcomer", ip="192.0.2.1")  # no history: skipped
    site.add(at(DAY, 12), "Project updated", actor=None, ip="192.0.2.2")             # system event
    site.load()
    assert site.run("new_ip_for_actor") == []


def test_new_ip_for_actor_after_31_days(site):
    site.routine(days_before(DAY, 10), per_day=2)
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", ip="10.1.1.1")
    rid = site.add(at(DAY, 10), "Project updated", ip="10.1.1.1")
    site.load()
    assert ids(site.run("new_ip_for_actor")) == [[rid]]


# --- new_country_or_network_for_actor --------------------------------------------------


def test_new_country_or_network_for_actor_uses_ip_info(site):
    site.routine(days_before(DAY, 10), per_day=2, ip="81.2.69.160")
    rid = site.add(at(DAY, 10), "Project updated", ip="175.16.199.1")
    site.add(at(DAY, 11), "Project updated", ip="81.2.69.161")
    site.load()
    assert site.run("new_country_or_network_for_actor") == []          # nothing located: silent
    now = dt.datetime.now(dt.timezone.utc)
    with site.warehouse.writer() as con:
        con.executemany("INSERT INTO ip_info VALUES (?, 'public', ?, ?, ?)",
                        [["81.2.69.160", "GB", None, now], ["81.2.69.161", "GB", None, now],
                         ["175.16.199.1", "CN", None, now]])
    found = site.run("new_country_or_network_for_actor")
    assert ids(found) == [[rid]] and "CN" in found[0]["message"]


# --- off_hours_admin_activity ----------------------------------------------------------


def test_off_hours_with_own_baseline(site):
    site.routine(days_before(DAY, 20), per_day=4, hours=(9, 17))        # 80 events at 9, 11, 13, 15 h
    site.add_to_group(at(DAY, 11, 30), "acct-dev", "developers")         # usual hour
    night = site.add_to_group(at(DAY, 3, 10), "acct-dev", "qa-team")     # 03:10, never seen
    site.add(at(DAY, 4), "Project updated")                              # off hours but not admin category
    site.load()
    found = site.run("off_hours_admin_activity")
    assert ids(found) == [[night]] and "own last 30 days" in found[0]["message"]


def test_off_hours_without_history_uses_site_hours(site):
    site.routine(days_before(DAY, 5), per_day=4, hours=(9, 17))         # 20 events: too few for a baseline
    site.add_to_group(at(DAY, 19, 59), "acct-dev", "developers")         # inside 07:00-20:00
    site.add_to_group(at(DAY, 7, 0), "acct-dev", "developers")
    late = site.add_to_group(at(DAY, 20, 0), "acct-dev", "qa-team")
    site.load()
    assert ids(site.run("off_hours_admin_activity")) == [[late]]
    # the site's timezone moves the working day: 20:00 UTC is 15:00 in New York
    assert site.run("off_hours_admin_activity", site_timezone="America/New_York") != []  # 07:00 UTC = 02:00 NY
    assert [f["record_ids"] for f in site.run("off_hours_admin_activity", site_timezone="America/New_York")] != [[late]]


def test_off_hours_near_miss_rare_but_not_under_2_percent(site):
    site.routine(days_before(DAY, 20), per_day=4, hours=(9, 17))        # 80 events
    site.add(at(DAY - dt.timedelta(days=3), 6, 30), "Project updated")  # 6 o'clock: 2 of 82 events = 2.4 %
    site.add(at(DAY - dt.timedelta(days=2), 6, 40), "Project updated")
    site.add_to_group(at(DAY, 6, 50), "acct-dev", "developers")
    site.load()
    assert site.run("off_hours_admin_activity") == []


# --- rare_action_for_actor -------------------------------------------------------------


def test_rare_action_for_actor(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add_to_group(at(DAY - dt.timedelta(days=3), 10), "acct-dev", "developers")
    a = site.add_to_group(at(DAY, 10), "acct-x", "site-admins")          # admin group: new for Alice
    b = site.add(at(DAY, 11), "Issue Security scheme deleted", "permissions", obj={"name": "HR", "typeName": "SCHEME"})
    site.load()
    found = site.run("rare_action_for_actor")
    assert sorted(ids(found)) == [[a], [b]]


def test_rare_action_for_actor_near_misses(site):
    site.routine(days_before(DAY, 20), per_day=2)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Permission scheme updated", "permissions")
    site.add(at(DAY, 10), "Permission scheme updated", "permissions")             # done 29 days ago
    site.add_to_group(at(DAY, 11), "acct-dev", "developers")                       # not sensitive
    site.add(at(DAY, 12), "Global permission added", "permissions", actor="acct-newcomer")  # no history
    site.load()
    assert site.run("rare_action_for_actor") == []


def test_all_rules_silent_on_quiet_month(site):
    for actor, ip, hours in ((ALICE, ADMIN_IP, (8, 17)), (BOB, "10.20.0.30", (9, 18)), (MALLORY, "198.51.100.7", (7, 16))):
        site.routine(days_before(DAY, 35) + [DAY], actor=actor, ip=ip, per_day=6, hours=hours)
        site.add_to_group(at(DAY - dt.timedelta(days=5), hours[0] + 1), "acct-dev", "developers", actor=actor, ip=ip)
        site.add_to_group(at(DAY, hours[0] + 1), "acct-dev2", "qa-team", actor=actor, ip=ip)
    site.load()
    assert site.run_all() == []
    assert group_item  # shared import


def test_config_change_burst_across_midnight_belongs_to_the_day_it_began(site):
    """A burst going on at midnight is the previous day's finding, not the new day's,
    however the day's look-back is cut; one that begins just after midnight is the new
    day's."""
    site.routine(days_before(DAY, 14), per_day=4)
    midnight = at(DAY, 0, 0)
    # 23:00 .. 00:40, one change every 2 minutes: the 21st (23:40) is the first over 20.
    overnight = [site.add(midnight + dt.timedelta(minutes=2 * i - 60), "Workflow updated", "workflows")
                 for i in range(51)]
    # BOB starts at 00:05 after a quiet evening.
    bob = [site.add(midnight + dt.timedelta(minutes=5 + i), "Project updated", "projects", actor=BOB)
           for i in range(25)]
    site.load()
    found = site.run("config_change_burst")
    assert [f["actor_account_id"] for f in found] == [BOB]
    assert ids(found) == [bob]
    before = site.run("config_change_burst", day=DAY - dt.timedelta(days=1))
    assert len(before) == 1 and before[0]["actor_account_id"] == ALICE
    assert set(before[0]["record_ids"]) <= set(overnight)
