"""The Jira client over real HTTP against the simulator: errors, retries, encoding."""

import datetime as dt
import time

import pytest
import requests

from support import fast_retry
from jira_etl.sources import client as jc
from jira_etl.sources.client import JiraClient, format_instant
from jira_etl.simulator.server import Faults

UTC = dt.timezone.utc


def last_day() -> tuple[dt.datetime, dt.datetime]:
    """The last 24 hours, computed when a test runs (never at import: a run that crosses
    midnight must not ask for a window fixed hours earlier)."""
    now = dt.datetime.now(UTC)
    return now - DAY, now
DAY = dt.timedelta(days=1)


def test_format_instant_has_millis_and_offset():
    value = dt.datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert format_instant(value) == "2026-01-01T21:34:05.678+0000"
    with pytest.raises(ValueError):
        format_instant(dt.datetime(2026, 1, 1))


def last_logged(sim, n=1):
    # The simulator logs a request just after answering it.
    deadline = time.monotonic() + 2
    while len(sim.request_log) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return sim.request_log[-1]


def test_plus_sign_is_encoded(sim, client):
    client.audit_page(*last_day(), limit=5)
    path, query, status = last_logged(sim)
    assert status == 200
    assert query["from"].endswith("+0000")  # arrived as '+', not as a space


def test_bad_credentials_is_authentication_error(sim):
    bad = JiraClient(sim.url, email=sim.email, api_token="wrong-token-123", retry=fast_retry())
    with pytest.raises(jc.AuthenticationError) as err:
        bad.audit_page(*last_day())
    assert err.value.status == 401
    assert "wrong-token-123" not in str(err.value) and "token" in str(err.value).lower()
    assert "wrong-token-123" not in repr(bad)


@pytest.mark.parametrize("kind, reason, words", [("admin", "permission", "Administer Jira"),
                                                  ("free", "free_plan", "Free plan")])
def test_forbidden_says_which_case(sim, client, kind, reason, words):
    sim.faults.forbidden = kind
    with pytest.raises(jc.PermissionDeniedError) as err:
        client.audit_page(*last_day())
    assert err.value.reason == reason
    assert words in str(err.value)


def test_unknown_path_is_not_found(sim):
    c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry())
    with pytest.raises(jc.NotFoundError):
        c.get_json("/rest/api/3/nope")


def test_unparseable_date_is_bad_request(sim, client):
    with pytest.raises(jc.BadRequestError) as err:
        client.get_json(jc.AUDIT_PATH, {"from": "yesterday", "to": "today"})
    assert "Invalid date" in str(err.value)


def test_unreachable_host_fails_fast():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    # Bound, never listening: refused, and nobody else can take the port meanwhile.
    c = JiraClient(f"http://127.0.0.1:{port}", email="a@b.c", api_token="t", retry=fast_retry())
    t0 = dt.datetime.now()
    with pytest.raises(jc.UnreachableError):
        c.myself()
    assert (dt.datetime.now() - t0).total_seconds() < 5


@pytest.mark.parametrize(
    "faults",
    [
        dict(rate_limit_every=2, retry_after=1),
        dict(rate_limit_every=2, retry_after=None),
        dict(error_5xx_every=2),
        dict(error_5xx_every=2, error_status=502),
        dict(drop_every=2),
        dict(truncated_json_every=2),
        dict(html_200_every=2),
        dict(slow_every=2, slow_s=1.5),
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()),
)
def test_transient_faults_are_retried(sim, faults):
    for k, v in faults.items():
        setattr(sim.faults, k, v)
    c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry(timeout=0.5))
    for _ in range(4):
        assert isinstance(c.audit_page(*last_day(), limit=10), list)
    assert c.stats.retries >= 1
    assert sim.faults_injected >= 1


def test_retry_after_is_honoured_and_backoff_is_bounded(sim):
    sim.faults.rate_limit_every = 1
    sim.faults.retry_after = 3
    sim.faults.max_faults = 2
    waits = []
    policy = fast_retry(max_retry_after=60)
    policy.sleep = waits.append
    c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=policy)
    c.audit_page(*last_day(), limit=1)
    assert waits == [3.0, 3.0]


def test_backoff_without_retry_after_doubles_with_jitter():
    policy = jc.RetryPolicy(base_delay=5, max_delay=30)
    for attempt, nominal in [(0, 5), (1, 10), (2, 20), (3, 30), (6, 30)]:
        d = policy.delay(attempt, None)
        assert 0.7 * nominal <= d <= 1.3 * nominal


def test_budget_exhausted_fails_loudly(sim):
    sim.faults.error_5xx_every = 1
    c = JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=fast_retry(max_retries=3))
    with pytest.raises(jc.RetriesExhaustedError) as err:
        c.audit_page(*last_day())
    assert "4 attempts" in str(err.value) and "503" in str(err.value)
    assert c.stats.requests == 4


def test_token_revoked_midway_is_authentication_error(sim, client):
    sim.faults.revoke_after = sim.api_requests + 1
    client.audit_page(*last_day(), limit=1)
    with pytest.raises(jc.AuthenticationError):
        client.audit_page(*last_day(), limit=1)


def test_users_bulk_follows_server_page_size(sim, site, client):
    ids = list(site.users())[:25]
    sim.faults.bulk_max = 4
    users = client.users_bulk(ids)
    assert sorted(u["accountId"] for u in users) == sorted(ids)


def test_myself(client):
    me = client.myself()
    assert me.get("accountId")


def test_session_never_sends_token_in_url(sim, client):
    client.audit_page(*last_day(), limit=1)
    last_logged(sim)
    for path, query, _ in sim.request_log:
        assert sim.token not in path and sim.token not in str(query)
    assert requests.utils.urlparse(client.base_url).password is None
