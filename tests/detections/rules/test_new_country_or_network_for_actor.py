"""new_country_or_network_for_actor: fire / near-miss / clean, silent without IP
context, and no "new for the actor" while it is learning
(jira_etl/detections/rules/new_country_or_network_for_actor.sql)."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, at, days_before

RULE = "new_country_or_network_for_actor"


def ids(findings):
    return [f["record_ids"] for f in findings]


def locate(site, places):
    now = dt.datetime.now(dt.timezone.utc)
    with site.warehouse.writer() as con:
        con.executemany("INSERT INTO ip_info VALUES (?, 'public', ?, ?, ?)",
                        [[ip, country, None, now] for ip, country in places])


def test_fires_on_a_new_country_and_is_silent_without_ip_context(site):
    site.routine(days_before(DAY, 10), per_day=2, ip="81.2.69.160")
    rid = site.add(at(DAY, 10), "Project updated", ip="175.16.199.1")
    site.add(at(DAY, 11), "Project updated", ip="81.2.69.161")                 # same country
    site.load()
    assert site.run(RULE) == []                                                # nothing located: silent
    locate(site, [("81.2.69.160", "GB"), ("81.2.69.161", "GB"), ("175.16.199.1", "CN")])
    found = site.run(RULE)
    assert ids(found) == [[rid]] and "CN" in found[0]["message"]


def test_an_actor_in_learning_is_skipped(site):
    site.routine(days_before(DAY, 5), per_day=2, ip="81.2.69.160")            # 5 active days
    site.add(at(DAY, 10), "Project updated", ip="175.16.199.1")
    site.load()
    locate(site, [("81.2.69.160", "GB"), ("175.16.199.1", "CN")])
    assert site.run(RULE) == []
    assert len(site.run(RULE, learning_days=5)) == 1
