"""off_hours_admin_activity: fire / near-miss / clean, the actor's own hour profile
(distinct active days per hour +-1), learning in the site's time zone, the system actor
(jira_etl/detections/rules/off_hours_admin_activity.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ALICE, BOB, DAY, at, days_before, user_item

RULE = "off_hours_admin_activity"


def ids(findings):
    return [f["record_ids"] for f in findings]


def admin_change(site, when, actor=ALICE, target="acct-dev"):
    return site.add(when, "User updated", "user management", actor=actor, obj=user_item(target))


def shift(site, days, actor, start, hours, per_day=2):
    """`per_day` admin changes a day spread over a shift of `hours` hours from `start`
    (a UTC datetime.time; a shift may cross midnight), at hours that move day to day."""
    for k, d in enumerate(days):
        t0 = dt.datetime.combine(d, start, dt.timezone.utc)
        for i in range(per_day):
            offset = ((k * 5 + i * 7) % (hours * 4)) * 15           # quarter hours inside the shift
            admin_change(site, t0 + dt.timedelta(minutes=offset), actor=actor)


# --- fire ------------------------------------------------------------------------------


def test_fires_at_an_hour_the_actor_never_works(site):
    site.routine(days_before(DAY, 20), per_day=4, hours=(9, 17))        # at 9, 11, 13, 15 h
    site.add_to_group(at(DAY, 11, 30), "acct-dev", "developers")         # usual hour
    night = site.add_to_group(at(DAY, 3, 10), "acct-dev", "qa-team")     # 03:10, never seen
    site.add(at(DAY, 4), "Project updated")                              # off hours but not admin category
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[night]]
    assert "0 of the actor's 20 active days in the last 30 days" in found[0]["message"]


def test_the_system_actor_has_its_own_hours(site):
    # The directory sync (no author) manages groups at 02:00 every night: normal for it;
    # the same actor managing groups at 14:00 is not.
    for d in days_before(DAY, 10) + [DAY]:
        for i in range(5):
            site.add_to_group(at(d, 2, i), f"acct-m{i}", "team-a", actor=None, ip=None)
    day_time = site.add_to_group(at(DAY, 14, 0), "acct-x", "team-a", actor=None, ip=None)
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[day_time]] and found[0]["actor_account_id"] == "(system)"


# --- the false positives: habits that are not off hours (FP classes b, c) -------


def test_an_admin_working_08_to_19_with_a_daily_burst_is_not_off_hours_at_08_or_16(site):
    # 40 changes at 09:00 every day made every other hour of the working day a rare share of
    # the events; counted as days, 08:07 and 16:45 are ordinary.
    days = days_before(DAY, 20)
    for k, d in enumerate(days):
        for i in range(40):
            site.add(at(d, 9) + dt.timedelta(seconds=55 * i), "Workflow updated", "workflows")
        for i in range(2):
            admin_change(site, at(d, 8 + (k * 3 + i * 5) % 11, 20))   # one of 08..18 h
    usual = [admin_change(site, at(DAY, 8, 7)), admin_change(site, at(DAY, 16, 45)),
             admin_change(site, at(DAY, 19, 40))]
    site.load()
    assert site.run(RULE) == [] and usual
    night = admin_change(site, at(DAY, 2, 30))
    site.load()
    assert ids(site.run(RULE)) == [[night]]


def test_an_admin_in_india_is_not_off_hours_in_its_own_day(site):
    # 03:30-12:30 UTC (09:00-18:00 IST), two changes a day: its own hours, not 07:00-20:00 UTC
    shift(site, days_before(DAY, 20), BOB, dt.time(3, 30), hours=9)
    usual = [admin_change(site, at(DAY, 3, 40), actor=BOB), admin_change(site, at(DAY, 5, 15), actor=BOB),
             admin_change(site, at(DAY, 12, 10), actor=BOB)]
    site.load()
    assert site.run(RULE) == [] and usual
    evening = admin_change(site, at(DAY, 18, 0), actor=BOB)               # 23:30 IST
    site.load()
    assert ids(site.run(RULE)) == [[evening]]


def test_a_night_shift_admin_across_midnight_is_not_off_hours(site):
    # 22:00-06:00 UTC every night
    shift(site, days_before(DAY, 20), "acct-night", dt.time(22, 0), hours=8)
    usual = [admin_change(site, at(DAY, 0, 20), actor="acct-night"),
             admin_change(site, at(DAY, 5, 40), actor="acct-night"),
             admin_change(site, at(DAY, 23, 10), actor="acct-night")]
    site.load()
    assert site.run(RULE) == [] and usual
    noon = admin_change(site, at(DAY, 13, 0), actor="acct-night")
    site.load()
    assert ids(site.run(RULE)) == [[noon]]


# --- near misses -----------------------------------------------------------------------


def test_a_neighbouring_hour_is_usual(site):
    site.routine(days_before(DAY, 20), per_day=4, hours=(9, 17))        # at 9, 11, 13, 15 h
    site.add_to_group(at(DAY, 8, 10), "acct-dev", "developers")          # next to 9
    site.add_to_group(at(DAY, 16, 50), "acct-dev", "developers")         # next to 15
    site.load()
    assert site.run(RULE) == []


def test_a_band_worked_on_a_tenth_of_the_days_is_not_rare(site):
    site.routine(days_before(DAY, 20), per_day=4, hours=(9, 17))        # 20 active days
    early = [DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=12)]    # 2 of 20 days at 05 h
    for d in early:
        site.add(at(d, 5, 30), "Project updated")
    site.add_to_group(at(DAY, 6, 10), "acct-dev", "developers")          # band 5..7: 2 days = 10 %
    site.load()
    assert site.run(RULE) == []
    assert len(site.run(RULE, rare_hour_share=0.15)) == 1


# --- learning: the site's hours in its time zone ---------------------------------------


def test_learning_uses_the_site_hours(site):
    site.routine(days_before(DAY, 5), per_day=4, hours=(9, 17))         # 5 active days: learning
    site.add_to_group(at(DAY, 19, 59), "acct-dev", "developers")         # inside 07:00-20:00 UTC
    morning = site.add_to_group(at(DAY, 7, 0), "acct-dev", "developers")
    late = site.add_to_group(at(DAY, 20, 0), "acct-dev", "qa-team")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[late]] and "learning" in found[0]["message"]
    # Asia/Kolkata (UTC+05:30): 07:00 UTC is 12:30 there, 20:00 UTC is 01:30 the next day,
    # 19:59 UTC is 01:29: both late ones are outside 07:00-20:00 IST, the morning one is not
    found = site.run(RULE, site_timezone="Asia/Kolkata")
    assert len(found) == 1 and morning not in found[0]["record_ids"] and late in found[0]["record_ids"]
    assert len(found[0]["record_ids"]) == 2 and "Asia/Kolkata" in found[0]["message"]


def test_learning_needs_a_prior_day_and_keeps_hours_already_worked(site):
    admin_change(site, at(DAY, 3, 0), actor="acct-new")                  # first day ever: not judged
    for d in days_before(DAY, 2):
        admin_change(site, at(d, 22, 30), actor="acct-late")             # worked 22:30 on 2 days
    admin_change(site, at(DAY, 23, 15), actor="acct-late")               # band already worked
    early = admin_change(site, at(DAY, 4, 0), actor="acct-late")         # never worked, outside 07-20
    site.load()
    assert ids(site.run(RULE)) == [[early]]
