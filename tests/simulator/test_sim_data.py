import time
from datetime import date, datetime, timedelta, timezone

from jira_etl.simulator.data import (ADMIN_GROUPS, SiteData, id_for, parse_created,
                                     render_created, to_ms_floor)

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def clock():
    return NOW


def test_determinism_per_seed():
    a = SiteData(seed=7, clock=clock).generate_day(date(2026, 3, 2))
    b = SiteData(seed=7, clock=clock).generate_day(date(2026, 3, 2))
    c = SiteData(seed=8, clock=clock).generate_day(date(2026, 3, 2))
    assert a == b
    assert a != c


def test_realistic_volumes_and_shape():
    s = SiteData(seed=7, clock=clock)
    for d in [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]:
        recs = s.generate_day(d)
        if d.weekday() >= 5:
            assert 10 <= len(recs) <= 40
        else:
            assert 150 <= len(recs) <= 400
        ids = [r["id"] for r in recs]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        for r in recs:
            assert {"id", "summary", "created", "category", "eventSource",
                    "objectItem"} <= set(r)
            assert parse_created(r["created"]).date() == d
    recs = s.generate_day(date(2026, 3, 3))
    hours = [parse_created(r["created"]).hour for r in recs]
    assert sum(7 <= h < 19 for h in hours) / len(hours) > 0.75
    system = [r for r in recs if "authorAccountId" not in r]
    assert system and all("remoteAddress" not in r and "authorKey" not in r for r in system)
    actors = {r["authorAccountId"] for r in recs if "authorAccountId" in r}
    assert actors <= set(s.users())
    admins = {u.accountId for u in s.admins()}
    assert 4 <= len(admins) <= 6
    by_admin = sum(r.get("authorAccountId") in admins for r in recs)
    assert by_admin > len(recs) / 2


def test_ids_across_days_ordered_with_created():
    s = SiteData(seed=3, clock=clock)
    recs = s.generate_day(date(2026, 3, 2)) + s.generate_day(date(2026, 3, 3))
    pairs = [(to_ms_floor(parse_created(r["created"])), r["id"]) for r in recs]
    pairs.sort()
    for (m1, i1), (m2, i2) in zip(pairs, pairs[1:]):
        if m1 < m2:
            assert i1 < i2


def test_tz_offset_rendering():
    utc = SiteData(seed=7, clock=clock).generate_day(date(2026, 3, 2))
    ist = SiteData(seed=7, tz_offset="+0530", clock=clock).generate_day(date(2026, 3, 2))
    assert [r["id"] for r in utc] == [r["id"] for r in ist]
    for a, b in zip(utc, ist):
        assert b["created"].endswith("+0530")
        assert parse_created(a["created"]) == parse_created(b["created"])
    assert render_created(0, -300) == "1969-12-31T19:00:00.000-0500"


def test_query_respects_clock_and_is_inclusive():
    s = SiteData.empty(clock=clock)
    d0 = datetime(2026, 3, 9, tzinfo=UTC)
    first = s.add_record(d0)
    last = s.add_record(d0 + timedelta(days=1) - timedelta(milliseconds=1))
    nxt = s.add_record(d0 + timedelta(days=1))
    future = s.add_record(NOW + timedelta(milliseconds=1))
    got = s.query(d0, d0 + timedelta(days=1) - timedelta(milliseconds=1))
    assert [r["id"] for r in got] == [last["id"], first["id"]]
    assert s.truth_ids(d0, d0 + timedelta(days=1)) == {first["id"], last["id"], nxt["id"]}
    assert future["id"] not in {r["id"] for r in s.query(d0, NOW + timedelta(days=1))}
    assert future["id"] in s.truth_ids(d0, NOW + timedelta(days=1))


def test_same_millisecond_bulk_and_injection_order():
    s = SiteData(seed=7, clock=clock)
    t = datetime(2026, 3, 3, 10, 0, 0, 123000, tzinfo=UTC)
    recs = s.add_records([{"created": t, "summary": "User added to group"}] * 3000)
    ids = [r["id"] for r in recs]
    assert len(set(ids)) == 3000
    assert min(ids) >= id_for(to_ms_floor(t)) and max(ids) < id_for(to_ms_floor(t) + 1)
    day = s.generate_day(date(2026, 3, 3))
    allids = [r["id"] for r in day]
    assert allids == sorted(allids) and len(allids) == len(set(allids))
    win = s.query(t, t)
    assert len(win) == 3000 and [r["id"] for r in win] == sorted(ids, reverse=True)


