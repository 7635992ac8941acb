"""Webhook, Slack and Teams delivery against a real HTTP server on loopback: retries
with backoff across passes, exactly once, 4xx refused and not retried, a hanging
receiver bounded by the timeout, updates when a group grows, no URL anywhere."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
from delivery_helpers import DAY, MALLORY, VICTIMS, at
from receivers import HttpReceiver

from jira_etl import cli
from jira_etl.delivery.config import configured_destinations
from jira_etl.delivery.ledger import run_pass

SECRET = "/hook/T0SECRET/B0SECRET/tok3n-must-not-leak"


def deliver(capsys, *extra) -> tuple[int, str]:
    code = cli.main(["deliver", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def ledger(site) -> list[dict]:
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        cur = con.execute("SELECT * FROM deliveries ORDER BY finding_id, destination")
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def assert_no_secret(site, *texts):
    for t in texts:
        assert "SECRET" not in t and "tok3n" not in t
    for row in ledger(site):
        assert "SECRET" not in repr(row) and "tok3n" not in repr(row)
    blob = Path(site.warehouse.path).read_bytes()
    assert b"tok3n" not in blob and b"T0SECRET" not in blob


def test_flaky_receiver_gets_every_finding_exactly_once(findings_site, monkeypatch, capsys):
    wanted = findings_site.wanted("medium")
    assert len(wanted) >= 5
    with HttpReceiver(fail_first=3) as rx:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(SECRET))
        outputs, codes = [], []
        for _ in range(10):
            code, out = deliver(capsys)
            codes.append(code)
            outputs.append(out)
            if code == 0:
                break
        assert codes[0] == 1 and "HTTP 503" in outputs[0] and "pending for webhook" in outputs[0]
        assert cli.main(["status"]) == 0
        status_row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| webhook"))
        delivered, pending, failed = (int(c) for c in status_row.split("|")[2:5])
        assert pending == len(wanted) - delivered and failed == 0  # status counts the never-tried ones too
        assert codes[-1] == 0, outputs
        ids = [body["id"] for _, body in rx.received]
        assert sorted(ids) == sorted(wanted)  # every one, exactly once, nothing below medium
        assert rx.answers.count(503) == 3
        n = len(rx.answers)
        code, out = deliver(capsys)
        assert code == 0 and len(rx.answers) == n  # a second pass sends nothing
        # Re-running the day's evaluation replaces `findings`, never the ledger.
        findings_site.evaluate()
        code, out = deliver(capsys)
        assert code == 0 and len(rx.answers) == n
    body = rx.received[0][1]
    for key in ("id", "detection_id", "title", "severity", "connector", "actor_id", "actor_name", "source_ip",
                "message", "first_seen", "last_seen", "record_ids", "count"):
        assert key in body
    rows = ledger(findings_site)
    assert {r["status"] for r in rows} == {"delivered"} and {r["destination"] for r in rows} == {"webhook"}
    assert_no_secret(findings_site, *outputs, out)


def test_4xx_is_reported_and_not_retried_until_asked(findings_site, monkeypatch, capsys):
    wanted = findings_site.wanted("high")
    monkeypatch.setenv("JIRA_ETL_ALERT_MIN_SEVERITY", "high")
    with HttpReceiver(status=404) as rx:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(SECRET))
        code, out = deliver(capsys)
        assert code == 1 and "failed for webhook" in out and "HTTP 404" in out
        assert len(rx.answers) == len(wanted)  # each refused once, the pass went on
        for _ in range(2):
            code, out2 = deliver(capsys)
            assert code == 1
        assert len(rx.answers) == len(wanted)  # refused ones are not retried
        assert cli.main(["status"]) == 0
        status = capsys.readouterr().out
        assert "destination" in status and "webhook" in status and "404" in status
        rx.status = 200
        code, out3 = deliver(capsys, "--retry-failed")
        assert code == 0
        assert sorted(b["id"] for _, b in rx.received) == sorted(wanted)
    assert_no_secret(findings_site, out, out2, out3, status)


def test_hanging_receiver_cannot_stall_a_pass(findings_site, monkeypatch):
    monkeypatch.setenv("JIRA_ETL_DELIVERY_TIMEOUT_SECONDS", "0.5")
    with HttpReceiver(delay_s=20) as rx:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(SECRET))
        t0 = time.monotonic()
        result = run_pass(findings_site.warehouse, configured_destinations())
        elapsed = time.monotonic() - t0
    # One timeout, then the destination is left alone for the rest of the pass.
    assert elapsed < 10, elapsed
    assert result.sent == 0 and not result.clean
    assert result.pending["webhook"] == len(findings_site.wanted("medium"))
    assert any("no answer within 0.5 s" in e for e in result.errors)
    assert [r["attempts"] for r in ledger(findings_site)] == [1]


def test_unreachable_receiver_error_is_scrubbed(findings_site, monkeypatch, capsys):
    with HttpReceiver() as rx:
        url = rx.url(SECRET)
    monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", url)  # the server is gone: connection refused
    code, out = deliver(capsys)
    assert code == 1 and "connection failed" in out
    assert_no_secret(findings_site, out)
    assert "connection failed" in ledger(findings_site)[0]["last_error"]


def test_group_growth_is_sent_once_more_as_an_update(findings_site, monkeypatch, capsys):
    monkeypatch.setenv("JIRA_ETL_ALERT_MIN_SEVERITY", "high")
    with HttpReceiver() as rx:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(SECRET))
        assert deliver(capsys)[0] == 0
        first = {b["id"]: b for _, b in rx.received}
        mass = next(b for b in first.values() if b["detection_id"] == "mass_user_removal")
        assert mass["update"] is False and mass["count"] == 12
        for i in range(3):  # the burst goes on: the group grows
            findings_site.remove_from_group(at(DAY, 14, 12 + i), VICTIMS[13 + i], actor=MALLORY)
        findings_site.evaluate()
        assert deliver(capsys)[0] == 0
        later = [b for _, b in rx.received[len(first):]]
        assert [(b["id"], b["update"], b["count"]) for b in later] == [(mass["id"], True, 15)]
        assert deliver(capsys)[0] == 0 and len(rx.received) == len(first) + 1
    row = next(r for r in ledger(findings_site) if r["finding_id"] == mass["id"])
    assert row["updates_sent"] == 1 and row["sent_count"] == 15


def test_slack_and_teams_from_delivery_yaml(findings_site, monkeypatch, capsys, tmp_path):
    with HttpReceiver() as rx:
        monkeypatch.setenv("SOC_SLACK_URL", rx.url("/slack" + SECRET))
        monkeypatch.setenv("SOC_TEAMS_URL", rx.url("/teams" + SECRET))
        (tmp_path / "delivery.yaml").write_text(
            "destinations:\n"
            "  - {name: soc_slack, type: slack, url_env: SOC_SLACK_URL, min_severity: high}\n"
            "  - {name: soc_teams, type: teams, url_env: SOC_TEAMS_URL, min_severity: medium, connectors: [acme]}\n"
            "  - {name: other, type: teams, url_env: SOC_TEAMS_URL, connectors: [not_this_one]}\n")
        code, out = deliver(capsys)
        assert code == 0, out
    slack = [b for p, b in rx.received if p.startswith("/slack")]
    teams = [b for p, b in rx.received if p.startswith("/teams")]
    assert len(slack) == len(findings_site.wanted("high")) and len(teams) == len(findings_site.wanted("medium"))
    assert all(b["text"].startswith("[HIGH]") or b["text"].startswith("[CRITICAL]") for b in slack)
    assert slack[0]["blocks"][0]["text"]["type"] == "mrkdwn"
    att = teams[0]["attachments"][0]
    assert teams[0]["type"] == "message" and att["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert att["content"]["type"] == "AdaptiveCard" and att["content"]["body"][0]["weight"] == "Bolder"
    assert_no_secret(findings_site, out)


def test_destinations_repr_and_errors_hold_no_url(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", "https://hooks.example.com" + SECRET)
    dests = configured_destinations()
    assert "SECRET" not in repr(dests) and "tok3n" not in repr(dests)
    monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", "http://hooks.example.com" + SECRET)  # plain http off loopback
    with pytest.raises(Exception) as err:
        configured_destinations()
    assert "JIRA_ETL_WEBHOOK_URL" in str(err.value) and "tok3n" not in str(err.value)
