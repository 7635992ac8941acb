"""audit_gap: fire / near-miss / clean (cases moved from test_behavioural_rules.py)."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, at, days_before

RULE = "audit_gap"


def ids(findings):
    return [f["record_ids"] for f in findings]


def busy(site, days, per_day):
    for d in days:
        for i in range(per_day):
            site.add(at(d, 8 + i % 10, i % 60), "Project updated")


def test_audit_gap_on_a_collected_empty_day(site):
    busy(site, days_before(DAY, 14), 60)
    site.load(extra_days=[DAY])
    found = site.run(RULE)
    assert len(found) == 1 and found[0]["record_ids"] == [] and found[0]["actor_account_id"] is None
    assert "averaged 60" in found[0]["message"]


def test_audit_gap_near_misses(site):
    busy(site, days_before(DAY, 14), 50)                          # averaged exactly 50: not more
    site.load(extra_days=[DAY])
    assert site.run(RULE) == []
    assert site.run(RULE, DAY + dt.timedelta(days=1)) == []  # never collected: not judged
    busy(site, days_before(DAY, 14), 1)                           # now 51 a day
    site.add(at(DAY, 9), "Project updated")                       # but the day holds a record
    site.load()
    assert site.run(RULE) == []


def test_audit_gap_day_in_progress_is_not_judged(site):
    today = dt.datetime.now(dt.timezone.utc).date()
    busy(site, days_before(today, 14), 60)
    site.load(extra_days=[today])
    assert site.run(RULE, today) == []


def test_clean_collected_days_are_silent(site):
    busy(site, days_before(DAY, 14) + [DAY], 60)
    site.load()
    assert site.run(RULE) == []
