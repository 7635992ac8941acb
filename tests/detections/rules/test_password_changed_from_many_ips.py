"""password_changed_from_many_ips: fire / near-miss / clean."""

from __future__ import annotations

from det_helpers import DAY, at, days_before

RULE = "password_changed_from_many_ips"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_two_ips_within_30_minutes(site):
    a = site.password_changed(at(DAY, 10, 0), "acct-victim", ip="198.51.100.9")
    b = site.password_changed(at(DAY, 10, 29), "acct-victim", ip="192.0.2.66")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[a, b]]
    assert "2 IPs" in found[0]["message"] and found[0]["severity"] == "high"


def test_near_misses(site):
    # two IPs but 31 minutes apart
    site.password_changed(at(DAY, 10, 0), "acct-a", ip="198.51.100.9")
    site.password_changed(at(DAY, 10, 31), "acct-a", ip="192.0.2.66")
    # same IP twice within minutes
    site.password_changed(at(DAY, 12, 0), "acct-b", ip="198.51.100.9")
    site.password_changed(at(DAY, 12, 5), "acct-b", ip="198.51.100.9")
    # two different users from two IPs
    site.password_changed(at(DAY, 14, 0), "acct-c", ip="198.51.100.9")
    site.password_changed(at(DAY, 14, 1), "acct-d", ip="192.0.2.66")
    site.load()
    assert site.run(RULE) == []


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6)
    site.password_changed(at(DAY, 9), "acct-e", ip="198.51.100.30")
    site.load()
    assert site.run(RULE) == []
