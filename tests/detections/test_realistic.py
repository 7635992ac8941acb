"""The realistic background (simulator/scenarios/realistic.py): a site's habits over 30
days with nothing planted, run through the whole pipeline (simulator over real HTTP, one
Dagster range run, DuckDB), must stay within the targets of issue 13: on average at
most 3 findings a day over all rules, at most 1 behavioural finding in all. When a target
is missed the assertion lists every finding with its message.

The test thins the data (fewer records of the simulator's own background, a nightly sync
of 40 instead of 200): the habits are what matter. The full-size run is
`python -m jira_etl.detections.evaluation_run --only background`.
"""

from __future__ import annotations

import collections
import datetime as dt

import pytest

from jira_etl.detections.evaluation_run import MAX_BEHAVIOURAL, MAX_PER_DAY, run_background
from jira_etl.simulator.data import parse_created
from jira_etl.simulator.scenarios.realistic import RealisticSite, Shape

SHAPE = Shape(seed=11, base_fraction=0.4, sync_size=40)
START = dt.date(2026, 6, 1)


def _records(site: RealisticSite, first: dt.date, last: dt.date) -> list[dict]:
    out = []
    d = first
    while d <= last:
        out += site.generate_day(d)
        d += dt.timedelta(days=1)
    return out


def _hours(records, account_id):
    return {parse_created(r["created"]).hour for r in records if r.get("authorAccountId") == account_id}


def test_the_background_holds_the_habits():
    site = RealisticSite(SHAPE, START)
    recs = _records(site, site.eval_start, site.eval_end)
    india = _hours(recs, site.india.accountId)
    assert india and min(india) == 3 and max(india) <= 12
    night = _hours(recs, site.night.accountId)
    assert night and night <= set(range(0, 6)) | {22, 23} and {0, 23} <= night
    sync = [r for r in recs if "authorAccountId" not in r and r["summary"] == "User removed from group"]
    assert sync and {parse_created(r["created"]).hour for r in sync} == {2}
    service_hours = {(parse_created(r["created"]).date(), parse_created(r["created"]).hour)
                     for r in recs if r.get("authorAccountId") == site.service.accountId}
    assert len(service_hours) == 24 * SHAPE.days  # every hour of every day
    removals = collections.Counter(r.get("authorAccountId") for r in recs if r["summary"] == "User removed from group")
    assert max(n for a, n in removals.items() if a) >= 50  # one bulk removal by an admin
    saturday = [r for r in recs if parse_created(r["created"]).weekday() == 5
                and parse_created(r["created"]).hour >= 22]
    assert len(saturday) >= SHAPE.maintenance_n
    joined = [r for r in recs if r["summary"] == "User added to group"
              and r["objectItem"]["name"] == "jira-administrators"]
    assert {r["associatedItems"][0]["id"] for r in joined} == {site.joiner1.accountId, site.joiner2.accountId}
    weekday = collections.Counter(parse_created(r["created"]).weekday() >= 5 for r in recs)
    assert weekday[True] / 8 < weekday[False] / 22  # weekends are quieter


def test_another_seed_is_other_data():
    a = RealisticSite(SHAPE, START)
    b = RealisticSite(Shape(seed=12, base_fraction=0.4, sync_size=40), START)
    assert a.plan != b.plan
    assert a.generate_day(START) != b.generate_day(START)
    assert RealisticSite(SHAPE, START).generate_day(START) == a.generate_day(START)  # deterministic


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIRA_ETL_START_DATE", "2026-01-01")
        return run_background(SHAPE, tmp_path_factory.mktemp("realistic"), START, quiet=True)


def test_at_most_three_findings_a_day_and_the_expected_ones_found(background):
    listing = background.listing()
    assert background.per_day <= MAX_PER_DAY, f"{background.per_day:.2f} findings a day:\n{listing}"
    by_det = collections.Counter(f["detection_id"] for f in background.findings)
    # the site's own admin work that the single-event rules exist for
    assert by_det["new_site_admin"] == 2, listing            # the two new admins
    assert by_det["user_removed_from_group"] == 1, listing   # the admin's bulk removal, one finding
    bulk = next(f for f in background.findings if f["detection_id"] == "user_removed_from_group")
    assert bulk["count"] == SHAPE.bulk_size and bulk["actor_name"]
    # the nightly directory sync's removals (no author) are no finding: 240 before the rule skipped them
    assert not [f for f in background.findings if f["detection_id"] in ("user_removed_from_group", "mass_user_removal")
                and not f["actor_account_id"]], listing


def test_at_most_one_behavioural_finding_the_bulk_removal(background):
    """The 09:00 routine, the Saturday window, the India and night-shift admins, the
    service account, the sync and the new admins are each actor's routine; only the
    admin's bulk removal of 60 (a real mass removal) is behavioural."""
    beh = background.behavioural
    assert len(beh) <= MAX_BEHAVIOURAL, f"{len(beh)} behavioural findings:\n{background.listing()}"
    assert [(f["detection_id"], f["count"]) for f in beh] == [("mass_user_removal", SHAPE.bulk_size)], \
        background.listing()


def test_the_targets_and_the_table_count_what_they_say():
    """The runner's verdict without a pipeline: 2 behavioural findings or 4 a day miss."""
    from jira_etl.detections.evaluation_run import Background, background_table

    days = [START + dt.timedelta(days=i) for i in range(2)]
    sections = {"mass_user_removal": "behavioural", "new_site_admin": "baseline"}

    def f(det, day, msg):
        return {"detection_id": det, "day": day, "message": msg, "record_ids": [1, 2], "count": 2}

    ok = Background([f("mass_user_removal", days[0], "bulk"), f("new_site_admin", days[1], "promo")], days, sections)
    assert ok.problems() == [] and ok.per_day == 1.0
    table = background_table(ok)
    assert "| mass_user_removal" in table and "1.00" in table and "2026-06-02" in table
    two = Background(ok.findings + [f("mass_user_removal", days[1], "again")], days, sections)
    assert two.problems() == ["2 behavioural findings (at most 1)"]
    assert "again" in two.listing() and "x2" in two.listing()
    busy = Background([f("new_site_admin", days[0], str(i)) for i in range(7)], days, sections)
    assert busy.problems() == ["3.50 findings a day (at most 3.0)"]
