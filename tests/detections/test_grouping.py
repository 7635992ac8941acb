"""Grouping: a rule's records become one finding per gap session of the same actor and
object, with a stable finding id (issue 13 items 1 and 3). The bulk-removal test
fails on the rules before grouping (2,500 findings for one click)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from det_helpers import ADMIN_IP, ALICE, BOB, DAY, MALLORY, at, user_item

from jira_etl.detections import catalogue, grouping, overrides, runner

USERS = [f"acct-user-{i:04d}" for i in range(2500)]


def bulk_remove(site, n: int, group: str = "jira-users", actor: str = ALICE, start=None, step_ms: int = 40) -> list[int]:
    """One click in the admin UI: n removals a few milliseconds apart."""
    t0 = start or at(DAY, 10, 15)
    return [site.remove_from_group(t0 + dt.timedelta(milliseconds=step_ms * i), USERS[i], group, actor=actor)
            for i in range(n)]


def stored(site) -> list[tuple]:
    with duckdb.connect(str(site.warehouse.path), read_only=True) as con:
        return con.execute("SELECT finding_id, detection_id, count, first_seen, last_seen, record_ids, message "
                           "FROM findings ORDER BY detection_id, first_seen").fetchall()


def evaluate_and_store(site, days=(DAY,)) -> list[dict]:
    with site.warehouse.reader() as con:
        found = runner.evaluate(con, site.connector, list(days))
    with site.warehouse.writer() as con:
        runner.replace_findings(con, site.connector, list(days), found)
    return found


def test_a_bulk_removal_of_2500_users_is_one_finding(site):
    ids = bulk_remove(site, 2500)
    site.load()
    found = site.run("user_removed_from_group")
    assert len(found) == 1  # before grouping: 2,500 findings, one per record
    f = found[0]
    assert f["count"] == 2500 and f["record_ids"] == sorted(ids) and f["rule_rows"] == 2500
    assert f["first_seen"] == at(DAY, 10, 15) and f["last_seen"] == at(DAY, 10, 15) + dt.timedelta(milliseconds=40 * 2499)
    assert f["message"].startswith(f"{ALICE} removed 2,500 users from group jira-users between 10:15 and 10:16 UTC")
    assert "(sample: acct-user-0000, acct-user-0001, acct-user-0002, acct-user-0003, acct-user-0004, ...)" in f["message"]
    assert f["object"] == "GROUP jira-users" and f["remote_address"] == ADMIN_IP
    assert f["group_key"] == f"{ALICE}|GROUP jira-users"
    # The whole catalogue over the day: still one finding of this detection.
    assert [x["detection_id"] for x in site.run_all()].count("user_removed_from_group") == 1


def test_sessions_are_cut_by_the_gap_and_split_by_actor_and_group(site):
    a = bulk_remove(site, 5, start=at(DAY, 9, 0))
    b = [site.remove_from_group(at(DAY, 9, 50 + i), USERS[100 + i], "jira-users") for i in range(3)]  # 46 min later
    c = [site.remove_from_group(at(DAY, 12, i), USERS[200 + i], "jira-users") for i in range(2)]      # 2 h later
    d = [site.remove_from_group(at(DAY, 9, 1 + i), USERS[300 + i], "developers") for i in range(2)]   # other group
    e = [site.remove_from_group(at(DAY, 9, 2 + i), USERS[400 + i], "jira-users", actor=BOB) for i in range(2)]
    site.load()
    found = site.run("user_removed_from_group")
    assert sorted(f["record_ids"] for f in found) == sorted([sorted(a + b), sorted(c), sorted(d), sorted(e)])
    assert len({f["finding_id"] for f in found}) == 4
    assert all(f["count"] == len(f["record_ids"]) for f in found)
    # a window of 30 minutes from detections.yaml splits a+b; 0 makes every record a finding
    assert len(site_run(site, "user_removed_from_group", group_window_minutes=30)) == 5
    assert len(site_run(site, "user_removed_from_group", group_window_minutes=0)) == 14
    # grouping by actor only merges the two groups of the same session
    by_actor = site_run(site, "user_removed_from_group", group_by=["actor"])
    assert sorted(len(f["record_ids"]) for f in by_actor) == [2, 2, 10]


def site_run(site, detection_id: str, **grouping_override) -> list[dict]:
    det = catalogue.catalogue_by_id()[detection_id]
    settings = overrides.Settings(grouping={detection_id: grouping_override})
    with site.warehouse.reader() as con:
        return runner.run_detection(con, det, site.connector, DAY, settings)


def test_a_single_record_keeps_the_rules_own_message(site):
    rid = site.remove_from_group(at(DAY, 10), "acct-leaver", "developers")
    site.load()
    (f,) = site.run("user_removed_from_group")
    assert f["record_ids"] == [rid] and f["count"] == 1
    assert f["message"] == f"{ALICE} removed acct-leaver from group developers"


def test_bulk_user_creation_groups_by_actor(site):
    ids = [site.create_user(at(DAY, 2, 0, i), f"acct-joiner-{i}", actor=MALLORY) for i in range(30)]
    site.load()
    (f,) = site.run("new_user_created")
    assert f["record_ids"] == sorted(ids) and "created 30 users" in f["message"]
    assert "acct-joiner-0, acct-joiner-1" in f["message"] and f["object"] == "30 objects"


def test_removals_from_one_project_group_by_project(site):
    ids = [site.add(at(DAY, 11, i), "User removed from project", "projects", obj=user_item(f"acct-p{i}"),
                    assoc=[{"id": "10001", "name": "Payments", "typeName": "PROJECT"}]) for i in range(4)]
    other = site.add(at(DAY, 11, 5), "User removed from project", "projects", obj=user_item("acct-q"),
                     assoc=[{"id": "10002", "name": "Website", "typeName": "PROJECT"}])
    site.load()
    found = site.run("user_removed_from_project")
    assert sorted(f["record_ids"] for f in found) == [sorted(ids), [other]]
    assert any("removed 4 users from project Payments" in f["message"] for f in found)


def test_finding_ids_are_stable_across_re_runs_and_a_growing_group_keeps_its_id(site):
    first = bulk_remove(site, 40, start=at(DAY, 10, 0), step_ms=30_000)  # 10:00 .. 10:19:30
    site.load()
    evaluate_and_store(site)
    before = [r for r in stored(site) if r[1] == "user_removed_from_group"]
    assert len(before) == 1 and before[0][2] == 40
    # re-run of the same day: same rows, same id
    evaluate_and_store(site)
    assert [r for r in stored(site) if r[1] == "user_removed_from_group"] == before
    # the 15-minute refresh later that day: the group has grown (within the window)
    more = [site.remove_from_group(at(DAY, 11, i), USERS[1000 + i], "jira-users") for i in range(10)]
    site.load()
    evaluate_and_store(site)
    after = [r for r in stored(site) if r[1] == "user_removed_from_group"]
    assert len(after) == 1
    fid, _, count, first_seen, last_seen, record_ids, message = after[0]
    assert fid == before[0][0]
    assert count == 50 and record_ids == sorted(first + more)
    assert first_seen == before[0][3] and last_seen == at(DAY, 11, 9) and last_seen > before[0][4]
    assert "removed 50 users" in message


def test_the_id_hashes_detection_connector_key_and_lowest_record():
    fid = grouping.finding_id("d", "c", "k", [7, 3, 9])
    assert fid == grouping.finding_id("d", "c", "k", [3, 11]) and len(fid) == 24
    for other in (grouping.finding_id("e", "c", "k", [3]), grouping.finding_id("d", "x", "k", [3]),
                  grouping.finding_id("d", "c", "j", [3]), grouping.finding_id("d", "c", "k", [4])):
        assert other != fid
    t = dt.datetime(2026, 3, 10, tzinfo=dt.timezone.utc)
    assert grouping.finding_id("d", "c", "k", [], t) != grouping.finding_id("d", "c", "k", [], t + dt.timedelta(days=1))


def test_behavioural_rules_keep_one_finding_per_burst(site):
    """Window 0 by default for behavioural rules: one burst of mass_deletion, one finding."""
    ids = [site.add(at(DAY, 15, i), "Project deleted", "projects", obj={"name": f"P{i}", "typeName": "PROJECT"})
           for i in range(6)]
    site.load()
    (f,) = site.run("mass_deletion")
    assert f["record_ids"] == sorted(ids) and f["rule_rows"] == 1 and f["count"] == 6
    assert catalogue.catalogue_by_id()["mass_deletion"].grouping().window_minutes == 0


def test_header_keys_are_validated(tmp_path):
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(catalogue.RULES_DIR, rules)
    path = rules / "workflow_scheme_copied.sql"
    text = path.read_text().replace("-- group_message: '{actor} copied", "-- group_window_minutes: -5\n"
                                    "-- group_by: [actor, colour]\n-- group_message: '{who} copied")
    path.write_text(text)
    with pytest.raises(catalogue.CatalogueError) as err:
        catalogue.load_catalogue(rules)
    text = str(err.value)
    assert "group_window_minutes must be a whole number" in text
    assert "unknown field(s) ['colour']" in text and "unknown placeholder '{who}'" in text


def test_rule_rows_ids_are_normalized_before_sessions_and_merges():
    # Rows as a rule may return them: ids unsorted, repeated, with a NULL. Sessions
    # order rows by their lowest id, merges join rows naming the same first record,
    # and a finding lists each id once, sorted; the caller's rows are left as they were.
    t = dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone.utc)
    rows = [
        {"actor_account_id": "a", "first_seen": t, "last_seen": t, "object": "P", "record_ids": [9, 7, None, 9]},
        {"actor_account_id": "a", "first_seen": t, "last_seen": t, "object": "P", "record_ids": [8, 2]},
        {"actor_account_id": "a", "first_seen": t, "last_seen": t, "object": "P", "record_ids": [5, 2]},
    ]
    alone = grouping.group_rows([rows[0]], grouping.GroupSpec(), "T", "d")
    assert alone[0]["record_ids"] == [7, 9] and alone[0]["count"] == 2
    merged = grouping.group_rows(rows, grouping.GroupSpec(window_minutes=0), "T", "d")
    # rows 2 and 3 share their first record (2): one finding; row 1 alone
    assert [f["record_ids"] for f in merged] == [[2, 5, 8], [7, 9]]
    session = grouping.group_rows(rows, grouping.GroupSpec(), "T", "d")
    assert [f["record_ids"] for f in session] == [[2, 5, 7, 8, 9]] and session[0]["count"] == 5
    assert rows[0]["record_ids"] == [9, 7, None, 9]
