import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from jira_etl.simulator import Faults, JiraSimulator, SiteData
from jira_etl.simulator.data import parse_created

from sim_helpers import AUDIT, Client, client, fixed_now, sim, site  # noqa: F401

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
D = datetime(2026, 3, 9, tzinfo=UTC)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def boundary_site():
    s = SiteData.empty(clock=lambda: NOW)
    recs = {
        "before": s.add_record(D - timedelta(milliseconds=1)),
        "first": s.add_record(D),
        "mid": s.add_record(D + timedelta(hours=12)),
        "last": s.add_record(D + timedelta(days=1) - timedelta(milliseconds=1)),
        "next": s.add_record(D + timedelta(days=1)),
    }
    return s, recs


# ------------------------------------------------------------------- auth
def test_auth(sim):
    url = sim.url + "/rest/api/3/myself"
    ok = requests.get(url, auth=(sim.email, sim.token), timeout=5)
    assert ok.status_code == 200 and ok.json()["emailAddress"] == sim.email
    for auth in [None, (sim.email, "wrong"), ("x@y", sim.token)]:
        r = requests.get(sim.url + AUDIT, auth=auth, timeout=5)
        assert r.status_code == 401
        assert r.json() == {"message": "Client must be authenticated to access this resource.",
                            "status-code": 401}
    r = requests.get(url, headers={"Authorization": "Bearer demo-token"}, timeout=5)
    assert r.status_code == 401  # no oauth token configured


def test_unknown_path_404_html(client):
    r = client.get("/rest/api/3/nope")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")


# ------------------------------------------------------------------- windows
def test_inclusive_ms_boundaries():
    s, recs = boundary_site()
    with JiraSimulator(s) as sim:
        c = Client(sim)
        r = c.audit(**{"from": iso(D), "to": iso(D + timedelta(days=1) - timedelta(milliseconds=1))})
        assert r.status_code == 200
        body = r.json()
        assert [x["id"] for x in body["records"]] == [recs[k]["id"] for k in ("last", "mid", "first")]
        assert body["total"] == 3 and body["offset"] == 0 and body["limit"] == 1000
        # same instant expressed with other offsets / formats
        for f, t in [("2026-03-09T05:30:00+05:30", "2026-03-10T05:29:59.999+0530"),
                     ("2026-03-09T00:00:00Z", "2026-03-09T23:59:59.999Z"),
                     ("2026-03-08T19:00:00.000-0500", "2026-03-09T18:59:59.999-05:00")]:
            got = c.audit(**{"from": f, "to": t}).json()["records"]
            assert len(got) == 3, (f, t)
        # exactly one ms
        got = c.audit(**{"from": iso(D), "to": iso(D + timedelta(milliseconds=1))}).json()
        assert [x["id"] for x in got["records"]] == [recs["first"]["id"]]


def test_equal_from_to_switch():
    s, recs = boundary_site()
    with JiraSimulator(s) as sim:
        c = Client(sim)
        q = {"from": iso(D), "to": iso(D)}
        assert c.audit(**q).json()["records"] == []
        sim.faults.equal_from_to_empty = False
        assert [x["id"] for x in c.audit(**q).json()["records"]] == [recs["first"]["id"]]
        q = {"from": iso(D + timedelta(hours=1)), "to": iso(D)}
        assert c.audit(**q).json()["records"] == []


def test_bad_dates_400(client):
    for bad in ["2026-03-09T00:00:00.000 0000",  # '+' sent unencoded arrives as a space
                "2026-03-09T00:00:00.000",       # no offset
                "yesterday", "2026-13-01T00:00:00Z"]:
        r = client.audit(**{"from": bad})
        assert r.status_code == 400, bad
        assert r.text == f'Invalid date "{bad}"'
    # raw unencoded '+' in the URL
    r = client.s.get(client.sim.url + AUDIT + "?from=2026-03-09T00:00:00.000+0000", timeout=5)
    assert r.status_code == 400


def test_newest_first_paging_and_clock(client, site):
    frm, to = D, D + timedelta(days=1)
    seen = []
    offset = 0
    while True:
        page = client.audit(**{"from": iso(frm), "to": iso(to), "offset": offset,
                               "limit": 100}).json()
        seen += page["records"]
        if len(page["records"]) < 100:
            break
        offset += 100
    ids = [r["id"] for r in seen]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    assert set(ids) == site.truth_ids(frm, to)
    created = [parse_created(r["created"]) for r in seen]
    assert created == sorted(created, reverse=True)
    # today's partition only up to the clock
    today = client.audit(**{"from": iso(NOW.replace(hour=0)), "to": iso(NOW + timedelta(hours=6))})
    assert all(parse_created(r["created"]) <= NOW for r in today.json()["records"])
    assert today.json()["total"] < len(site.generate_day(NOW.date()))


