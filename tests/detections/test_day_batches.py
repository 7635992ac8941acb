"""Stretches of days evaluated in one query per rule (detections/day_batches.py): the
rule LATERAL over a list of windows gives, day for day, the findings of a query per
rule and day, field for field; stretches are cut where they would cost more."""

from __future__ import annotations

import datetime as dt

import pytest
from det_helpers import ALICE, AuditSite, at

from jira_etl.detections import catalogue, day_batches, runner
from jira_etl.detections.evaluation_run import planted_month
from jira_etl.simulator.scenarios.realistic import RealisticSite, Shape

D = dt.date(2026, 6, 1)


def days_from(first: dt.date, n: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(n)]


def test_plan_groups_quiet_consecutive_days_and_leaves_heavy_ones_alone(monkeypatch):
    days = days_from(D, 10)
    quiet = {d: 5_000 for d in days}
    assert day_batches.plan(days, quiet) == [days]
    heavy = {**quiet, days[6]: 240_000}
    # the heavy day alone, and the days after it too: their look-back holds it, read
    # once per day of a stretch (a scope of ~270k events is over MAX_SCOPE_ROWS)
    assert day_batches.plan(days, heavy) == [days[:6], [days[6]], [days[7]], [days[8]], [days[9]]]
    # a scope of more events than MAX_SCOPE_ROWS ends the stretch
    busy = {d: 40_000 for d in days}
    assert day_batches.plan(days, busy) == [days[:3], [days[3]], [days[4]], [days[5]], [days[6]], [days[7]],
                                            [days[8]], [days[9]]]
    gap = [d for d in days if d != days[4]]
    assert day_batches.plan(gap, quiet) == [days[:4], days[5:]]
    monkeypatch.setattr(day_batches, "MAX_STRETCH_ROWS", 3 * 3 * 5_000)  # 3 days x 3 days' events
    assert day_batches.plan(days, quiet) == [days[0:3], [days[3]], [days[4]], [days[5]], [days[6]], [days[7]],
                                             [days[8]], [days[9]]]


def test_a_planted_month_gives_the_same_findings_batched_and_day_by_day(tmp_path):
    # Every scenario of the evaluation (most rules fire on it), 30 days of history.
    data, _truth, first, last = planted_month()
    site = AuditSite(tmp_path)
    days = days_from(first, (last - first).days + 1)
    for d in days:
        site.records += data.generate_day(d)
    site.load()
    evaluated = days[-30:]
    with site.warehouse.reader() as con:
        per_day = runner._rows_per_day(con, site.connector, runner.day_window(days[0])[0], runner.day_window(last)[1])
        stretches = day_batches.plan(evaluated, per_day)
        batched = runner.evaluate(con, site.connector, evaluated)
        one_by_one = runner.evaluate(con, site.connector, evaluated, batch_days=False)
    assert max(map(len, stretches)) > 1, f"the month should be evaluated in stretches: {stretches}"
    fired = {f["detection_id"] for f in one_by_one}
    assert len(fired) >= 18, f"most rules should fire on the planted month: {sorted(fired)}"
    assert batched == one_by_one


def test_a_realistic_site_gives_the_same_findings_batched_and_day_by_day(tmp_path):
    shape = Shape(seed=11, base_fraction=0.3, sync_size=30, history_days=12)
    real = RealisticSite(shape, D)
    site = AuditSite(tmp_path)
    first = real.eval_start - dt.timedelta(days=shape.history_days)
    days = days_from(first, (real.eval_end - first).days + 1)
    for d in days:
        site.records += real.generate_day(d)
    site.load()
    evaluated = days[-10:-6] + days[-5:]  # two stretches: a gap cuts them
    with site.warehouse.reader() as con:
        batched = runner.evaluate(con, site.connector, evaluated)
        one_by_one = runner.evaluate(con, site.connector, evaluated, batch_days=False)
    assert one_by_one and batched == one_by_one


def test_days_in_a_zone_that_changes_its_clocks_keep_exact_utc_windows(tmp_path):
    # 2026-03-08: clocks in Los Angeles go forward, a 23-hour local day; the windows
    # stay UTC days of 24 hours whatever the session's time zone.
    site = AuditSite(tmp_path)
    days = days_from(dt.date(2026, 3, 6), 5)
    for i, d in enumerate(days):
        for hh, mm, ss, ms in ((0, 0, 0, 0), (23, 59, 59, 999), (7, 30, 0, 0)):
            site.add_to_group(at(d, hh, mm, ss, ms), f"u-{i}-{hh}", "site-admins", actor=ALICE)
    site.load()
    det = catalogue.catalogue_by_id()["new_site_admin"]
    with site.warehouse.reader() as con:
        con.execute("SET TimeZone = 'America/Los_Angeles'")
        together = runner.run_detection_days(con, det, site.connector, days)
        alone = {d: runner.run_detection(con, det, site.connector, d) for d in days}
    assert together == alone
    assert [sum(f["count"] for f in together[d]) for d in days] == [3] * 5


@pytest.mark.parametrize("rule", ["mass_deletion", "config_change_burst"])
def test_a_burst_across_midnight_belongs_to_its_day_as_in_a_query_per_day(tmp_path, rule):
    site = AuditSite(tmp_path)
    days = days_from(D, 3)
    site.routine(days_from(D - dt.timedelta(days=10), 10))
    summary, category = (("Project deleted", "projects") if rule == "mass_deletion"
                         else ("Workflow updated", "workflows"))
    start = at(days[0], 23, 20)
    for i in range(90):  # 23:20 to 00:50: one burst over midnight
        site.add(start + dt.timedelta(minutes=i), summary, category, obj={"id": str(i), "name": f"P{i}",
                                                                           "typeName": "PROJECT"})
    site.load()
    det = catalogue.catalogue_by_id()[rule]
    with site.warehouse.reader() as con:
        together = runner.run_detection_days(con, det, site.connector, days)
        alone = {d: runner.run_detection(con, det, site.connector, d) for d in days}
    assert together == alone
    assert together[days[0]], "the burst should be found on the day it starts"


def test_a_rule_duckdb_cannot_run_over_a_stretch_is_run_day_by_day(tmp_path, monkeypatch):
    site = AuditSite(tmp_path)
    days = days_from(D, 4)
    for i, d in enumerate(days):
        site.add_to_group(at(d, 10), f"u-{i}", "site-admins")
    site.load()
    with site.warehouse.reader() as con:
        expected = runner.evaluate(con, site.connector, days, batch_days=False)
    real_query = day_batches.query
    failed = []

    def query(det):
        if det.id == "new_site_admin":  # as a construct LATERAL does not support would
            failed.append(det.id)
            return real_query(det).replace("LATERAL (", "LATERAL (SELECT no_such_column FROM (", 1).replace(
                ") f\nLEFT JOIN", ")) f\nLEFT JOIN", 1)
        return real_query(det)

    monkeypatch.setattr(day_batches, "query", query)
    with site.warehouse.reader() as con:
        got = runner.evaluate(con, site.connector, days)
    assert failed and got == expected
    assert sum(f["detection_id"] == "new_site_admin" for f in got) == 4
