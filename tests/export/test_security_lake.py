"""`<c>/ocsf_events` through Dagster over the simulator with planted attacks: the Amazon
Security Lake custom-source layout, Parquet as Security Lake asks (zstd, sorted by
time, row groups and pages), every record in exactly one class, every row valid OCSF
1.3.0 read back from the files, findings as 2004, a re-run replacing the day's files;
then `jira-etl export` as ECS and OCSF NDJSON over the same warehouse."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from ocsf_helpers import errors

from jira_etl import cli
from jira_etl.defs.assets.ocsf import build_ocsf_asset, ocsf_asset_key
from jira_etl.defs.definitions import connector_assets
from jira_etl.export import ocsf, security_lake
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.simulator import scenarios
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 10)
START, END = DAY - dt.timedelta(days=1), DAY
TAGS = {"dagster/asset_partition_range_start": START.isoformat(),
        "dagster/asset_partition_range_end": END.isoformat()}


def materialize(assets, resources, instance, selection=None):
    result = dg.materialize(assets, resources=resources, instance=instance, tags=TAGS, selection=selection,
                            raise_on_error=False)
    assert result.success
    return result


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lake")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIRA_ETL_START_DATE", "2026-01-01")
        mp.setenv("JIRA_ETL_DATA_DIR", str(tmp / "data"))
        mp.delenv("JIRA_ETL_LAKE_REGION", raising=False)
        site = SiteData(seed=3, start=START, clock=lambda: dt.datetime(2026, 3, 12, tzinfo=UTC))
        for i, name in enumerate(["new_site_admin", "mass_user_removal", "global_permission_added",
                                  "project_roles_changed", "user_removed_from_project"]):
            scenarios.PLANTERS[name](site, dt.datetime.combine(DAY, dt.time(9 + i, 13), UTC))
        assets = connector_assets("acme") + [build_ocsf_asset("acme")]
        with dg.instance_for_test(temp_dir=str(tmp)) as instance, JiraSimulator(site, faults=Faults()) as sim:
            resources = {"jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email,
                                                   api_token=sim.token, backoff_base_s=0.01, backoff_max_s=0.05),
                         "storage": StorageResource(data_dir=str(tmp / "data"))}
            result = materialize(assets, resources, instance)
            yield {"tmp": tmp, "data": tmp / "data", "assets": assets, "resources": resources,
                   "instance": instance, "result": result, "mp": mp}


def day_files(data, day):
    root = security_lake.lake_root(data) / "ext"
    return sorted(root.glob(f"*/region=us-east-1/accountId=external/eventDay={day:%Y%m%d}/*.parquet"))


def test_layout_format_and_schema(lake):
    data = lake["data"]
    with duckdb.connect(str(data / "jira_audit.duckdb"), read_only=True) as con:
        per_day = dict(con.execute("SELECT CAST(timezone('UTC', created) AS DATE), count(*) FROM audit_records "
                                   "GROUP BY 1").fetchall())
        findings = dict(con.execute("SELECT day, count(*) FROM findings WHERE NOT suppressed GROUP BY 1").fetchall())
    assert findings.get(DAY, 0) >= 5
    for day in (START, END):
        files = day_files(data, day)
        assert files, day
        rows_by_class = {}
        for path in files:
            source = path.parts[-5]
            assert len(source) <= 20 and path.name == "acme.parquet"
            meta = pq.ParquetFile(path).metadata
            for rg in range(meta.num_row_groups):
                assert meta.row_group(rg).total_byte_size < 256 * 2**20
                assert all(meta.row_group(rg).column(c).compression == "ZSTD" for c in range(meta.num_columns))
            table = pq.read_table(path)
            times = table.column("time").to_pylist()
            assert times == sorted(times)
            assert all(dt.datetime.fromtimestamp(t / 1000, UTC).date() == day for t in times) or source == "jira_findings"
            events = security_lake.from_table(table)
            classes = {e["class_uid"] for e in events}
            assert len(classes) == 1 and ocsf.source_name(classes.pop()) == source
            for ev in events:
                assert not errors(ev), (source, errors(ev)[:3])
            rows_by_class[events[0]["class_uid"]] = len(events)
        record_rows = sum(n for c, n in rows_by_class.items() if c != 2004)
        assert record_rows == per_day[day]  # every record in exactly one class
        assert rows_by_class.get(2004, 0) == findings.get(day, 0)
        assert {3004, 3006} <= set(rows_by_class)
    assert {3001, 3005, 2004} <= {ocsf.CLASSES_BY_SOURCE[p.parts[-5]] for p in day_files(data, DAY)}
    mat = lake["result"].asset_materializations_for_node("acme__ocsf_events")
    assert mat and mat[0].metadata["dagster/row_count"].value == sum(per_day.values()) + sum(findings.values())


def test_rerun_replaces_the_days_files(lake):
    data = lake["data"]
    before = {p: pq.read_table(p).num_rows for p in day_files(data, DAY)}
    stale = security_lake.day_dir(security_lake.lake_root(data), "jira_authentication", "us-east-1", DAY) / "acme.parquet"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"left by an earlier run")
    materialize(lake["assets"], lake["resources"], lake["instance"], selection=[ocsf_asset_key("acme")])
    after = {p: pq.read_table(p).num_rows for p in day_files(data, DAY)}
    assert after == before and not stale.exists()
    root = security_lake.lake_root(data)
    assert not [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".parquet")]


def test_cli_export_ecs_and_ocsf(lake, capsys):
    data, tmp = lake["data"], lake["tmp"]
    with duckdb.connect(str(data / "jira_audit.duckdb"), read_only=True) as con:
        n_records = con.execute("SELECT count(*) FROM audit_records WHERE created >= ? AND created < ?",
                                [dt.datetime.combine(DAY, dt.time(), UTC),
                                 dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), UTC)]).fetchone()[0]
        n_findings = con.execute("SELECT count(*) FROM findings WHERE day = ? AND NOT suppressed", [DAY]).fetchone()[0]
    out = tmp / "ecs.ndjson"
    assert cli.main(["export", "--format", "ecs", "--start", DAY.isoformat(), "--end", DAY.isoformat(),
                     "--connector", "acme", "--out", str(out)]) == 0
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(docs) == n_records + n_findings
    events = [d for d in docs if d["event"]["kind"] == "event"]
    assert len(events) == n_records and all(d["event"]["action"] and d["@timestamp"] for d in events)
    assert all(d["source"]["ip"] in d["related"]["ip"] for d in events if "source" in d)
    assert sum(d["event"]["kind"] == "alert" for d in docs) == n_findings
    assert cli.main(["export", "--format", "ocsf", "--start", DAY.isoformat(), "--end", DAY.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == n_records + n_findings
    bad = [e for e in map(json.loads, lines) if errors(e)]
    assert not bad
    assert cli.main(["export", "--format", "ecs", "--start", "2026-03-10", "--end", "2026-03-01"]) == 2


def test_region_is_checked(monkeypatch):
    monkeypatch.setenv("JIRA_ETL_LAKE_REGION", "eu-west-2")
    assert security_lake.region() == "eu-west-2"
    monkeypatch.setenv("JIRA_ETL_LAKE_REGION", "../../etc")
    with pytest.raises(ValueError, match="JIRA_ETL_LAKE_REGION"):
        security_lake.region()
