"""The runner's copy of the evaluation scope (runner.scope_plan): the rules read a
temporary table of the range's events instead of the view `audit_events` when the
scope is small enough. Both must give the same findings, field for field."""

from __future__ import annotations

import datetime as dt

from det_helpers import AuditSite

from jira_etl.detections import runner
from jira_etl.simulator.scenarios.realistic import RealisticSite, Shape


def test_scope_plan_copies_small_scopes_and_reads_the_view_beyond():
    assert runner.scope_plan(1_000, 210, copy_rows=800) == (False, 2)
    assert runner.scope_plan(700, 210, copy_rows=800) == (True, 1)     # one copy only
    assert runner.scope_plan(400, 210, copy_rows=800) == (True, 2)     # a copy per cursor
    assert runner.scope_plan(0, 210, copy_rows=0) == (False, 2)        # 0: never copy
    assert runner.scope_plan(10, 1, copy_rows=800) == (True, 1)
    # one copy shared by the cursors: both cursors up to copy_rows
    assert runner.scope_plan(700, 210, copy_rows=800, shared=True) == (True, 2)
    assert runner.scope_plan(900, 210, copy_rows=800, shared=True) == (False, 2)


def _attached(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
            if r[0].startswith(runner.SCOPE_DB_PREFIX)]


def test_findings_over_the_copy_equal_those_over_the_view(tmp_path, monkeypatch):
    # A realistic site (habits, a nightly sync, a bulk removal, new admins) with the
    # history its behavioural rules learn from: 20 days before the 10 evaluated.
    shape = Shape(seed=11, base_fraction=0.3, sync_size=30, history_days=20)
    real = RealisticSite(shape, dt.date(2026, 6, 1))
    site = AuditSite(tmp_path)
    first = real.eval_start - dt.timedelta(days=shape.history_days)
    days = [first + dt.timedelta(days=i) for i in range((real.eval_end - first).days + 1)]
    for d in days:
        site.records += real.generate_day(d)
    site.load()
    evaluated = days[-10:]
    with site.warehouse.reader() as con:
        over_view = runner.evaluate(con, site.connector, evaluated, copy_rows=0)
        made = []
        real_shared = runner._shared_scope

        def shared(*args):
            made.append(real_shared(*args))
            return made[-1]

        monkeypatch.setattr(runner, "_shared_scope", shared)
        over_copy = runner.evaluate(con, site.connector, evaluated)
        assert made and made[0] and not _attached(con)  # one copy for both cursors, detached after
        # where the instance attaches nothing: a temporary copy per cursor
        monkeypatch.setattr(runner, "_shared_scope", lambda *args: None)
        over_copies = runner.evaluate(con, site.connector, evaluated)
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0  # dropped
    assert over_view, "the site should give findings to compare"
    assert {f["detection_id"] for f in over_view} & {"mass_user_removal", "new_site_admin", "new_user_created"}
    assert over_copy == over_view
    assert over_copies == over_view


def test_the_shared_copy_is_detached_when_a_rule_fails(tmp_path, monkeypatch):
    site = AuditSite(tmp_path)
    site.add(dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc), "User created", "user management")
    site.load()

    def boom(*args, **kwargs):
        raise RuntimeError("rule failed")

    monkeypatch.setattr(runner, "run_detection", boom)
    with site.warehouse.reader() as con:
        try:
            runner.evaluate(con, site.connector, [dt.date(2026, 6, 1)])
        except RuntimeError:
            pass
        else:
            raise AssertionError("the failure should reach the caller")
        assert not _attached(con)
