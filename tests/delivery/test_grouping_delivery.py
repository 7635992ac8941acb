"""Grouped findings through delivery, to the real receivers on loopback (issue 13 item 3
with issue 14): a group of removals is delivered as one message, a group that grows
after delivery is sent once more as an update under the same id, a re-run without
growth sends nothing, and records after the window are a new finding."""

from __future__ import annotations

import duckdb
from delivery_helpers import DAY, MALLORY, VICTIMS, at
from receivers import HttpReceiver, SyslogReceiver
from test_delivery_syslog import RFC5424, received_findings

from jira_etl import cli

HOOK = "/hook/grouping"


def grouped(site) -> dict:
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        cur = con.execute("SELECT finding_id, count, record_ids FROM findings "
                          "WHERE detection_id = 'user_removed_from_group' ORDER BY first_seen")
        return {fid: (count, ids) for fid, count, ids in cur.fetchall()}


def all_ids(site) -> dict:
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        return dict(con.execute("SELECT finding_id, record_ids FROM findings").fetchall())


def deliver(capsys) -> int:
    code = cli.main(["deliver"])
    capsys.readouterr()
    return code


def test_a_grown_group_is_delivered_once_more_as_an_update(findings_site, monkeypatch, capsys):
    site = findings_site
    (fid, (count, ids)), = grouped(site).items()
    assert count == 12 and len(ids) == 12  # the 12 removals of the plant: one finding
    monkeypatch.setenv("JIRA_ETL_ALERT_MIN_SEVERITY", "low")
    with HttpReceiver() as rx, SyslogReceiver() as syslog:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(HOOK))
        monkeypatch.setenv("JIRA_ETL_SYSLOG_URL", f"tcp://127.0.0.1:{syslog.port}")
        assert deliver(capsys) == 0
        bodies = [b for _, b in rx.received]
        mine = [b for b in bodies if b["detection_id"] == "user_removed_from_group"]
        assert [(b["id"], b["count"], b["update"], len(b["record_ids"])) for b in mine] == [(fid, 12, False, 12)]
        assert "removed 12 users from group developers" in mine[0]["message"]
        assert len({b["id"] for b in bodies}) == len(bodies)  # one message per finding
        syslog.wait_for(len(bodies))
        first_syslog = len(syslog.messages)
        assert first_syslog == len(bodies)

        before = all_ids(site)
        for i in range(3):  # 20 minutes later, the same admin goes on: the group grows
            site.remove_from_group(at(DAY, 14, 30 + i), VICTIMS[13 + i], actor=MALLORY)
        site.evaluate()
        after = all_ids(site)
        grown = {f for f, ids in after.items() if f in before and set(ids) - set(before[f])}
        assert fid in grown and grouped(site)[fid][0] == 15  # same id, count updated
        assert deliver(capsys) == 0
        later = [b for _, b in rx.received[len(bodies):]]
        assert {b["id"] for b in later} == grown and all(b["update"] for b in later)
        assert next(b for b in later if b["id"] == fid)["count"] == 15
        syslog.wait_for(first_syslog + len(grown))
        updates = [m for m in syslog.messages[first_syslog:] if RFC5424.match(m).group(5) == b"finding_update"]
        assert len(updates) == len(grown) == len(syslog.messages) - first_syslog
        assert any(f["detection_id"] == "user_removed_from_group" for f in received_findings(updates))

        n = len(rx.received)
        site.evaluate()  # a re-run of the day without growth
        assert deliver(capsys) == 0 and len(rx.received) == n

        site.remove_from_group(at(DAY, 17, 0), VICTIMS[20], actor=MALLORY)  # hours later: a new finding
        site.evaluate()
        assert len(grouped(site)) == 2 and grouped(site)[fid][0] == 15
        assert deliver(capsys) == 0
        new = [b for _, b in rx.received[n:] if b["detection_id"] == "user_removed_from_group"]
        assert [(b["update"], b["count"]) for b in new] == [(False, 1)] and new[0]["id"] != fid


def test_a_suppressed_group_is_kept_but_never_delivered(findings_site, monkeypatch, capsys, tmp_path):
    from delivery_helpers import runner

    from jira_etl.detections import overrides

    site = findings_site
    cfg = tmp_path / "detections.yaml"
    cfg.write_text(f"detections:\n  user_removed_from_group:\n    suppress:\n"
                   f"      - {{actors: [{MALLORY}], groups: [developers], reason: team reorganisation}}\n")
    settings = overrides.load_settings(cfg)
    with site.warehouse.reader() as con:
        found = runner.evaluate(con, site.connector, [DAY], settings)
    with site.warehouse.writer() as con:
        runner.replace_findings(con, site.connector, [DAY], found)
    (fid, (count, _)), = grouped(site).items()
    assert count == 12
    monkeypatch.setenv("JIRA_ETL_ALERT_MIN_SEVERITY", "low")
    with HttpReceiver() as rx:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url(HOOK))
        assert deliver(capsys) == 0
    sent = {b["id"] for _, b in rx.received}
    assert sent and fid not in sent  # the rest is delivered, the suppressed group is not
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        assert con.execute("SELECT suppressed, suppression_reason FROM findings WHERE finding_id = ?",
                           [fid]).fetchone() == (True, "team reorganisation")
