"""The time-cursor walk over real HTTP: completeness under caps, clamps, bursts and faults."""

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import day_window, fast_retry
from jira_etl.sources.client import JiraClient, UnexpectedResponseError
from jira_etl.records import created_ms
from jira_etl.sources.slicing import fetch_window
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import Faults, JiraSimulator

UTC = dt.timezone.utc
DAY = dt.date(2026, 3, 2)


def ids(records):
    return [r["id"] for r in records]


def assert_exact(records, truth):
    got = ids(records)
    assert len(got) == len(set(got)), "duplicates returned"
    assert set(got) == truth, f"missing {len(truth - set(got))}, extra {len(set(got) - truth)}"


def test_many_pages_newest_first(sim, site, client):
    past = dt.datetime.now(UTC).date() - dt.timedelta(days=3)
    while past.weekday() >= 5:  # a busy weekday
        past -= dt.timedelta(days=1)
    start, end = day_window(past)
    sim.faults.limit_clamp = 25
    records, stats = fetch_window(client, start, end)
    truth = site.truth_ids(start, end)
    assert len(truth) > 50
    assert_exact(records, truth)
    assert ids(records) == sorted(ids(records), reverse=True)
    assert stats.requests > len(truth) / 25


def make_site():
    data = SiteData.empty(seed=3)
    return data


def test_inclusive_boundaries_and_adjacent_days():
    data = make_site()
    d0 = dt.datetime.combine(DAY, dt.time(), UTC)
    edge = [
        d0,  # first instant of DAY
        d0 + dt.timedelta(days=1) - dt.timedelta(milliseconds=1),  # last instant of DAY
        d0 - dt.timedelta(milliseconds=1),  # last instant of the day before
        d0 + dt.timedelta(days=1),  # first instant of the next day
        d0 + dt.timedelta(hours=12),
    ]
    recs = [data.add_record(t) for t in edge]
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        by_day = {}
        for day in (DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)):
            got, _ = fetch_window(c, *day_window(day))
            by_day[day] = set(ids(got))
    assert by_day[DAY] == {recs[0]["id"], recs[1]["id"], recs[4]["id"]}
    assert by_day[DAY - dt.timedelta(days=1)] == {recs[2]["id"]}
    assert by_day[DAY + dt.timedelta(days=1)] == {recs[3]["id"]}


