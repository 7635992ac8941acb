"""mass_deletion: fire / near-miss / clean (cases moved from test_behavioural_rules.py)."""

from __future__ import annotations

import datetime as dt

from det_helpers import DAY, VICTIMS, at, days_before, user_item

RULE = "mass_deletion"

DELETIONS = [("Project deleted", "projects", {"name": "Old", "typeName": "PROJECT"}),
             ("Workflow deleted", "workflows", {"name": "Bug Workflow", "typeName": "WORKFLOW"}),
             ("Permission scheme deleted", "permissions", {"name": "PS", "typeName": "SCHEME"}),
             ("Field Configuration scheme deleted", "fields", {"name": "FS", "typeName": "SCHEME"}),
             ("Custom field deleted", "fields", {"name": "Team", "typeName": "CUSTOM_FIELD"})]


def ids(findings):
    return [f["record_ids"] for f in findings]


def test_mass_deletion_fires_at_5_within_an_hour(site):
    rids = [site.add(at(DAY, 11, 12 * i), s, c, obj=o) for i, (s, c, o) in enumerate(DELETIONS)]
    site.load()
    found = site.run(RULE)
    assert ids(found) == [rids] and found[0]["severity"] == "high"


def test_mass_deletion_near_misses(site):
    for i, (s, c, o) in enumerate(DELETIONS[:4]):                 # 4 deletions
        site.add(at(DAY, 9, i), s, c, obj=o)
    for i, (s, c, o) in enumerate(DELETIONS):                     # 5 over 64 minutes
        site.add(at(DAY, 13, 0) + dt.timedelta(minutes=16 * i), s, c, obj=o)
    for i in range(5):                                            # 5 user deletions are not config
        site.add(at(DAY, 18, i), "User deleted", "user management", obj=user_item(VICTIMS[i]))
    site.load()
    assert site.run(RULE) == []


def test_clean_day_with_one_deletion_is_silent(site):
    site.routine(days_before(DAY, 10) + [DAY], per_day=8, summary="Workflow updated", category="workflows")
    s, c, o = DELETIONS[1]
    site.add(at(DAY, 15), s, c, obj=o)
    site.load()
    assert site.run(RULE) == []


def test_message_samples_whole_names_in_order(site):
    """12 objects deleted: the message names the first 10 (sorted) whole, then "...", so a
    re-run writes the same text (it was an unordered list cut at 300 characters, which
    changed between runs and ended in half a name)."""
    names = [f"Workflow {c} of the long-named migration project" for c in "LKJIHGFEDCBA"]
    for i, name in enumerate(names):
        site.add(at(DAY, 11, 4 * i), "Workflow deleted", "workflows", obj={"name": name, "typeName": "WORKFLOW"})
    site.load()
    [found] = site.run(RULE)
    sample = found["message"].split("UTC (", 1)[1].rsplit(")", 1)[0].split(", ")
    assert sample == [f"WORKFLOW {n}" for n in sorted(names)[:10]] + ["..."]


def test_a_burst_belongs_to_the_day_it_began(site):
    """A burst that began before midnight, even hours before (deletions every 12 minutes
    from 19:00 to 01:00), is the previous day's, not reported again on the next day
    (the rule looks back three windows, not a day)."""
    t0 = at(DAY - dt.timedelta(days=1), 19)
    rids = [site.add(t0 + dt.timedelta(minutes=12 * i), "Workflow deleted", "workflows",
                     obj={"name": f"Flow {i}", "typeName": "WORKFLOW"}) for i in range(31)]
    site.load()
    assert site.run(RULE) == []
    [before] = site.run(RULE, DAY - dt.timedelta(days=1))
    assert sorted(before["record_ids"]) == sorted(rids[:25])  # up to 23:48 (ids sort by id, not time)
