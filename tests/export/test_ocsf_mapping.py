"""The OCSF mapping, record by record: every record shape the simulator makes lands in
exactly one class and validates against OCSF 1.3.0; hand-made wrong events do not."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from ocsf_helpers import errors

from jira_etl.export import ecs, ocsf
from jira_etl.normalize import to_table
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.scenarios import PLANTERS

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 10)


def simulated_records() -> list[dict]:
    """A realistic day plus every planted scenario, as rows of `audit_records`."""
    site = SiteData(seed=5)
    for i, planter in enumerate(p for name, p in PLANTERS.items() if name != "audit_gap"):
        planter(site, dt.datetime.combine(DAY, dt.time(8 + i % 12, i), UTC))
    raw = [r for k in range(45) for r in site.generate_day(DAY - dt.timedelta(days=k))]
    return to_table(raw, "acme").to_pylist()


@pytest.fixture(scope="module")
def records():
    return simulated_records()


EXPECTED = {  # summary -> (class, activity)
    "User created": (3001, 1), "User deleted": (3001, 6), "User's password changed": (3001, 3),
    "User added to group": (3006, 3), "User removed from group": (3006, 4), "Group created": (3006, 6),
    "Global permission added": (3006, 1), "Global permission deleted": (3006, 2),
    "Project roles changed": (3005, 1), "User removed from project": (3005, 2),
    "Project created": (3004, 1), "Project updated": (3004, 3), "Project deleted": (3004, 4),
    "Workflow scheme copied": (3004, 1), "Permission scheme added to project": (3004, 3),
    "Issue Security scheme deleted": (3004, 4), "Custom field created": (3004, 1),
}


def test_every_record_validates_in_exactly_one_class(records):
    assert len(records) > 100
    seen = {}
    for rec in records:
        ev = ocsf.record_event(rec)
        assert ev["class_uid"] in (3001, 3002, 3004, 3005, 3006)
        assert ev["type_uid"] == ev["class_uid"] * 100 + ev["activity_id"]
        assert ev["metadata"]["uid"] == str(rec["id"]) and isinstance(ev["time"], int)
        problems = errors(ev)
        assert not problems, (rec["summary"], problems[:3], ev)
        seen.setdefault(rec["summary"], (ev["class_uid"], ev["activity_id"]))
    for summary, want in EXPECTED.items():
        if summary in seen:
            assert seen[summary] == want, summary
    assert {c for c, _ in seen.values()} >= {3001, 3004, 3005, 3006}


def test_unmapped_keeps_what_ocsf_has_no_field_for(records):
    rec = next(r for r in records if r["changed_values"] and r["associated_items"])
    ev = ocsf.record_event(rec)
    assert ev["unmapped"]["category"] == rec["category"] and ev["unmapped"]["connector"] == "acme"
    assert len(ev["unmapped"]["changed_values"]) == len(rec["changed_values"])
    assert len(ev["unmapped"]["associated_items"]) == len(rec["associated_items"])


def test_wrong_events_are_rejected(records):
    good = ocsf.record_event(next(r for r in records if r["summary"] == "User added to group"))
    assert errors(good) == []
    no_profile = copy.deepcopy(good)
    no_profile["metadata"].pop("profiles")  # actor without the host profile (OCSF <= 1.3)
    missing_group = copy.deepcopy(good)
    missing_group.pop("group")
    time_as_text = dict(good, time="2026-03-10T10:00:00Z")
    bad_type_uid = dict(good, activity_id=42)
    extra_field = dict(good, jira_summary="not an OCSF attribute")
    for bad in (no_profile, missing_group, time_as_text, bad_type_uid, extra_field):
        assert errors(bad), bad


def test_findings_validate_as_detection_finding_2004():
    f = {"finding_id": "abc123", "connector": "acme", "day": DAY, "detection_id": "new_site_admin",
         "title": "User added to an admin group", "severity": "high", "actor_account_id": "acct-1",
         "actor_name": "Ann Admin", "first_seen": dt.datetime(2026, 3, 10, 10, tzinfo=UTC),
         "last_seen": dt.datetime(2026, 3, 10, 10, 5, tzinfo=UTC), "object": "GROUP site-admins",
         "remote_address": "203.0.113.7", "message": "Ann added Bob to site-admins", "record_ids": [11, 12],
         "count": 2, "group_key": "acct-1|GROUP site-admins", "evaluated_at": dt.datetime.now(UTC)}
    ev = ocsf.finding_event(f, "T1098.007 Account Manipulation")
    assert errors(ev) == [] and ev["class_uid"] == 2004 and ev["type_uid"] == 200401 and ev["severity_id"] == 4
    assert ev["finding_info"]["uid"] == "abc123" and [r["uid"] for r in ev["finding_info"]["related_events"]] == ["11", "12"]
    broken = copy.deepcopy(ev)
    broken["finding_info"].pop("title")
    assert errors(broken)
    doc = ecs.finding_document(f, "T1098.007 Account Manipulation")
    assert doc["event"]["kind"] == "alert" and doc["rule"]["id"] == "new_site_admin"
    assert doc["threat"]["technique"][0]["id"] == "T1098.007"


def test_ecs_documents_follow_elastics_jira_field_names(records):
    rec = next(r for r in records if r["summary"] == "User added to group" and r["remote_address"])
    doc = ecs.record_document(rec)
    assert doc["event"]["kind"] == "event" and doc["event"]["id"] == str(rec["id"])
    assert doc["event"]["action"] == "User added to group" and doc["event"]["category"] == ["iam"]
    assert doc["user"]["id"] == rec["author_account_id"] and doc["source"]["ip"] == rec["remote_address"]
    assert rec["remote_address"] in doc["related"]["ip"] and rec["author_account_id"] in doc["related"]["user"]
    assert doc["jira"]["audit"]["type"] == {"action": rec["summary"], "category": rec["category"]}
    assert doc["group"]["name"] == rec["object_item_name"]
    assert doc["@timestamp"].endswith("Z")
    perm = next(r for r in records if r["summary"] == "Global permission added")
    assert ecs.record_document(perm)["event"]["category"] == ["iam", "configuration"]
    proj = next(r for r in records if r["summary"] == "Project updated")
    assert ecs.record_document(proj)["event"]["category"] == ["configuration"]
