"""config_change_burst: fire / near-miss / clean, the actor's usual daily peak, learning,
the system actor (jira_etl/detections/rules/config_change_burst.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ALICE, BOB, DAY, at, days_before, user_item

RULE = "config_change_burst"


def ids(findings):
    return [f["record_ids"] for f in findings]


def routine_burst(site, d, actor=ALICE, n=40, start=(9, 0), span_min=39):
    """The daily routine of the issue: n configuration changes between 09:00 and 09:39."""
    t0 = at(d, *start)
    return [site.add(t0 + dt.timedelta(seconds=span_min * 60 * i / (n - 1)), "Workflow updated", "workflows",
                     actor=actor) for i in range(n)]


# --- fire ------------------------------------------------------------------------------


def test_fires_above_20_for_a_quiet_actor_with_history(site):
    site.routine(days_before(DAY, 14), per_day=4)
    rids = [site.add(at(DAY, 15, 2 * i), "Workflow updated", "workflows") for i in range(21)]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [rids] and "21" in found[0]["message"]
    assert "usual daily peak over 14 active days" in found[0]["message"]


def test_a_one_off_burst_in_the_history_does_not_raise_the_limit(site):
    # 20 days of 4 changes, one of them with a 45-change clean-up: the median and q95 of
    # the daily peaks ignore it (a mean + k*sd of hourly counts would not).
    site.routine(days_before(DAY, 20), per_day=4)
    routine_burst(site, DAY - dt.timedelta(days=6), n=45)
    rids = [site.add(at(DAY, 14, i), "Workflow updated", "workflows") for i in range(30)]
    site.load()
    assert ids(site.run(RULE)) == [rids]


def test_a_busy_actors_usual_peak(site):
    # A bot that does ~30 changes every hour: 35 in an hour is normal for it, 120 is not.
    for d in days_before(DAY, 14):
        for h in range(24):
            for i in range(28 + (h % 5)):
                site.add(at(d, h, i), "Project updated", actor="acct-bot", ip="10.99.0.5")
    for i in range(35):
        site.add(at(DAY, 3, i), "Project updated", actor="acct-bot", ip="10.99.0.5")
    site.load()
    assert site.run(RULE) == []
    burst = [site.add(at(DAY, 10, i // 2, 30 * (i % 2)), "Project updated", actor="acct-bot", ip="10.99.0.5")
             for i in range(120)]
    site.load()
    found = site.run(RULE)
    assert len(found) == 1 and set(burst) <= set(found[0]["record_ids"])


def test_the_system_actor_has_its_own_baseline(site):
    # Authorless changes (automation without an account) are the actor "(system)".
    for d in days_before(DAY, 10):
        for i in range(3):
            site.add(at(d, 4, 10 * i), "Project updated", actor=None, ip=None)
    rids = [site.add(at(DAY, 4, i), "Workflow updated", "workflows", actor=None, ip=None) for i in range(25)]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [rids] and found[0]["actor_account_id"] == "(system)"


# --- the false positive: a routine repeated every day (FP class a) -------------


def test_a_daily_routine_of_40_changes_fires_on_no_day_after_the_first(site):
    days = days_before(DAY, 9) + [DAY]
    for d in days:
        today = routine_burst(site, d)
        site.routine([d], per_day=3, hours=(11, 17))
    site.load()
    # day 1: no history, learning limit 50 > 40; days 2..10: learning then own baseline
    for d in days:
        assert site.run(RULE, day=d) == [], d
    # ... and the same admin is still caught when it does far more than its routine
    attack = [site.add(at(DAY, 15, i // 2, 30 * (i % 2)), "Workflow updated", "workflows") for i in range(100)]
    site.load()
    found = site.run(RULE)
    assert len(found) == 1 and set(attack) <= set(found[0]["record_ids"])
    assert not set(today) & set(found[0]["record_ids"])


def test_a_weekly_maintenance_window_is_a_usual_peak(site):
    # Saturday nights: 60 changes by one admin, four weeks of it, quiet weekdays.
    saturdays = [DAY - dt.timedelta(days=7 * k + 3) for k in range(4, 0, -1)]   # DAY is a Tuesday
    site.routine(days_before(DAY, 30), per_day=3)
    for s in saturdays:
        routine_burst(site, s, n=60, start=(22, 0), span_min=50)
    next_saturday = saturdays[-1] + dt.timedelta(days=7)
    routine_burst(site, next_saturday, n=60, start=(22, 0), span_min=50)
    site.load()
    assert site.run(RULE, day=next_saturday) == []


# --- learning --------------------------------------------------------------------------


def test_learning_actor_gets_the_absolute_learning_threshold_only(site):
    site.routine(days_before(DAY, 3), actor=BOB, per_day=2)          # 3 active days: learning
    quiet = [site.add(at(DAY, 10, i), "Project updated", actor=BOB) for i in range(45)]
    site.load()
    assert site.run(RULE) == []                                      # 45 <= 50, whatever its 2 a day
    loud = [site.add(at(DAY, 16, i // 2, 30 * (i % 2)), "Project updated", actor=BOB) for i in range(55)]
    site.load()
    found = site.run(RULE)
    assert [set(f["record_ids"]) for f in found] == [set(loud)] and quiet
    assert "learning" in found[0]["message"]


def test_actor_without_any_history_gets_the_learning_threshold(site):
    rids = [site.add(at(DAY, 10, i), "Project updated", actor="acct-newcomer") for i in range(51)]
    site.load()
    assert ids(site.run(RULE)) == [rids]
    assert site.run(RULE, learning_threshold=60) == []


# --- near misses and edges -------------------------------------------------------------


def test_near_misses(site):
    site.routine(days_before(DAY, 14), per_day=4)
    for i in range(20):                                           # exactly 20: not above
        site.add(at(DAY, 9, 2 * i), "Workflow updated", "workflows")
    for i in range(30):                                           # 30 over 2.5 hours
        site.add(at(DAY, 13, 0) + dt.timedelta(minutes=5 * i), "Project updated", "projects", actor=BOB)
    for i in range(25):                                           # user management is not configuration
        site.add(at(DAY, 18, i), "User updated", "user management", obj=user_item(f"acct-u{i}"))
    site.load()
    assert site.run(RULE) == []


def test_across_midnight_belongs_to_the_day_it_began(site):
    """A burst going on at midnight is the previous day's finding, not the new day's,
    however the day's look-back is cut; one that begins just after midnight is the new
    day's."""
    site.routine(days_before(DAY, 14), per_day=4)
    site.routine(days_before(DAY, 14), actor=BOB, per_day=4)
    midnight = at(DAY, 0, 0)
    # 23:00 .. 00:40, one change every 2 minutes: the 21st (23:40) is the first over 20.
    overnight = [site.add(midnight + dt.timedelta(minutes=2 * i - 60), "Workflow updated", "workflows")
                 for i in range(51)]
    # BOB starts at 00:05 after a quiet evening.
    bob = [site.add(midnight + dt.timedelta(minutes=5 + i), "Project updated", "projects", actor=BOB)
           for i in range(25)]
    site.load()
    found = site.run(RULE)
    assert [f["actor_account_id"] for f in found] == [BOB]
    assert ids(found) == [bob]
    before = site.run(RULE, day=DAY - dt.timedelta(days=1))
    assert len(before) == 1 and before[0]["actor_account_id"] == ALICE
    assert set(before[0]["record_ids"]) <= set(overnight)