def test_limit_clamp(client, sim):
    q = {"from": iso(D - timedelta(days=7)), "to": iso(D)}
    body = client.audit(limit=5000, **q).json()
    assert body["limit"] == 5000 and len(body["records"]) == 1000
    sim.faults.limit_clamp = 100
    body = client.audit(limit=500, **q).json()
    assert body["limit"] == 500 and len(body["records"]) == 100
    assert len(client.audit(**q).json()["records"]) == 100


def test_offset_cap(client, sim):
    q = {"from": iso(D - timedelta(days=7)), "to": iso(D)}
    sim.faults.offset_cap = 250
    assert len(client.audit(offset=200, limit=100, **q).json()["records"]) == 50
    assert client.audit(offset=250, limit=100, **q).json()["records"] == []
    sim.faults.offset_cap_mode = "error"
    r = client.audit(offset=300, **q)
    assert r.status_code == 400 and "errorMessages" in r.json()


def test_total_modes(client, sim, site):
    q = {"from": iso(D), "to": iso(D + timedelta(hours=23))}
    real = client.audit(**q).json()["total"]
    assert real == len(site.truth_ids(D, D + timedelta(hours=23)))
    sim.faults.total_mode = "instance"
    assert client.audit(**q).json()["total"] > real * 10
    sim.faults.total_mode = "short"
    assert 0 < client.audit(**q).json()["total"] < real


def test_filter(client):
    q = {"from": iso(D), "to": iso(D + timedelta(days=1)), "filter": "workflow"}
    recs = client.audit(**q).json()["records"]
    assert recs and all("workflow" in json.dumps(r).lower() for r in recs)


def test_tz_rendering_over_http():
    s = SiteData(seed=7, tz_offset="+0530", clock=lambda: NOW)
    with JiraSimulator(s) as sim:
        recs = Client(sim).audit(**{"from": iso(D), "to": iso(D + timedelta(hours=1))}).json()
        assert recs["records"] and all(r["created"].endswith("+0530")
                                       for r in recs["records"])


# ------------------------------------------------------------------- faults
def test_rate_limit(client, sim):
    sim.faults.rate_limit_every = 2
    sim.faults.retry_after = 3
    assert client.audit(limit=1).status_code == 200
    r = client.audit(limit=1)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"
    assert r.headers["RateLimit-Reason"] == "jira-burst-based"
    for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert h in r.headers
    sim.faults.retry_after = None
    client.audit(limit=1)
    r = client.audit(limit=1)
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_rate_limit_prob_deterministic(site):
    def run():
        with JiraSimulator(site, faults=Faults(rate_limit_prob=0.5, seed=3)) as sim:
            c = Client(sim)
            return [c.audit(limit=1).status_code for _ in range(12)]
    a, b = run(), run()
    assert a == b and 429 in a and 200 in a


def test_5xx(client, sim):
    sim.faults.error_5xx_every = 1
    sim.faults.error_retry_after = 2
    r = client.audit(limit=1)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.headers["Content-Type"].startswith("text/html")


def test_slow_exceeds_timeout(client, sim):
    sim.faults.slow_every = 1
    sim.faults.slow_s = 1.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.get(AUDIT, {"limit": 1}, timeout=0.3)


def test_drop(client, sim):
    sim.faults.drop_every = 1
    with pytest.raises(requests.exceptions.ConnectionError):
        client.audit(limit=1)


