"""`jira-etl findings` and `jira-etl detections` on a real warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from det_helpers import DAY, MALLORY, at, group_item, user_item

from jira_etl import cli
from jira_etl.detections import catalogue
from jira_etl.detections import runner


def _warehouse_with_findings(site):
    site.add(at(DAY, 10), "Global permission added", "permissions", obj={"name": "Administer Jira"}, actor=MALLORY)
    site.add_to_group(at(DAY, 11), "acct-x", "site-admins", actor=MALLORY)
    site.add(at(DAY - dt.timedelta(days=3), 10), "User created", "user management", obj=user_item("acct-y"))
    site.load()
    days = [DAY - dt.timedelta(days=3), DAY]
    with site.warehouse.reader() as con:
        found = runner.evaluate(con, site.connector, days)
    with site.warehouse.writer() as con:
        runner.replace_findings(con, site.connector, days, found)
        runner.replace_findings(con, site.connector, days, found)       # idempotent
    assert group_item


def test_findings_json_severity_and_since(site, monkeypatch, capsys):
    _warehouse_with_findings(site)
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(site.warehouse.data_dir))
    assert cli.main(["findings", "--since", "2026-01-01", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["detection_id"] for r in rows) == ["global_permission_added", "new_site_admin", "new_user_created"]
    assert cli.main(["findings", "--since", "2026-01-01", "--severity", "high", "--format", "json"]) == 0
    assert [r["detection_id"] for r in json.loads(capsys.readouterr().out)] == ["new_site_admin"]
    assert cli.main(["findings", "--since", DAY.isoformat(), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["detection_id"] for r in rows} == {"global_permission_added", "new_site_admin"}
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that no cell wraps (test_suppression tests narrow ones)
    assert cli.main(["findings", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert "| new_site_admin" in out and "3 finding(s)" in out and "| count |" in out


def test_findings_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(tmp_path / "nowhere"))
    assert cli.main(["findings"]) == 2
    assert "no warehouse" in capsys.readouterr().err
    assert cli.main(["findings", "--since", "yesterday"]) == 2


def test_detections_lists_the_catalogue(capsys):
    assert cli.main(["detections"]) == 0
    out = capsys.readouterr().out
    for det in catalogue.load_catalogue():
        assert det.id in out
    assert "hunt_daily_summary" in out
    assert cli.main(["detections", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 21 and {"id", "severity", "rationale", "parameters", "attack"} <= set(rows[0])
