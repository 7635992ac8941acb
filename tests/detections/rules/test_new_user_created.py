"""new_user_created: fire / near-miss / clean, and the onboarding batch of a sync."""

from __future__ import annotations

from det_helpers import DAY, at, days_before, user_item

RULE = "new_user_created"


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_fires_on_a_user_account(site):
    rid = site.create_user(at(DAY, 10), "acct-joiner")
    site.load()
    found = site.run(RULE)
    assert ids(found) == [[rid]] and found[0]["severity"] == "low"


def test_near_miss_other_object_types_and_updates(site):
    site.add(at(DAY, 10, 1), "User created", "user management", obj={"name": "svc", "typeName": "APP"})
    site.add(at(DAY, 10, 2), "User updated", "user management", obj=user_item("acct-joiner"))
    site.load()
    assert site.run(RULE) == []


def test_onboarding_by_the_directory_sync_is_one_finding_a_night(site):
    """The realistic background's Monday onboarding: the sync (no author) provisions a
    few accounts within a second or two. A joiner should match a ticket, so the rule
    keeps firing, once for the batch."""
    batch = [site.create_user(at(DAY, 2, 11, i), f"acct-joiner-{i}", actor=None, ip=None) for i in range(3)]
    site.load()
    found = site.run(RULE)
    assert [sorted(f["record_ids"]) for f in found] == [sorted(batch)]


def test_clean_day_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=6)
    site.add(at(DAY, 11), "User updated", "user management", obj=user_item("acct-x"),
             changed=[{"fieldName": "Full name", "changedTo": "X"}])
    site.load()
    assert site.run(RULE) == []
