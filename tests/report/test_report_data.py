"""The report, triage, open findings and collection health follow the data: each test
changes a private copy of the demo month's warehouse and sees the change."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import dagster as dg
import pytest
from report_helpers import BIN

from jira_etl import settings
from jira_etl.defs.assets.analyst import HEALTH_CHECK, OPEN_CHECK, analyst_assets
from jira_etl.cli import main as cli_main
from jira_etl.detections import runner
from jira_etl.report.render import build_report
from jira_etl.defs.resources import StorageResource
from jira_etl.storage.triage import open_findings
from jira_etl.storage.warehouse import Warehouse

UTC = dt.timezone.utc


@pytest.fixture
def copy(demo_month, tmp_path, monkeypatch):
    data = demo_month.copy(tmp_path / "data")
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(data))
    return Warehouse(data)


def status_cells(html: str) -> list[str]:
    row = re.search(r'<tr class="connector" data-connector="demo">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def finding_ids(wh: Warehouse, severity: str) -> list[str]:
    with wh.reader() as con:
        return [r[0] for r in con.execute("SELECT finding_id FROM findings WHERE connector = 'demo' AND severity = ? "
                                          "ORDER BY first_seen", [severity]).fetchall()]


def test_report_changes_with_triage_failures_and_missing_days(demo_month, copy):
    start, end = demo_month.start, demo_month.end
    before = build_report(copy, ["demo"], start, end).html
    assert status_cells(before)[1] == "Active" and status_cells(before)[6] == "30 / 30"
    critical = finding_ids(copy, "critical")[0]
    assert f'data-finding="{critical}"' in before and "st-acknowledged\">" not in before

    assert cli_main(["findings", "ack", critical[:10], "--note", "known change ticket SEC-12", "--by", "ana"]) == 0
    lost = end - dt.timedelta(days=3)
    with copy.writer() as con:
        lost_records = con.execute("SELECT count(*) FROM audit_records WHERE connector = 'demo' "
                                   "AND CAST(created AS DATE) = ?", [lost]).fetchone()[0]
        con.execute("DELETE FROM audit_records WHERE connector = 'demo' AND CAST(created AS DATE) = ?", [lost])
        con.execute("DELETE FROM collected_partitions WHERE connector = 'demo' AND day = ?", [lost])
    copy.record_attempt("demo", False, end, end, "JiraHTTPError: 503 Service Unavailable after 6 retries")
    after = build_report(copy, ["demo"], start, end).html

    cells = status_cells(after)
    assert cells[1] == "Failing" and cells[6] == "28 / 30" and cells[7] == "2"  # the failed day is a gap too
    assert "503 Service Unavailable after 6 retries" in cells[8]
    assert f"{lost}: never collected" in after and f"{end}: failed: JiraHTTPError" in after
    block = after[after.index(f'data-finding="{critical}"'):]
    block = block[:block.index("</details>")]
    assert "acknowledged" in block and "by ana" in block and "SEC-12" in block
    total = lambda html: int(re.search(r"([\d,]+) records in the period", html).group(1).replace(",", ""))  # noqa: E731
    assert lost_records > 0 and total(before) - total(after) == lost_records


def test_triage_survives_reevaluation_and_drives_open_findings(demo_month, copy):
    highs = finding_ids(copy, "high") + finding_ids(copy, "critical")
    assert len(highs) >= 3
    with copy.reader() as con:
        assert {r["finding_id"] for r in open_findings(con, "demo")} == set(highs)
        day = con.execute("SELECT day FROM findings WHERE finding_id = ?", [highs[0]]).fetchone()[0]
    assert cli_main(["findings", "resolve", highs[0], "--note", "expected"]) == 0
    assert cli_main(["findings", "false-positive", highs[1]]) == 0
    assert cli_main(["findings", "ack", highs[2]]) == 0
    # Re-evaluate the first finding's day as a run would: its rows are replaced whole.
    with copy.reader() as con:
        found = runner.evaluate(con, "demo", [day])
    with copy.writer() as con:
        runner.replace_findings(con, "demo", [day], found)
        assert con.execute("SELECT count(*) FROM findings WHERE finding_id = ?", [highs[0]]).fetchone()[0] == 1
        status = dict(con.execute("SELECT finding_id, status FROM finding_triage").fetchall())
    assert status == {highs[0]: "resolved", highs[1]: "false_positive", highs[2]: "acknowledged"}
    with copy.reader() as con:
        still = {r["finding_id"]: r["status"] for r in open_findings(con, "demo")}
    assert highs[0] not in still and highs[1] not in still and still[highs[2]] == "acknowledged"
    assert cli_main(["findings", "reopen", highs[0]]) == 0
    with copy.reader() as con:
        assert {r["finding_id"]: r["status"] for r in open_findings(con, "demo")}[highs[0]] == "open"


def test_unknown_finding_id_is_a_clear_error(copy, capsys):
    assert cli_main(["findings", "ack", "0000000000000000"]) == 2
    assert "no finding with id" in capsys.readouterr().err


def _analyst_run(copy, day, instance):
    result = dg.materialize(analyst_assets("demo"), resources={"storage": StorageResource(data_dir=str(copy.data_dir))},
                            instance=instance, partition_key=day.isoformat())
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    mats = {e.step_materialization_data.materialization.asset_key.to_user_string():
            e.step_materialization_data.materialization.metadata for e in result.get_asset_materialization_events()}
    return checks, mats


def test_open_findings_and_health_assets_follow_triage_and_failures(demo_month, copy, instance):
    checks, mats = _analyst_run(copy, demo_month.end, instance)
    alerts = finding_ids(copy, "high") + finding_ids(copy, "critical")
    assert not checks[OPEN_CHECK].passed and checks[OPEN_CHECK].severity == dg.AssetCheckSeverity.ERROR
    table = mats["demo/open_findings"]["open_findings"].value
    assert [r.data["severity"] for r in table.records][0] == "critical" and len(table.records) == len(alerts)
    assert checks[HEALTH_CHECK].passed and mats["demo/collection_health"]["state"].value == "Active"
    report = mats["demo/report"]["path"].value
    assert report.endswith(f"reports/demo/{demo_month.end}.html")

    for fid in alerts:
        assert cli_main(["findings", "resolve", fid]) == 0
    copy.record_attempt("demo", False, demo_month.end, demo_month.end, "JiraAuthError: 401 Unauthorized")
    checks, mats = _analyst_run(copy, demo_month.end, instance)
    assert checks[OPEN_CHECK].passed and mats["demo/open_findings"]["dagster/row_count"].value == 0
    assert not checks[HEALTH_CHECK].passed and checks[HEALTH_CHECK].severity == dg.AssetCheckSeverity.ERROR
    assert mats["demo/collection_health"]["state"].value == "Failing"
    assert "401 Unauthorized" in mats["demo/collection_health"]["last_error"].value


def test_partitions_start_at_the_demos_first_day(demo_month, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(demo_month.data_dir))
    monkeypatch.delenv("JIRA_ETL_START_DATE", raising=False)
    assert settings.start_date() == demo_month.start
    # A fresh process, as `make dev` loads the definitions: the demo's 30 days and today.
    env = demo_month.env() | {"PYTHONPATH": ""}
    out = subprocess.run([str(BIN.parent / "python"), "-c", "from jira_etl.defs.partitions import daily_partitions as p; "
                          "k = p.get_partition_keys(); print(len(k), k[0])"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["31", str(demo_month.start)], out.stderr[-2000:]
    # Once a real site is configured, the demo's marker no longer counts.
    monkeypatch.setenv("JIRA_SITE", "acme")
    assert settings.start_date() == dt.date.fromisoformat(settings.DEFAULT_START_DATE)


def test_report_command(demo_month, tmp_path):
    out_file = tmp_path / "r.html"
    out = subprocess.run([str(BIN), "report", "--connector", "demo", "--days", "7", "--out", str(out_file)],
                         env=demo_month.env(), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    first = demo_month.end - dt.timedelta(days=6)
    assert f"report {first} .. {demo_month.end}: {out_file}" in out.stdout and "Active" in out.stdout
    assert status_cells(out_file.read_text())[6] == "7 / 7"
    bad = subprocess.run([str(BIN), "report", "--start", "2026-02-30"], env=demo_month.env(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--start: '2026-02-30' is not a date" in bad.stderr
    listing = subprocess.run([str(BIN), "findings", "--since", str(demo_month.start), "--severity", "high"],
                             env=demo_month.env(), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "finding_id" in listing.stdout and "| open" in listing.stdout


def test_never_collected_connector_says_so(tmp_path):
    wh = Warehouse(tmp_path / "empty")
    html = build_report(wh, ["acme"], dt.date(2026, 11, 1), dt.date(2026, 11, 30)).html
    assert status_cells(html.replace('data-connector="acme"', 'data-connector="demo"'))[1] == "Never collected"
    assert "has never been collected" in html and "30 / 30" not in html
