import bisect
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from jira_etl.simulator import JiraSimulator, SiteData
from jira_etl.simulator.data import ADMIN_GROUPS, parse_created, to_ms_floor
from jira_etl.simulator import scenarios as sc

from sim_helpers import Client

UTC = timezone.utc
NOW = datetime(2026, 4, 20, tzinfo=UTC)
START = date(2026, 3, 2)
ADMIN_CATS = {"permissions", "group management", "user management"}
BANNED = {"Global permission added", "User's password changed", "User created",
          "User removed from group", "User removed from project", "Permission scheme updated",
          "Permission scheme deleted", "Permission scheme added to project",
          "Project roles changed", "Workflow scheme copied", "Issue Security scheme deleted",
          "Issue Security scheme added to project", "User deleted", "Project deleted",
          "Workflow scheme deleted"}


def _month():
    data = SiteData(seed=7, clock=lambda: NOW)
    planted = sc.plant_month(data, START)
    return data, planted


@pytest.fixture(scope="module")
def month():
    return _month()


def _records(data, lo, hi):
    return [r for i in range((hi - lo).days + 1) for r in data.generate_day(lo + timedelta(days=i))]


def test_plant_month_covers_every_detection_on_distinct_days(month):
    data, planted = month
    assert sorted(p.detection_id for p in planted) == sorted(sc.DETECTION_IDS)
    days = [p.day for p in planted]
    assert len(set(days)) == len(days)
    assert all(START <= d < START + timedelta(days=30) for d in days)
    for p in planted:
        if p.detection_id == "audit_gap":
            assert not p.record_ids and data.generate_day(p.day) == []
            continue
        recs = data.records_by_ids(p.record_ids)
        assert len(recs) == len(p.record_ids) > 0
        assert all(parse_created(r["created"]).date() == p.day for r in recs)
        assert p.record_ids <= data.explicit_ids
    exp = sc.expected_findings(planted)
    assert set(sc.DETECTION_IDS) <= set(exp)


def test_month_is_deterministic(month):
    data, planted = month
    data2, planted2 = _month()
    assert [(p.detection_id, sorted(p.record_ids), p.also) for p in planted] == \
        [(p.detection_id, sorted(p.record_ids), p.also) for p in planted2]


def test_background_trips_nothing(month):
    """A mini re-implementation of the rules over the background only."""
    data, planted = month
    lo, hi = sc.evaluation_range(START)
    planted_ids = data.explicit_ids
    recs = [r for r in _records(data, lo, hi) if r["id"] not in planted_ids]
    ips = defaultdict(set)
    times = defaultdict(list)
    dels = defaultdict(list)
    by_day = defaultdict(int)
    for r in recs:
        assert r["summary"] not in BANNED, r
        if r["summary"] == "User added to group":
            assert r["objectItem"]["name"] not in ADMIN_GROUPS
        if r["summary"] == "User updated":
            assert all(cv["fieldName"] != "Active" for cv in r["changedValues"])
        t = parse_created(r["created"])
        by_day[t.date()] += 1
        a = r.get("authorAccountId")
        if a is None:
            assert r["category"] not in ADMIN_CATS or 7 <= t.hour < 20
            continue
        u = data.user(a)
        assert u.role in ("admin", "user", "app")
        if r.get("remoteAddress"):
            ips[a].add(r["remoteAddress"])
        if r["category"] in ADMIN_CATS:
            assert 7 <= t.hour < 20 and u.hours[0] <= t.hour < u.hours[1]
        times[a].append(to_ms_floor(t))
        if "deleted" in r["summary"]:
            dels[a].append(to_ms_floor(t))
    assert all(len(v) == 1 for v in ips.values())
    for a, ms in times.items():
        ms.sort()
        worst = max(bisect.bisect_right(ms, m + 3_600_000 - 1) - i for i, m in enumerate(ms))
        assert worst <= 15, data.user(a).displayName
        gaps = [(b - x) for x, b in zip(ms, ms[1:])]
        if data.user(a).role == "admin":
            assert max(gaps) < 7 * 86_400_000
    for a, ms in dels.items():
        ms.sort()
        assert all(b - x > 3_600_000 for x, b in zip(ms, ms[1:]))
    # no zero day besides the planted gap
    gap = next(p.day for p in planted if p.detection_id == "audit_gap")
    for i in range((hi - lo).days + 1):
        d = lo + timedelta(days=i)
        assert (by_day[d] == 0) == (d == gap)


