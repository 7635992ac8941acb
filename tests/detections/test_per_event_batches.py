"""Per-event rules (catalogue `per_event`) evaluated over a stretch of days in one query
(runner.run_detection_days): the same findings, field for field, as a query per day,
and the catalogue refuses the declaration on a rule that relates events to each other."""

from __future__ import annotations

import datetime as dt

import pytest
from det_helpers import ALICE, AuditSite, at, group_item, user_item

from jira_etl.detections import catalogue, runner
from jira_etl.simulator.scenarios.realistic import RealisticSite, Shape

UTC = dt.timezone.utc


def test_per_event_rules_batched_over_days_equal_a_query_per_day(tmp_path):
    # A realistic site (habits, new admins, bulk removals, the nightly sync) whose ten
    # evaluated days give the per-event rules findings on several of them.
    shape = Shape(seed=11, base_fraction=0.3, sync_size=30, history_days=5)
    real = RealisticSite(shape, dt.date(2026, 6, 1))
    site = AuditSite(tmp_path)
    first = real.eval_start - dt.timedelta(days=shape.history_days)
    days = [first + dt.timedelta(days=i) for i in range((real.eval_end - first).days + 1)]
    for d in days:
        site.records += real.generate_day(d)
    # Events on the edges of days (the last millisecond of one, the first of the next)
    # and an admin added twice in one hour across midnight: each stays on its own day.
    edge = days[-4]
    site.add_to_group(at(edge, 23, 59, 59, 999), "u-edge-1", "site-admins")
    site.add_to_group(at(edge + dt.timedelta(days=1), 0, 0, 0, 0), "u-edge-2", "site-admins")
    site.add(at(edge, 23, 30), "User created", "user management", obj=user_item("u-late"))
    site.load()
    # Not consecutive: two stretches, and a day alone.
    evaluated = days[-10:-6] + days[-5:-1] + days[-1:]
    with site.warehouse.reader() as con:
        batched = runner.evaluate(con, site.connector, evaluated)
        per_day = runner.evaluate(con, site.connector, evaluated, batch_per_event=False)
    per_event = {d.id for d in catalogue.load_catalogue() if d.per_event}
    found = {f["detection_id"] for f in per_day} & per_event
    assert len(found) >= 3, f"the site should give per-event findings to compare, got {found}"
    assert batched == per_day
    on_edge = [f for f in batched if f["detection_id"] == "new_site_admin" and f["day"] in (edge, edge + dt.timedelta(days=1))]
    assert {f["day"] for f in on_edge} == {edge, edge + dt.timedelta(days=1)}


def test_a_batch_query_splits_rows_by_the_utc_day_in_any_session_time_zone(tmp_path):
    site = AuditSite(tmp_path)
    day = dt.date(2026, 6, 3)
    for i, d in enumerate([day, day + dt.timedelta(days=1), day + dt.timedelta(days=2)]):
        site.add_to_group(at(d, 0, 30), f"u-{i}", "site-admins", actor=ALICE)  # 02:30 in Paris
    site.load()
    det = catalogue.catalogue_by_id()["new_site_admin"]
    span = [day, day + dt.timedelta(days=1), day + dt.timedelta(days=2)]
    with site.warehouse.reader() as con:
        con.execute("SET TimeZone = 'America/Los_Angeles'")  # the rows come back as the previous local day
        by_day = runner.run_detection_days(con, det, site.connector, span)
        one_by_one = {d: runner.run_detection(con, det, site.connector, d) for d in span}
    assert by_day == one_by_one and all(len(v) == 1 for v in by_day.values())
    with pytest.raises(ValueError, match="consecutive"):
        with site.warehouse.reader() as con:
            runner.run_detection_days(con, det, site.connector, [day, day + dt.timedelta(days=2)])
    with pytest.raises(ValueError, match="per-event"):
        with site.warehouse.reader() as con:
            runner.run_detection_days(con, catalogue.catalogue_by_id()["mass_deletion"], site.connector, span)


def test_the_catalogue_refuses_per_event_on_a_rule_that_relates_events(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(catalogue.RULES_DIR, rules)
    burst = rules / "mass_deletion.sql"
    burst.write_text(burst.read_text().replace("-- section: behavioural", "-- section: behavioural\n-- per_event: true"))
    gap = rules / "new_user_created.sql"
    gap.write_text(gap.read_text().replace("-- per_event: true", "-- per_event: yes please"))
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.load_catalogue(rules)
    text = str(err.value)
    assert "mass_deletion.sql: per_event: the SQL relates events to each other" in text and "GROUP BY" in text
    assert "new_user_created.sql: per_event must be true or false" in text
    # the shipped per-event rules pass the same check
    assert not [p for d in catalogue.load_catalogue() if d.per_event
                for p in catalogue.per_event_problems(True, d.sql)]
    assert catalogue.per_event_problems(True, "SELECT * FROM audit_events WHERE created >= $window_start") == [
        "per_event: the SQL must use $window_start and $window_end once each, as the window filter"]
