"""Allow-lists of detections.yaml (issue 13 item 4): a suppressed finding is kept with
suppressed = true and the reason, counted, never dropped; `jira-etl findings` hides it
unless --all, and the table fits the terminal."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from det_helpers import ALICE, BOB, DAY, MALLORY, at

from jira_etl import cli
from jira_etl.detections import overrides, runner

SYNC = "acct-directory-sync"


def write_config(tmp_path, monkeypatch, text: str):
    cfg = tmp_path / "detections.yaml"
    cfg.write_text(text)
    monkeypatch.setenv(overrides.CONFIG_ENV, str(cfg))
    return overrides.load_settings()


def plant(site):
    """A nightly sync removing 200 members, an admin's own removal, a grant from the VPN."""
    sync = [site.remove_from_group(at(DAY, 2, 0, i // 10, (i % 10) * 100), f"acct-leaver-{i:03d}", "jira-users",
                                   actor=SYNC, ip="10.20.0.5") for i in range(200)]
    own = site.remove_from_group(at(DAY, 11), "acct-x", "developers", actor=BOB, ip="198.51.100.7")
    grant = site.add(at(DAY, 12), "Global permission added", "permissions", actor=ALICE, ip="10.8.1.2",
                     obj={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"})
    late = site.add(at(DAY, 15), "Global permission added", "permissions", actor=MALLORY, ip="192.0.2.66",
                    obj={"name": "Administer Jira", "typeName": "GLOBAL_PERMISSION"})
    site.load()
    return sync, own, grant, late


CONFIG = """
detections:
  user_removed_from_group:
    suppress:
      - actors: [acct-directory-sync]
        groups: [jira-users]
        reason: nightly directory sync removes leavers
  global_permission_added:
    suppress:
      - networks: [10.8.0.0/16, "2001:db8::/32"]
        objects: [Administer Jira]
        reason: granted from the admins' VPN during onboarding
        expires: {expires}
"""


def message_column(out: str) -> str:
    """The table's last column (the message), its wrapped lines joined, without spaces."""
    cells = [line.rstrip("|").split("|")[-1] for line in out.splitlines() if line.startswith("|")]
    return "".join("".join(cells).split())


def squeezed(text: str) -> str:
    return "".join(text.split())


def evaluate(site, settings):
    with site.warehouse.reader() as con:
        found = runner.evaluate(con, site.connector, [DAY], settings)
    with site.warehouse.writer() as con:
        runner.replace_findings(con, site.connector, [DAY], found)
    return found


def test_matching_findings_are_kept_marked_with_the_reason(site, tmp_path, monkeypatch):
    sync, own, grant, late = plant(site)
    settings = write_config(tmp_path, monkeypatch, CONFIG.format(expires=DAY.isoformat()))
    found = {tuple(f["record_ids"][:1]): f for f in evaluate(site, settings)}
    s = found[(min(sync),)]
    assert s["suppressed"] and s["suppression_reason"] == "nightly directory sync removes leavers"
    assert s["count"] == 200  # grouped first, then suppressed as one finding
    assert not found[(own,)]["suppressed"]  # another actor, another group
    assert found[(grant,)]["suppressed"] and "VPN" in found[(grant,)]["suppression_reason"]
    assert not found[(late,)]["suppressed"]  # same permission, outside the networks
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        rows = con.execute("SELECT detection_id, suppressed, suppression_reason, count FROM findings "
                           "WHERE detection_id IN ('user_removed_from_group', 'global_permission_added') "
                           "ORDER BY detection_id, first_seen").fetchall()
    assert sum(1 for r in rows if r[1]) == 2 and len(rows) == 4  # kept, never dropped


def test_an_expired_entry_no_longer_applies(site, tmp_path, monkeypatch):
    _, _, grant, _ = plant(site)
    settings = write_config(tmp_path, monkeypatch, CONFIG.format(expires=(DAY - dt.timedelta(days=1)).isoformat()))
    found = {tuple(f["record_ids"][:1]): f for f in evaluate(site, settings)}
    assert not found[(grant,)]["suppressed"] and found[(grant,)]["suppression_reason"] is None


def test_every_criterion_of_an_entry_must_match(site, tmp_path, monkeypatch):
    sync, *_ = plant(site)
    settings = write_config(tmp_path, monkeypatch, """
detections:
  user_removed_from_group:
    suppress:
      - {actors: [acct-directory-sync], groups: [developers], reason: wrong group}
      - {actors: [Someone Else], networks: [10.0.0.0/8], reason: wrong actor}
""")
    found = evaluate(site, settings)
    assert not any(f["suppressed"] for f in found)
    settings = write_config(tmp_path, monkeypatch, """
detections:
  user_removed_from_group:
    suppress:
      - {actors: [ACCT-DIRECTORY-SYNC], networks: [10.20.0.0/24], reason: "case-insensitive actor, network"}
""")
    found = evaluate(site, settings)
    assert [f["record_ids"][0] for f in found if f["suppressed"]] == [min(sync)]


def test_findings_hides_suppressed_unless_all_and_fits_100_columns(site, tmp_path, monkeypatch, capsys):
    sync, own, grant, late = plant(site)
    found = evaluate(site, write_config(tmp_path, monkeypatch, CONFIG.format(expires=DAY.isoformat())))
    total = len(found)
    assert sum(f["suppressed"] for f in found) == 2 and total > 2
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(site.warehouse.data_dir))
    monkeypatch.setenv("COLUMNS", "100")
    assert cli.main(["findings", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    words = " ".join(out.split())  # the footer wraps to the terminal too
    assert f"({total - 2} finding(s)" in words and "2 suppressed by detections.yaml not shown (--all shows them)" in words
    assert "nightly" not in out and squeezed("removed 200 users from group") not in message_column(out)  # hidden
    assert cli.main(["findings", "--since", "2026-01-01", "--all"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    assert f"({total} finding(s)" in " ".join(out.split())
    messages = message_column(out)
    assert squeezed("[suppressed: nightly directory sync removes leavers] acct-directory-sync removed 200 users "
                    "from group jira-users") in messages
    assert cli.main(["findings", "--since", "2026-01-01", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == total - 2 and not any(r["suppressed"] for r in rows)
    assert cli.main(["findings", "--since", "2026-01-01", "--format", "json", "--all"]) == 0
    rows = json.loads(capsys.readouterr().out)
    sync_row = next(r for r in rows if r["actor_account_id"] == SYNC and r["detection_id"] == "user_removed_from_group")
    assert sync_row["suppressed"] and sync_row["count"] == 200 and len(sync_row["record_ids"]) == 200


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_a_long_message_wraps_to_the_terminal(site, monkeypatch, capsys, columns):
    for i in range(300):
        site.remove_from_group(at(DAY, 9, 0, i // 10), f"acct-a-very-long-account-name-{i:03d}", "jira-users")
    site.load()
    evaluate(site, overrides.Settings())
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(site.warehouse.data_dir))
    monkeypatch.setenv("COLUMNS", str(columns))
    assert cli.main(["findings", "--since", "2026-01-01"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= columns, out
    expected = squeezed("removed 300 users from group jira-users")
    if out.startswith("+"):  # the table
        assert "| 300 " in out and expected in message_column(out)
    else:  # too narrow for the table: each finding stacked
        assert "count 300" in out and expected in squeezed(out)