def test_thousands_in_one_millisecond_with_offset_cap():
    data = make_site()
    t = dt.datetime.combine(DAY, dt.time(13, 0), UTC)
    data.add_records([{"created": t} for _ in range(3500)])
    data.add_records([{"created": t - dt.timedelta(seconds=s)} for s in range(1, 300)])
    with JiraSimulator(data, faults=Faults(offset_cap=5000, limit_clamp=1000)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    assert_exact(records, data.truth_ids(*day_window(DAY)))
    assert stats.instants_drained == 1


def test_day_larger_than_offset_cap_is_complete():
    data = SiteData(seed=5, daily_volume=12_000, start=DAY - dt.timedelta(days=2))
    with JiraSimulator(data, faults=Faults(offset_cap=2000)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
        assert_exact(records, data.truth_ids(*day_window(DAY)))
        # An offset-only walker stops at the cap: the symptom is nothing but empty pages.
        naive, off = [], 0
        while True:
            page = c.audit_page(*day_window(DAY), offset=off)
            if not page:
                break
            naive += page
            off += len(page)
    assert len(naive) <= 2000 < len(records)


def test_non_utc_offsets_decide_by_instant():
    data = SiteData.empty(seed=4)
    d0 = dt.datetime.combine(DAY, dt.time(), UTC)
    inside = data.add_record(d0 + dt.timedelta(minutes=10), tz_offset="+0530")  # 05:40+0530 on DAY
    before = data.add_record(d0 - dt.timedelta(minutes=10), tz_offset="+0530")  # 05:20+0530 on DAY, UTC day before
    assert inside["created"].endswith("+0530")
    with JiraSimulator(data) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        got, _ = fetch_window(c, *day_window(DAY))
    assert set(ids(got)) == {inside["id"]}
    assert created_ms(before) < created_ms(inside)


@pytest.mark.parametrize("mode", ["instance", "short"])
def test_total_is_never_trusted(mode):
    data = SiteData(seed=8, daily_volume=3000, start=DAY - dt.timedelta(days=1))
    with JiraSimulator(data, faults=Faults(total_mode=mode, limit_clamp=300)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, _ = fetch_window(c, *day_window(DAY))
    assert_exact(records, data.truth_ids(*day_window(DAY)))


def moving_clock(start: dt.datetime):
    """'Now' advances one millisecond per look, so arrivals land inside the running day."""
    ticks = itertools.count()
    return lambda: start + dt.timedelta(milliseconds=next(ticks))


def test_arrivals_while_paging_never_duplicate_or_lose():
    data = SiteData(seed=9, daily_volume=2500, start=DAY - dt.timedelta(days=1),
                    clock=moving_clock(dt.datetime.combine(DAY, dt.time(23, 59), UTC)))
    truth_before = data.truth_ids(*day_window(DAY), respect_clock=True)
    with JiraSimulator(data, faults=Faults(arrivals_per_request=3, limit_clamp=200)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    got = ids(records)
    assert len(got) == len(set(got))
    assert truth_before <= set(got)
    assert set(got) <= data.truth_ids(*day_window(DAY))
    assert set(got) - truth_before  # records created while paging were really there


def test_records_appearing_at_the_cursor_forever_fail_loudly():
    data = SiteData.empty(seed=2)
    data.add_record(dt.datetime.combine(DAY, dt.time(12), UTC))
    with JiraSimulator(data, faults=Faults(arrivals_per_request=2, arrivals_in_window=True)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        with pytest.raises(UnexpectedResponseError, match="already-read"):
            fetch_window(c, *day_window(DAY))


def test_concurrent_slices_equal_sequential(sim, site, client):
    past = dt.datetime.now(UTC).date() - dt.timedelta(days=2)
    start, end = day_window(past)
    seq, _ = fetch_window(client, start, end)
    par, stats = fetch_window(client, start, end, slices=7, concurrency=4)
    assert ids(seq) == ids(par)
    assert stats.windows_split >= 6  # 7 slices, and any split of a busy one on the way


def test_idle_threads_split_a_busy_slice():
    """All of a day's records in one hour and a single starting slice: idle threads
    split the busy walk, and the records are still exactly the day's."""
    data = make_site()
    t = dt.datetime.combine(DAY, dt.time(9, 0), UTC)
    data.add_records([{"created": t + dt.timedelta(milliseconds=37 * i)} for i in range(6000)])
    data.add_records([{"created": t + dt.timedelta(minutes=20)} for _ in range(700)])  # a bulk instant
    truth = data.truth_ids(*day_window(DAY))
    with JiraSimulator(data, faults=Faults(limit_clamp=100)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY), slices=1, concurrency=4, limit=100)
    got = ids(records)
    assert len(got) == len(set(got)) and set(got) == truth
    assert stats.windows_split > 0, "no walk was split"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    times=st.lists(st.integers(min_value=-3, max_value=86_400_000 + 2), min_size=0, max_size=400),
    burst=st.integers(min_value=0, max_value=1500),
    burst_at=st.integers(min_value=0, max_value=86_399_999),
    clamp=st.integers(min_value=1, max_value=1000),
    cap=st.one_of(st.none(), st.integers(min_value=1600, max_value=6000)),
    slices=st.integers(min_value=1, max_value=5),
    threads=st.integers(min_value=1, max_value=3),
    fault_every=st.integers(min_value=0, max_value=4),
    arrivals=st.integers(min_value=0, max_value=2),
)
def test_property_extracted_ids_equal_truth(times, burst, burst_at, clamp, cap, slices, threads, fault_every, arrivals):
    """Random timestamps with heavy collisions, caps, clamps, faults and arrivals: exact truth."""
    d0 = dt.datetime.combine(DAY, dt.time(), UTC)
    if arrivals:
        # Arrivals come at "now", inside the day being paged: the day is still running.
        data = SiteData.empty(seed=1, clock=moving_clock(d0 + dt.timedelta(hours=23, minutes=59)))
        times = [t for t in times if t < 86_300_000]
        # The truth below ignores the clock: nothing may lie in the clock's future.
        burst_at = min(burst_at, 86_299_999)
    else:
        data = SiteData.empty(seed=1)
    # Collisions: reuse a few instants heavily.
    data.add_records([{"created": d0 + dt.timedelta(milliseconds=t - t % 997 if t % 3 == 0 else t)} for t in times])
    data.add_records([{"created": d0 + dt.timedelta(milliseconds=burst_at)} for _ in range(burst)])
    # Keep each example to a few hundred requests: tiny clamps only on small sets.
    clamp = max(clamp, (len(times) + burst) // 150)
    faults = Faults(limit_clamp=clamp, offset_cap=cap,
                    rate_limit_every=fault_every if fault_every == 2 else 0,
                    error_5xx_every=fault_every if fault_every == 3 else 0,
                    truncated_json_every=fault_every if fault_every == 4 else 0,
                    max_faults=6, arrivals_per_request=arrivals)
    truth = data.truth_ids(*day_window(DAY))
    with JiraSimulator(data, faults=faults) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry(max_retries=8))
        # min_split=1: idle threads split busy walks as often as they can.
        records, _ = fetch_window(c, *day_window(DAY), slices=slices, concurrency=threads, min_split=1)
    got = ids(records)
    assert len(got) == len(set(got))
    assert truth <= set(got), f"lost {len(truth - set(got))}"
    # Anything extra must be an arrival planted while paging, inside the window.
    assert set(got) - truth <= data.truth_ids(*day_window(DAY))
    if not arrivals:
        assert set(got) == truth


def test_instant_beyond_offset_cap_never_hides_older_records():
    """A millisecond holding more records than the offset cap cannot be listed whole by
    any client; the walk must still collect everything around it and say so."""
    data = make_site()
    t = dt.datetime.combine(DAY, dt.time(13, 0), UTC)
    burst = data.add_records([{"created": t} for _ in range(2500)])
    older = data.add_records([{"created": t - dt.timedelta(minutes=m)} for m in range(1, 200)])
    newer = data.add_records([{"created": t + dt.timedelta(minutes=m)} for m in range(1, 50)])
    with JiraSimulator(data, faults=Faults(offset_cap=2000)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        records, stats = fetch_window(c, *day_window(DAY))
    got = set(ids(records))
    assert {r["id"] for r in older + newer} <= got
    assert len(got & {r["id"] for r in burst}) == 2000
    assert stats.instants_possibly_capped == 1


def test_fan_out_is_sized_by_the_probe_page():
    from jira_etl.sources.walk import RECORDS_PER_SLICE, _slices_for_volume

    day_ms = 86_400_000
    t0 = dt.datetime.combine(DAY, dt.time(12), UTC)
    def page(n, span_s):
        return [{"created": (t0 + dt.timedelta(seconds=span_s * i / n)).isoformat()} for i in range(n)]
    assert _slices_for_volume(page(999, 60), 1000, day_ms, 64) == 1  # not full: a small window
    # 1000 records in one hour of a 24-hour window: about 24,000 records.
    assert _slices_for_volume(page(1000, 3600), 1000, day_ms, 64) == -(-24_000 // RECORDS_PER_SLICE)
    assert _slices_for_volume(page(1000, 60), 1000, day_ms, 64) == 64  # a huge day: capped


def test_windows_walked_together_each_complete_and_closed_after_its_slices():
    """Several days share the threads: each day's records land in that day only, and a
    day is reported complete only after every one of its slices was handed over."""
    from jira_etl.sources.slicing import iter_windows

    data = make_site()
    days = [DAY + dt.timedelta(days=i) for i in range(4)]
    for n, day in enumerate(days):
        t = dt.datetime.combine(day, dt.time(10, 0), UTC)
        data.add_records([{"created": t + dt.timedelta(milliseconds=53 * i)} for i in range(300 * (n + 1))])
        data.add_records([{"created": dt.datetime.combine(day, dt.time(), UTC)}])  # midnight edge
    with JiraSimulator(data, faults=Faults(limit_clamp=50, error_5xx_every=7, max_faults=5)) as sim:
        c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
        got = {i: set() for i in range(len(days))}
        closed = []
        for i, sink, _ in iter_windows(c, [day_window(d) for d in days], slices=3, concurrency=4,
                                       limit=50, probe=True, min_split=1):
            assert i not in closed, "a slice arrived after its window was reported complete"
            if sink is None:
                closed.append(i)
            else:
                assert not (got[i] & set(sink)), "an id came from two slices"
                got[i] |= set(sink)
    assert sorted(closed) == list(range(len(days)))
    for i, day in enumerate(days):
        assert got[i] == data.truth_ids(*day_window(day)), f"day {day} differs"
