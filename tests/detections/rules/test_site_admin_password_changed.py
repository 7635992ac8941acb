"""site_admin_password_changed: fire / near-miss / clean."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, at, days_before

RULE = "site_admin_password_changed"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_within_14_days_of_the_admin_group_add(site):
    add = site.add_to_group(at(DAY - dt.timedelta(days=13), 10), "acct-new-admin", "org-admins")
    pw = site.password_changed(at(DAY, 22), "acct-new-admin", ip="198.51.100.9")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [sorted([add, pw])]
    assert "13 day" in found[0]["message"]


def test_near_misses(site):
    # added 15 days before: outside the 14-day window
    site.add_to_group(at(DAY - dt.timedelta(days=15), 10), "acct-old-admin", "site-admins")
    site.password_changed(at(DAY, 10), "acct-old-admin")
    # added to an ordinary group
    site.add_to_group(at(DAY - dt.timedelta(days=2), 10), "acct-dev", "developers")
    site.password_changed(at(DAY, 11), "acct-dev")
    # admin added after the password change
    site.password_changed(at(DAY, 8), "acct-later")
    site.add_to_group(at(DAY, 9), "acct-later", "site-admins")
    site.load()
    assert site.run(RULE) == []


def test_clean_day_of_ordinary_password_changes_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=4)
    for i in range(5):
        site.password_changed(at(DAY, 9 + i), f"acct-user-{i}", ip=f"198.51.100.{20 + i}")
    site.load()
    assert site.run(RULE) == []
