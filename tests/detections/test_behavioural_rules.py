"""Section B: behavioural rules fire on their scenario and stay silent on near-misses."""

from __future__ import annotations

import datetime as dt

from det_helpers import (ADMIN_IP, ALICE, BOB, DAY, MALLORY, VICTIMS, at, days_before, group_item, project_item,
                         user_item)


def ids(findings):
    return [f["record_ids"] for f in findings]


# --- privilege_escalation_chain ------------------------------------------------------


def test_privilege_escalation_chain_created_then_admin(site):
    c = site.create_user(at(DAY, 10, 0), "acct-backdoor", actor=MALLORY)
    a = site.add_to_group(at(DAY, 10, 59), "acct-backdoor", "site-admins", actor=MALLORY)
    site.load()
    found = site.run("privilege_escalation_chain")
    assert ids(found) == [[c, a]]
    assert found[0]["severity"] == "critical" and "site-admins" in found[0]["message"]


def test_privilege_escalation_chain_reactivated_then_admin(site):
    r = site.add(at(DAY, 10, 0), "User updated", "user management", obj=user_item("acct-old"),
                 changed=[{"fieldName": "Active", "changedFrom": "false", "changedTo": "true"}])
    a = site.add_to_group(at(DAY, 10, 30), "acct-old", "jira-administrators")
    site.load()
    assert ids(site.run("privilege_escalation_chain")) == [[r, a]]


def test_privilege_escalation_chain_across_midnight_belongs_to_the_later_day(site):
    c = site.create_user(at(DAY - dt.timedelta(days=1), 23, 40), "acct-night")
    a = site.add_to_group(at(DAY, 0, 20), "acct-night", "site-admins")
    site.load()
    assert site.run("privilege_escalation_chain", DAY - dt.timedelta(days=1)) == []
    assert ids(site.run("privilege_escalation_chain")) == [[c, a]]


def test_privilege_escalation_chain_near_misses(site):
    site.create_user(at(DAY, 8, 0), "acct-slow")
    site.add_to_group(at(DAY, 9, 1), "acct-slow", "site-admins")           # 61 minutes later
    site.create_user(at(DAY, 10, 0), "acct-dev")
    site.add_to_group(at(DAY, 10, 5), "acct-dev", "developers")            # not an admin group
    site.create_user(at(DAY, 11, 0), "acct-one")
    site.add_to_group(at(DAY, 11, 5), "acct-other", "site-admins")         # someone else
    site.add(at(DAY, 12, 0), "User updated", "user management", obj=user_item("acct-upd"),
             changed=[{"fieldName": "Full name", "changedTo": "X"}])
    site.add_to_group(at(DAY, 12, 5), "acct-upd", "site-admins")            # an update, not a re-activation
    site.load()
    assert site.run("privilege_escalation_chain") == []


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


# --- mass_deletion ---------------------------------------------------------------------


DELETIONS = [("Project deleted", "projects", {"name": "Old", "typeName": "PROJECT"}),
             ("Workflow deleted", "workflows", {"name": "Bug Workflow", "typeName": "WORKFLOW"}),
             ("Permission scheme deleted", "permissions", {"name": "PS", "typeName": "SCHEME"}),
             ("Field Configuration scheme deleted", "fields", {"name": "FS", "typeName": "SCHEME"}),
             ("Custom field deleted", "fields", {"name": "Team", "typeName": "CUSTOM_FIELD"})]


def test_mass_deletion_fires_at_5_within_an_hour(site):
    rids = [site.add(at(DAY, 11, 12 * i), s, c, obj=o) for i, (s, c, o) in enumerate(DELETIONS)]
    site.load()
    found = site.run("mass_deletion")
    assert ids(found) == [rids] and found[0]["severity"] == "high"


def test_mass_deletion_near_misses(site):
    for i, (s, c, o) in enumerate(DELETIONS[:4]):                 # 4 deletions
        site.add(at(DAY, 9, i), s, c, obj=o)
    for i, (s, c, o) in enumerate(DELETIONS):                     # 5 over 64 minutes
        site.add(at(DAY, 13, 0) + dt.timedelta(minutes=16 * i), s, c, obj=o)
    for i in range(5):                                            # 5 user deletions are not config
        site.add(at(DAY, 18, i), "User deleted", "user management", obj=user_item(VICTIMS[i]))
    site.load()
    assert site.run("mass_deletion") == []


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


