"""The findings asset through dg.materialize: simulator over HTTP -> Parquet -> DuckDB -> findings."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from jira_etl.assets.findings import findings_asset_key
from jira_etl.definitions import connector_assets
from jira_etl.resources import JiraResource, StorageResource
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
