"""A rule whose format() meets a NULL (a record without an object name) still yields a
finding with a message: the findings table requires one, and a NULL once failed the
whole insert (seen on Data Center records)."""

from __future__ import annotations

from det_helpers import ALICE, DAY, at, user_item


def test_finding_without_object_name_has_a_message(site):
    rid = site.add(at(DAY, 10, 0), "User removed from group", "group management", actor=ALICE,
                   obj={"typeName": "GROUP"}, assoc=[user_item("acct-victim-01")])
    site.load()
    found = site.run("user_removed_from_group")
    assert [f["record_ids"] for f in found] == [[rid]]
    assert found[0]["message"], found[0]
    with site.warehouse.writer() as con:
        from jira_etl.detections import runner
        runner.replace_findings(con, site.connector, [DAY], found)
        n = con.execute("SELECT count(*) FROM findings WHERE message IS NOT NULL").fetchone()[0]
    assert n == 1