def test_truncated_json(client, sim):
    sim.faults.truncated_json_every = 1
    r = client.audit(limit=5)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_html_200(client, sim):
    sim.faults.html_200_every = 1
    r = client.audit(limit=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Log in" in r.text


def test_max_faults_budget(client, sim):
    sim.faults.error_5xx_every = 1
    sim.faults.max_faults = 2
    codes = [client.audit(limit=1).status_code for _ in range(5)]
    assert codes == [503, 503, 200, 200, 200]
    assert sim.fault_counts["5xx"] == 2


def test_latency(client, sim):
    sim.faults.latency_s = 0.2
    t = time.perf_counter()
    client.audit(limit=1)
    assert time.perf_counter() - t >= 0.2


def test_revoke_after(client, sim):
    sim.faults.revoke_after = 2
    codes = [client.audit(limit=1).status_code for _ in range(4)]
    assert codes == [200, 200, 401, 401]


def test_forbidden(client, sim):
    sim.faults.forbidden = "admin"
    r = client.audit()
    assert r.status_code == 403 and r.json()["status"] == 403
    assert "not authorized" in r.json()["errorMessages"][0]
    sim.faults.forbidden = "free"
    r = client.audit()
    assert r.status_code == 403 and "Free" in r.json()["errorMessages"][0]
    assert client.get("/rest/api/3/myself").status_code == 200


def test_arrivals_in_window_shift_pages(fixed_now):
    s = SiteData(seed=7, clock=lambda: fixed_now)
    frm, to = fixed_now.replace(hour=0), fixed_now
    with JiraSimulator(s, faults=Faults(arrivals_per_request=1, arrivals_in_window=True)) as sim:
        c = Client(sim)
        ids = []
        offset = 0
        while True:
            recs = c.audit(**{"from": iso(frm), "to": iso(to), "offset": offset,
                              "limit": 10}).json()["records"]
            ids += [r["id"] for r in recs]
            if len(recs) < 10:
                break
            offset += 10
        assert len(ids) > len(set(ids))  # seen twice because of arrivals
        assert len(sim.arrived_ids) >= 2
        assert set(sim.arrived_ids) <= s.truth_ids(frm, to)


def test_arrivals_at_now(fixed_now):
    s = SiteData(seed=7, clock=lambda: fixed_now)
    with JiraSimulator(s, faults=Faults(arrivals_per_request=3)) as sim:
        c = Client(sim)
        c.audit(limit=1)
        newest = c.audit(limit=3).json()["records"]
        assert {r["id"] for r in newest} <= set(sim.arrived_ids)
        assert all(parse_created(r["created"]) == fixed_now for r in newest)


# ------------------------------------------------------------------- users
def test_user_endpoints(client, site):
    users = list(site.users())
    r = client.get("/rest/api/3/user", {"accountId": users[0]})
    assert r.status_code == 200 and r.json()["accountId"] == users[0]
    assert client.get("/rest/api/3/user", {"accountId": "nobody"}).status_code == 404
    asked = users[:25] + ["nobody"]
    got, start = [], 0
    while True:
        page = client.get("/rest/api/3/user/bulk",
                          {"accountId": asked, "startAt": start, "maxResults": 50}).json()
        assert page["maxResults"] == 10
        got += page["values"]
        if page["isLast"]:
            break
        start += page["maxResults"]
    assert [u["accountId"] for u in got] == users[:25]
    assert page["total"] == 25


# ------------------------------------------------------------------- gateway
def test_gateway_trap(site):
    with JiraSimulator(site, oauth_token="oauth-xyz") as sim:
        bearer = {"Authorization": "Bearer oauth-xyz"}
        gw = sim.gateway_url + AUDIT
        q = {"from": "2026-03-09T00:00:00.000", "to": "2026-03-09T23:59:59.999"}
        r = requests.get(gw, params=q, headers=bearer, timeout=5)
        assert r.status_code == 200 and r.json()["records"] == []
        r = requests.get(sim.url + AUDIT, params=q, headers=bearer, timeout=5)
        assert r.status_code == 400
        q = {"from": iso(D), "to": iso(D + timedelta(days=1))}
        r = requests.get(gw, params=q, headers=bearer, timeout=5)
        assert r.status_code == 200 and len(r.json()["records"]) > 100
        assert requests.get(gw, params=q, headers={"Authorization": "Bearer bad"},
                            timeout=5).status_code == 401
        assert requests.get(sim.url + "/ex/jira/other/rest/api/3/myself", headers=bearer,
                            timeout=5).status_code == 404


def test_request_log(client, sim):
    client.audit(limit=1)
    client.get("/rest/api/3/myself")
    assert [(p, st) for p, _, st in sim.request_log] == [(AUDIT, 200),
                                                         ("/rest/api/3/myself", 200)]
    assert sim.request_log[0][1] == {"limit": "1"}


def test_module_entrypoint_serves():
    p = subprocess.Popen([sys.executable, "-m", "jira_etl.simulator", "--port", "0",
                          "--seed", "3"], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(url + "/rest/api/3/myself", auth=("demo@jira-etl.local", "demo-token"),
                         timeout=5)
        assert r.status_code == 200
    finally:
        p.terminate()
        p.wait(5)