def test_optional_fields_vary():
    s = SiteData(seed=7, clock=clock)
    recs = [r for i in range(5) for r in s.generate_day(date(2026, 3, 2) + timedelta(days=i))]
    groups = [r["objectItem"] for r in recs if r["objectItem"]["typeName"] == "GROUP"]
    assert any("id" not in g for g in groups) and any("id" in g for g in groups)
    assert any(cv and "changedFrom" not in cv[0] for cv in (r["changedValues"] for r in recs))
    assert any("description" in r for r in recs)
    assert any(r["eventSource"] == "" for r in recs)


def test_background_is_clean():
    s = SiteData(seed=7, clock=clock)
    banned = {"Global permission added", "User's password changed", "User created",
              "User removed from group", "User removed from project",
              "Permission scheme updated", "Permission scheme deleted",
              "Permission scheme added to project", "Project roles changed",
              "Workflow scheme copied", "Issue Security scheme deleted",
              "Issue Security scheme added to project", "User deleted"}
    for i in range(35):
        for r in s.generate_day(date(2026, 2, 1) + timedelta(days=i)):
            assert r["summary"] not in banned
            if r["summary"] == "User added to group":
                assert r["objectItem"]["name"] not in ADMIN_GROUPS


def test_users_directory():
    s = SiteData(seed=7, clock=clock)
    users = s.users()
    kinds = {u["accountType"] for u in users.values()}
    assert kinds == {"atlassian", "app"}
    assert any(u["emailAddress"] is None for u in users.values())
    for u in users.values():
        assert set(u) == {"accountId", "accountType", "active", "displayName",
                          "emailAddress", "timeZone"}


def test_big_volume_is_fast():
    s = SiteData(seed=1, daily_volume=1_000_000, clock=clock)
    t = time.perf_counter()
    total, page = s.page(datetime(2026, 3, 2, tzinfo=UTC),
                         datetime(2026, 3, 2, 23, 59, 59, 999000, tzinfo=UTC), 999_000, 1000)
    assert time.perf_counter() - t < 10
    assert total == 1_000_000 and len(page) == 1000
    ids = [r["id"] for r in page]
    assert ids == sorted(ids, reverse=True)


def test_silent_days_and_start():
    s = SiteData(seed=7, clock=clock, silent_days={date(2026, 3, 4)}, start=date(2026, 3, 1))
    assert s.generate_day(date(2026, 3, 4)) == []
    assert s.generate_day(date(2026, 2, 28)) == []
    assert s.generate_day(date(2026, 3, 5))


def test_render_created_matches_strftime():
    # The integer rendering must read exactly as datetime's own formatting did.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for ms in (0, -1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 1_764_460_799_999, 4_102_444_800_123):
        for off in (0, -300, 330, 345, -720, 840, -1, 59):
            local = epoch + timedelta(milliseconds=ms + off * 60_000)
            sign, a = ("-" if off < 0 else "+"), abs(off)
            assert render_created(ms, off) == f"{local:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}{sign}{a // 60:02d}{a % 60:02d}"


def test_page_texts_are_the_pages_records_as_json():
    # The server answers from the texts; they must be json.dumps of the same records:
    # generated ones, an injected one (with its own offset) and ones already read.
    import json

    def site():
        s = SiteData(seed=7, daily_volume=3000, tz_offset="-0700", clock=clock)
        s.add_record(d0 + timedelta(hours=3), summary="Injected \u2603", tz_offset="+0530", extra={"\u00fc": [1]})
        return s

    d0 = datetime(2026, 3, 9, tzinfo=UTC)
    served = site()
    served.page(d0, d0 + timedelta(hours=6), 0, 10)  # some handed out as dicts first
    for offset, limit in ((0, 1000), (990, 25), (2990, 1000), (0, 1000), (0, 5000)):
        total, texts = served.page_texts(d0, d0 + timedelta(days=1), offset, limit)
        expected_total, records = site().page(d0, d0 + timedelta(days=1), offset, limit)
        assert (total, texts) == (expected_total, [json.dumps(r) for r in records])
    assert sum("Injected" in t for t in texts) == 1 and total == len(texts) == 3001