def test_planted_scenarios_meet_their_thresholds(month):
    data, planted = month
    P = {p.detection_id: p for p in planted}

    def recs(det):
        return sorted(data.records_by_ids(P[det].record_ids), key=lambda r: r["id"])

    def span(rs):
        ts = [parse_created(r["created"]) for r in rs]
        return max(ts) - min(ts)

    assert len(recs("mass_user_removal")) >= 10 and span(recs("mass_user_removal")) <= timedelta(minutes=15)
    assert len(recs("mass_deletion")) >= 5 and span(recs("mass_deletion")) <= timedelta(hours=1)
    assert len(recs("config_change_burst")) > 20 and span(recs("config_change_burst")) <= timedelta(hours=1)
    pw = recs("password_changed_from_many_ips")
    assert len({r["remoteAddress"] for r in pw}) > 1 and span(pw) <= timedelta(minutes=30)
    chain = recs("privilege_escalation_chain")
    assert [r["summary"] for r in chain] == ["User created", "User added to group"]
    assert chain[1]["objectItem"]["name"] in ADMIN_GROUPS and span(chain) <= timedelta(hours=1)
    off = recs("off_hours_admin_activity")
    assert all(parse_created(r["created"]).hour < 7 for r in off)
    new_ip = recs("new_ip_for_actor")
    actor = data.user(new_ip[0]["authorAccountId"])
    assert all(r["remoteAddress"] != actor.ip for r in new_ip)
    dorm = P["dormant_actor_returns"]
    setup = data.records_by_ids(dorm.setup_ids)
    first_return = min(parse_created(r["created"]) for r in recs("dormant_actor_returns"))
    assert first_return - max(parse_created(r["created"]) for r in setup) >= timedelta(days=30)
    sap = P["site_admin_password_changed"]
    add = data.records_by_ids(sap.setup_ids)[0]
    assert add["objectItem"]["name"] in ADMIN_GROUPS
    assert "new_site_admin" in sap.also
    assert P["privilege_escalation_chain"].also.keys() >= {"new_user_created", "new_site_admin"}


def test_each_planter_alone():
    for det, fn in sc.PLANTERS.items():
        data = SiteData(seed=5, clock=lambda: NOW)
        at = datetime(2026, 3, 17, 11, 30, tzinfo=UTC)  # a Tuesday
        if det == "off_hours_admin_activity":
            at = at.replace(hour=2)
        p = fn(data, at)
        assert p.detection_id == det and p.day == at.date()
        if det != "audit_gap":
            assert p.record_ids and p.record_ids <= data.explicit_ids


def test_near_misses():
    data = SiteData(seed=5, clock=lambda: NOW)
    d = date(2026, 3, 10)
    out = {}
    for i, (det, fn) in enumerate(sc.NEAR_MISSES.items()):
        day = d + timedelta(days=(i % 4))
        p = fn(data, datetime(2026, day.month, day.day, 11, i, tzinfo=UTC))
        assert p.negative and p.detection_id == det
        out[det] = sorted(data.records_by_ids(p.record_ids), key=lambda r: r["id"])
    mu = out["mass_user_removal"]
    assert len(mu) == 9
    assert len(out["mass_deletion"]) == 4
    chain = out["privilege_escalation_chain"]
    gap = parse_created(chain[1]["created"]) - parse_created(chain[0]["created"])
    assert gap > timedelta(hours=1)
    pw = out["password_changed_from_many_ips"]
    assert parse_created(pw[-1]["created"]) - parse_created(pw[0]["created"]) > timedelta(minutes=30)
    assert out["new_site_admin"][0]["objectItem"]["name"] not in ADMIN_GROUPS
    assert all(r["remoteAddress"] == data.user(r["authorAccountId"]).ip
               for r in out["new_ip_for_actor"])


def test_audit_gap_over_http(month):
    data, planted = month
    gap = next(p.day for p in planted if p.detection_id == "audit_gap")
    with JiraSimulator(data) as sim:
        c = Client(sim)
        f = datetime.combine(gap, datetime.min.time(), tzinfo=UTC)
        body = c.audit(**{"from": f.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                          "to": (f + timedelta(days=1) - timedelta(milliseconds=1)).strftime(
                              "%Y-%m-%dT%H:%M:%S.999+0000")}).json()
        assert body["records"] == [] and body["total"] == 0


def test_silent_days_constructor():
    d = date(2026, 3, 18)
    data = SiteData(seed=7, clock=lambda: NOW, silent_days={d})
    assert data.generate_day(d) == []
    prev = [len(data.generate_day(d - timedelta(days=i))) for i in range(1, 15)]
    assert sum(prev) / 14 > 50
