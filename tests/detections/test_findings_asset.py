"""The findings asset through dg.materialize: simulator over HTTP -> Parquet -> DuckDB -> findings."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from jira_etl.defs.assets.findings import findings_asset_key
from jira_etl.defs.definitions import connector_assets
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
END = dt.date(2026, 3, 6)
START = END - dt.timedelta(days=2)


def materialize(sim, data_dir, instance, start=START, end=END):
    return dg.materialize(
        connector_assets("acme"),
        resources={
            "jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token,
                                      backoff_base_s=0.01, backoff_max_s=0.05),
            "storage": StorageResource(data_dir=str(data_dir)),
        },
        instance=instance,
        tags={"dagster/asset_partition_range_start": start.isoformat(),
              "dagster/asset_partition_range_end": end.isoformat()},
        raise_on_error=False,
    )


def findings(data_dir):
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT day, detection_id, severity, actor_account_id, actor_name, record_ids, message "
            "FROM findings WHERE connector = 'acme' ORDER BY day, detection_id").fetchall()


@pytest.fixture
def planted_site():
    site = SiteData(seed=5, start=START - dt.timedelta(days=20))
    alice = site.admins()[0]
    target = site.regular_users()[0]
    t = dt.datetime.combine(START + dt.timedelta(days=1), dt.time(11, 30), UTC)
    grant = site.add_record(t, actor=alice, summary="Global permission added", category="permissions",
                            objectItem={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"})
    admin = site.add_record(t + dt.timedelta(minutes=3), actor=alice, summary="User added to group",
                            category="group management",
                            objectItem={"name": "site-admins", "typeName": "GROUP"},
                            associatedItems=[{"id": target.accountId, "name": target.accountId, "typeName": "USER"}])
    return site, alice, target, grant["id"], admin["id"]


def test_findings_asset_over_a_range(planted_site, data_dir, instance):
    site, alice, target, grant_id, admin_id = planted_site
    with JiraSimulator(site, faults=Faults()) as sim:
        result = materialize(sim, data_dir, instance)
        assert result.success
        rows = findings(data_dir)
        by_det = {r[1]: r for r in rows}
        assert by_det["global_permission_added"][5] == [grant_id]
        assert by_det["new_site_admin"][5] == [admin_id]
        assert by_det["new_site_admin"][4] == alice.displayName            # names resolved via user/bulk
        assert target.displayName in by_det["new_site_admin"][6]
        assert {r[0] for r in rows} == {START + dt.timedelta(days=1)}
        # re-running the range replaces, never duplicates
        assert materialize(sim, data_dir, instance).success
        assert findings(data_dir) == rows
    mats = instance.fetch_materializations(findings_asset_key("acme"), limit=10).records
    assert {m.partition_key for m in mats} == {(START + dt.timedelta(days=i)).isoformat() for i in range(3)}
    meta = mats[0].asset_materialization.metadata
    assert meta["severity/high"].value >= 1
    assert meta["detection/new_site_admin"].value == 1
    assert "new_site_admin" in meta["findings"].value
    checks = [e.asset_check_evaluation_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.asset_check_evaluation_data.check_name == "no_high_or_critical_findings"]
    assert checks and not checks[0].passed and checks[0].severity == dg.AssetCheckSeverity.WARN


def test_clean_days_have_no_findings_and_a_passing_check(data_dir, instance):
    site = SiteData(seed=5, start=START - dt.timedelta(days=20))
    with JiraSimulator(site, faults=Faults()) as sim:
        result = materialize(sim, data_dir, instance)
    assert result.success
    assert findings(data_dir) == []
    checks = [e.asset_check_evaluation_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and e.asset_check_evaluation_data.check_name == "no_high_or_critical_findings"]
    assert checks and checks[0].passed


def findings_rows(data_dir):
    """Every column of `findings` but evaluated_at, in a stable order."""
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT day, detection_id, severity, actor_account_id, actor_name, first_seen, last_seen, object, "
            "remote_address, message, record_ids, title FROM findings WHERE connector = 'acme' "
            "ORDER BY day, detection_id, first_seen, actor_account_id, message").fetchall()


def test_findings_evaluated_while_collecting_equal_an_evaluation_after_the_load(data_dir, instance, tmp_path,
                                                                              monkeypatch):
    """The op evaluates each day as soon as it and the run's earlier days are loaded;
    evaluating the findings alone afterwards, over the whole loaded range, must give
    the same rows. The rules that read history (new IP, rare action, dormant actor...)
    see the run's earlier days here, since nothing before the range is loaded (their
    learning period is cut to one active day, so that they have something to say)."""
    from jira_etl.detections import overrides

    config = tmp_path / "detections.yaml"
    config.write_text("detections:\n" + "".join(
        f"  {rule}: {{parameters: {{learning_days: 1}}}}\n"
        for rule in ("new_ip_for_actor", "rare_action_for_actor", "off_hours_admin_activity",
                     "config_change_burst", "mass_user_removal")))
    monkeypatch.setenv(overrides.CONFIG_ENV, str(config))
    site = SiteData(seed=13, start=START - dt.timedelta(days=20), daily_volume=1200)
    start = START - dt.timedelta(days=3)
    with JiraSimulator(site, faults=Faults()) as sim:
        result = materialize(sim, data_dir, instance, start=start, end=END)
        assert result.success
        progressive = findings_rows(data_dir)
        # Findings only (no fetch, no load): one evaluation of every day after all are in.
        alone = dg.materialize(
            connector_assets("acme"), selection=[findings_asset_key("acme")],
            resources={
                "jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token),
                "storage": StorageResource(data_dir=str(data_dir)),
            },
            instance=instance,
            tags={"dagster/asset_partition_range_start": start.isoformat(),
                  "dagster/asset_partition_range_end": END.isoformat()},
        )
    assert alone.success
    assert {m.asset_key for m in alone.get_asset_materialization_events()} == {findings_asset_key("acme")}
    assert progressive, "the site must give findings for the comparison to mean anything"
    assert len({r[0] for r in progressive}) >= 3, "findings on several days of the range"
    assert findings_rows(data_dir) == progressive


def test_failing_findings_fail_the_run_after_the_records_are_materialized(data_dir, instance, tmp_path, monkeypatch):
    from jira_etl.defs.assets.extract import parquet_asset_key
    from jira_etl.defs.assets.load import duckdb_asset_key
    from jira_etl.detections import catalogue
    from jira_etl.detections import overrides

    bad = tmp_path / "detections.yaml"
    bad.write_text("detections:\n  no_such_rule: {enabled: false}\n")
    monkeypatch.setenv(overrides.CONFIG_ENV, str(bad))
    site = SiteData(seed=5, start=START - dt.timedelta(days=20))
    with JiraSimulator(site, faults=Faults()) as sim:
        result = materialize(sim, data_dir, instance)
    assert not result.success
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert materialized == {parquet_asset_key("acme"), duckdb_asset_key("acme")}
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no_such_rule" in str(failure.step_failure_data.error.message) or "no_such_rule" in str(
        failure.step_failure_data.error.cause)
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit_records").fetchone()[0] > 0


class RecordingRun:
    """Stands in for FindingsRun (the evaluation itself is tested above through the
    op): records which days each batch held."""

    def __init__(self, fail_on=None):
        self.batches, self.fail_on = [], fail_on

    def evaluate(self, days):
        if self.fail_on in days:
            raise RuntimeError(f"rule failed on {self.fail_on}")
        if days:
            self.batches.append(list(days))


def test_a_day_is_evaluated_only_once_every_earlier_day_of_the_run_is_loaded():
    from jira_etl.defs.assets.findings import FindingsAsLoaded

    d1, d2, d3, d4 = (START + dt.timedelta(days=i) for i in range(4))
    run = RecordingRun()
    feed = FindingsAsLoaded(run, [d3, d1, d4, d2])
    feed.on_loaded({d2: 5})         # d1 not loaded yet: d2 must wait
    assert run.batches == []
    feed.on_loaded({d1: 7})         # d1 and d2 now
    feed.on_loaded({d4: 1})         # d3 missing: d4 waits
    assert run.batches == [[d1, d2]]
    feed.on_loaded({d3: 0})
    assert run.batches == [[d1, d2], [d3, d4]]
    feed.finish()                   # nothing left, nothing evaluated twice
    assert [d for batch in run.batches for d in batch] == [d1, d2, d3, d4]


def test_a_failed_evaluation_stops_the_later_ones_and_is_raised_at_finish():
    from jira_etl.defs.assets.findings import FindingsAsLoaded

    d1, d2, d3 = (START + dt.timedelta(days=i) for i in range(3))
    run = RecordingRun(fail_on=d2)
    feed = FindingsAsLoaded(run, [d1, d2, d3])
    feed.on_loaded({d1: 1})
    feed.on_loaded({d2: 1})         # raises inside: kept, not thrown on the loader's thread
    feed.on_loaded({d3: 1})
    assert run.batches == [[d1]]
    with pytest.raises(RuntimeError, match="rule failed"):
        feed.finish()


def test_an_evaluation_with_nothing_to_enrich_runs_on_the_reader_that_looked(planted_site, data_dir, instance,
                                                                             monkeypatch):
    """The context look-ups and the evaluation share one reader when nothing is to be
    written first (a second run over the same days); the first run writes names and
    addresses, then evaluates on a reader opened after those writes."""
    from jira_etl.defs.assets import findings as findings_mod

    looked, evaluated = [], []
    real_look, real_evaluate = findings_mod.addresses_to_classify, findings_mod.runner.evaluate
    monkeypatch.setattr(findings_mod, "addresses_to_classify",
                        lambda con, *a: looked.append(con) or real_look(con, *a))
    monkeypatch.setattr(findings_mod.runner, "evaluate", lambda con, *a, **k: evaluated.append(con) or real_evaluate(con, *a, **k))
    site, alice, *_ = planted_site
    with JiraSimulator(site, faults=Faults()) as sim:
        assert materialize(sim, data_dir, instance).success
        first = findings(data_dir)
        assert all(e is not l for e, l in zip(evaluated, looked))  # names were written in between
        looked.clear(), evaluated.clear()
        assert materialize(sim, data_dir, instance).success
    assert looked and len(evaluated) == len(looked)
    assert all(e is l for e, l in zip(evaluated, looked))
    assert findings(data_dir) == first and any(r[4] == alice.displayName for r in first)
