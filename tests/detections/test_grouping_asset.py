"""The findings asset through dg.materialize (simulator over HTTP): a bulk removal is one
finding, and the metadata shows rule rows before grouping, findings after, the
suppressed count and a per-detection table (issue 13 item 6)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from jira_etl.defs.assets.findings import findings_asset_key
from jira_etl.defs.definitions import connector_assets
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.detections import overrides
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 5)
BULK = 300


def test_bulk_removal_is_one_finding_and_the_metadata_counts_before_and_after(data_dir, instance, tmp_path,
                                                                              monkeypatch):
    site = SiteData(seed=5, start=DAY - dt.timedelta(days=20))
    alice = site.admins()[0]
    t0 = dt.datetime.combine(DAY, dt.time(10, 15), UTC)
    ids = [site.add_record(t0 + dt.timedelta(milliseconds=50 * i), actor=alice, summary="User removed from group",
                           category="group management", objectItem={"name": "jira-users", "typeName": "GROUP"},
                           associatedItems=[{"id": f"acct-bulk-{i:03d}", "name": f"acct-bulk-{i:03d}",
                                             "typeName": "USER"}])["id"] for i in range(BULK)]
    grant = site.add_record(t0 + dt.timedelta(hours=2), actor=alice, summary="Global permission added",
                            category="permissions",
                            objectItem={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"})["id"]
    cfg = tmp_path / "detections.yaml"
    cfg.write_text("detections:\n  global_permission_added:\n    suppress:\n"
                   f"      - {{actors: [{alice.accountId}], reason: onboarding of the new admin team}}\n")
    monkeypatch.setenv(overrides.CONFIG_ENV, str(cfg))
    with JiraSimulator(site, faults=Faults()) as sim:
        result = dg.materialize(
            connector_assets("acme"),
            resources={"jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token),
                       "storage": StorageResource(data_dir=str(data_dir))},
            instance=instance, partition_key=DAY.isoformat())
    assert result.success
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT detection_id, count, record_ids, suppressed, suppression_reason, message "
                           "FROM findings WHERE detection_id IN ('user_removed_from_group', 'global_permission_added')"
                           " ORDER BY detection_id").fetchall()
    (grant_row, bulk_row) = rows
    assert bulk_row[1] == BULK and bulk_row[2] == sorted(ids) and not bulk_row[3]
    assert f"removed {BULK} users from group jira-users" in bulk_row[5]
    assert grant_row[2] == [grant] and grant_row[3] and grant_row[4] == "onboarding of the new admin team"
    (mat,) = instance.fetch_materializations(findings_asset_key("acme"), limit=5).records
    meta = mat.asset_materialization.metadata
    assert meta["suppressed"].value == 1
    assert meta["rule_rows_before_grouping"].value >= BULK + 1
    assert meta["findings_after_grouping"].value == meta["dagster/row_count"].value
    assert meta["rule_rows_before_grouping"].value - meta["findings_after_grouping"].value >= BULK - 1
    table = {r.data["detection"]: r.data for r in meta["per_detection"].value.records}
    assert table["user_removed_from_group"] == {"detection": "user_removed_from_group", "rule_rows": BULK,
                                                "findings": 1, "suppressed": 0, "records": BULK}
    assert table["global_permission_added"]["suppressed"] == 1
    assert meta["detection/user_removed_from_group"].value == 1
    assert "Administer Jira" not in meta["findings"].value  # the suppressed one is not listed as found
    assert "jira-users" in meta["findings"].value