# --- dormant_actor_returns -------------------------------------------------------------


def test_dormant_actor_returns_after_31_days(site):
    site.routine(days_before(DAY, 40), per_day=1)                        # Alice keeps the site alive
    site.add(at(DAY - dt.timedelta(days=31), 10), "Project updated", actor="acct-farah")
    rid = site.add_to_group(at(DAY, 10), "acct-x", "developers", actor="acct-farah")
    site.load()
    found = site.run("dormant_actor_returns")
    assert ids(found) == [[rid]] and "31 days" in found[0]["message"]


def test_dormant_actor_never_seen_with_full_coverage(site):
    site.routine(days_before(DAY, 35), per_day=1)
    rid = site.add(at(DAY, 10), "Permission scheme updated", "permissions", actor="acct-farah")
    site.load()
    assert ids(site.run("dormant_actor_returns")) == [[rid]]


def test_dormant_actor_near_misses(site):
    site.routine(days_before(DAY, 40), per_day=1)
    site.add(at(DAY - dt.timedelta(days=29), 10), "Project updated", actor="acct-farah")   # 29 days
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.create_user(at(DAY - dt.timedelta(days=3), 10), "acct-joiner")                    # new account
    site.add(at(DAY, 11), "Project updated", actor="acct-joiner")
    site.load()
    assert site.run("dormant_actor_returns") == []


def test_dormant_unknown_actor_needs_30_collected_days(site):
    site.routine(days_before(DAY, 20), per_day=1)
    site.add(at(DAY, 10), "Project updated", actor="acct-farah")
    site.load()
    assert site.run("dormant_actor_returns") == []


# --- security_scheme_removed -----------------------------------------------------------


def test_security_scheme_removed(site):
    a = site.add(at(DAY, 10), "Issue Security scheme deleted", "permissions", obj={"name": "HR Restricted", "typeName": "SCHEME"})
    b = site.add(at(DAY, 11), "Issue Security scheme removed from project", "permissions",
                 obj={"name": "Confidential", "typeName": "SCHEME"}, assoc=[project_item("Payments")])
    c = site.add(at(DAY, 12), "Permission scheme deleted", "permissions", obj={"name": "PS", "typeName": "SCHEME"})
    site.add(at(DAY, 13), "Issue Security scheme added to project", "permissions", obj={"name": "C", "typeName": "SCHEME"})
    site.add(at(DAY, 14), "Notification scheme deleted", "notifications", obj={"name": "N", "typeName": "SCHEME"})
    site.load()
    found = site.run("security_scheme_removed")
    assert ids(found) == [[a], [b], [c]] and found[0]["severity"] == "high"


# --- audit_gap -------------------------------------------------------------------------


def busy(site, days, per_day):
    for d in days:
        for i in range(per_day):
            site.add(at(d, 8 + i % 10, i % 60), "Project updated")


def test_audit_gap_on_a_collected_empty_day(site):
    busy(site, days_before(DAY, 14), 60)
    site.load(extra_days=[DAY])
    found = site.run("audit_gap")
    assert len(found) == 1 and found[0]["record_ids"] == [] and found[0]["actor_account_id"] is None
    assert "averaged 60" in found[0]["message"]


def test_audit_gap_near_misses(site):
    busy(site, days_before(DAY, 14), 50)                          # averaged exactly 50: not more
    site.load(extra_days=[DAY])
    assert site.run("audit_gap") == []
    assert site.run("audit_gap", DAY + dt.timedelta(days=1)) == []  # never collected: not judged
    busy(site, days_before(DAY, 14), 1)                           # now 51 a day
    site.add(at(DAY, 9), "Project updated")                       # but the day holds a record
    site.load()
    assert site.run("audit_gap") == []


def test_audit_gap_day_in_progress_is_not_judged(site):
    today = dt.datetime.now(dt.timezone.utc).date()
    busy(site, days_before(today, 14), 60)
    site.load(extra_days=[today])
    assert site.run("audit_gap", today) == []


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
