"""The all-rules clean-month case (each rule has its own module in tests/detections/rules/)."""

from __future__ import annotations

import datetime as dt

from det_helpers import ADMIN_IP, ALICE, BOB, DAY, MALLORY, at, days_before


def test_all_rules_silent_on_quiet_month(site):
    for actor, ip, hours in ((ALICE, ADMIN_IP, (8, 17)), (BOB, "10.20.0.30", (9, 18)), (MALLORY, "198.51.100.7", (7, 16))):
        site.routine(days_before(DAY, 35) + [DAY], actor=actor, ip=ip, per_day=6, hours=hours)
        site.add_to_group(at(DAY - dt.timedelta(days=5), hours[0] + 1), "acct-dev", "developers", actor=actor, ip=ip)
        site.add_to_group(at(DAY, hours[0] + 1), "acct-dev2", "qa-team", actor=actor, ip=ip)
    site.load()
    assert site.run_all() == []
