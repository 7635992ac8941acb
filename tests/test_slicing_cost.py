"""What the walk costs in requests (issue 17): the probe page is the newest slice's first
page, a slice ends with one empty page once the server has proven it answers at that
offset, and a busy day costs close to its records / page size. Completeness is the
other paging tests'; here it is checked beside the counts."""

import datetime as dt

from support import day_window, fast_retry
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator
from jira_etl.sources.client import JiraClient
from jira_etl.sources.slicing import fetch_window, iter_windows

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 2)


class CountingSite(SiteData):
    served = 0

    def page_texts(self, *args, **kw):
        total, texts = super().page_texts(*args, **kw)
        self.served += len(texts)
        return total, texts


def spread_site(n: int, seconds: int = 86_000) -> CountingSite:
    data = CountingSite(generated=False, start=dt.date(2000, 1, 2))
    t0 = dt.datetime.combine(DAY, dt.time(), UTC) + dt.timedelta(seconds=200)
    data.add_records([{"created": t0 + dt.timedelta(milliseconds=i * seconds * 1000 // n)} for i in range(n)])
    return data


def walk_burst_under_cap(before: list[dt.timedelta]):
    """1,500 records in one millisecond of DAY and one record `before` it at each offset,
    walked from a server answering no deeper than offset 1,200: (the older records'
    ids, the ids walked, the walk's stats)."""
    data = CountingSite(generated=False, start=dt.date(2000, 1, 2))
    t = dt.datetime.combine(DAY, dt.time(13), UTC)
    data.add_records([{"created": t} for _ in range(1500)])
    older = data.add_records([{"created": t - d} for d in before])
    with JiraSimulator(data, faults=Faults(offset_cap=1200)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    return {r["id"] for r in older}, {r["id"] for r in records}, stats


def test_a_walk_costs_its_pages_and_a_short_page_ends_it():
    data = spread_site(2500, seconds=3600)
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    assert {r["id"] for r in records} == data.truth_ids(*day_window(DAY))
    # 1000 + 1000 + 500: the 500 are fewer than the server's page size, from a depth it
    # has answered, so nothing is left (the API's own advice) and no empty page is asked for.
    assert stats.requests == c.stats.requests == 3
    assert data.served == 2500


def test_a_server_clamping_its_pages_is_walked_whole_a_short_page_only_ends_it_below_its_size():
    """A page size is learnt, never assumed: pages of 100 from a server that clamps
    `limit` are full pages there, and only a page under 100 ends the walk."""
    data = spread_site(2550, seconds=3600)
    with JiraSimulator(data, faults=Faults(limit_clamp=100)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    assert {r["id"] for r in records} == data.truth_ids(*day_window(DAY))
    # 25 pages of 100, then 50: the 50 end it (no empty page).
    assert stats.requests == c.stats.requests == 26


def test_a_short_page_cut_by_an_offset_cap_does_not_end_the_walk():
    """1,500 records in one millisecond, the server answering no deeper than offset 1,200:
    the page at offset 1,000 holds 200 (short, but cut by the cap, deeper than anything
    answered before), so the walk goes on below the instant and loses nothing older."""
    older, got, stats = walk_burst_under_cap([dt.timedelta(seconds=s) for s in range(1, 400)])
    assert older <= got
    assert stats.instants_possibly_capped == 1


def test_the_probe_page_is_kept_and_a_busy_day_costs_close_to_its_pages():
    data = spread_site(30_000)
    truth = data.truth_ids(*day_window(DAY))
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        got, requests = set(), 0
        for _, sink, stats in iter_windows(c, [day_window(DAY)], slices=64, concurrency=1, probe=True):
            if sink is not None:
                assert not (got & set(sink))
                got |= set(sink)
                requests += stats.requests
    assert got == truth
    assert requests == c.stats.requests  # the probe is counted in the walk's stats
    assert data.served == 30_000  # nothing served twice: the probe page was not fetched again
    # 30 pages; the probe sizes 3 slices of ~10k, each ending with a short page (and an
    # empty one while the server's page size is not yet known).
    assert requests <= 30 + 2 * 3 + 1, requests


def test_an_empty_page_at_an_unproven_offset_still_steps_below_the_instant():
    """A burst at the window's oldest instant read by offset up to a cap: the empty page
    at the cap is not taken for the end (nothing ever came back from that deep)."""
    older, got, stats = walk_burst_under_cap([dt.timedelta(minutes=m) for m in range(1, 30)])
    assert older <= got
    assert stats.instants_possibly_capped == 1
