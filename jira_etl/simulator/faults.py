"""Faults the simulator can inject: the switches (:class:`Faults`), which one hits a
request, and the response each sends in place of the API's.

Faults are per request and may be changed while the simulator runs. The API-level
ones (revoked token, 403 for a plan or a role, offset cap, total modes, arrivals) are
answered by the API modules; the transient ones here come before the endpoint runs.
"""
from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

UTC = timezone.utc

HTML_503 = ("<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
            "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to "
            "service your request.</p></body></html>")
HTML_LOGIN = ("<!DOCTYPE html><html><head><title>Log in with Atlassian account</title>"
              "</head><body><form id=\"form-login\" action=\"/login\"><input name=\"username\">"
              "</form></body></html>")


@dataclass
class Faults:
    """Fault switches; all off by default. ``*_every`` = every Nth request (1-based,
    counted over requests to the endpoints faults apply to), ``*_prob`` = probability
    drawn from a RNG seeded with ``seed``. At most one fault hits a request, checked
    in this order: revoke_after, forbidden, drop, rate limit, 5xx, slow,
    html_200, truncated_json. ``max_faults`` bounds the number of injected transient
    faults (drop, 429, 5xx, slow, html, truncated) in total; None = unbounded."""

    seed: int = 1
    all_endpoints: bool = False      # also apply transient faults to myself/user/bulk
    latency_s: float = 0.0
    rate_limit_every: int = 0
    rate_limit_prob: float = 0.0
    retry_after: int | None = 1      # None -> no Retry-After header on 429
    error_5xx_every: int = 0
    error_5xx_prob: float = 0.0
    error_status: int = 503
    error_retry_after: int | None = None
    slow_every: int = 0
    slow_s: float = 2.0
    drop_every: int = 0
    truncated_json_every: int = 0
    html_200_every: int = 0
    offset_cap: int | None = None
    offset_cap_mode: str = "empty"   # "empty" | "error" (400)
    limit_clamp: int = 1000
    total_mode: str = "filtered"     # "filtered" | "instance" | "short"
    equal_from_to_empty: bool = True  # from == to -> no records (doc: "from not before to")
    arrivals_per_request: int = 0
    arrivals_in_window: bool = False
    revoke_after: int | None = None
    forbidden: str | None = None     # None | "admin" | "free"
    bulk_max: int = 10
    filter_case_sensitive: bool = False
    max_faults: int | None = None

    def __post_init__(self):
        self._rng = random.Random(self.seed)


def choose(f: Faults, n: int, rnd: random.Random) -> str | None:
    """The transient fault (or None) for the ``n``-th request faults apply to."""
    def hit(every, prob=0.0):
        return (every and n % every == 0) or (prob and rnd.random() < prob)

    choice = None
    if hit(f.drop_every):
        choice = "drop"
    elif hit(f.rate_limit_every, f.rate_limit_prob):
        choice = "rate_limit"
    elif hit(f.error_5xx_every, f.error_5xx_prob):
        choice = "5xx"
    elif hit(f.slow_every):
        choice = "slow"
    elif hit(f.html_200_every):
        choice = "html_200"
    elif hit(f.truncated_json_every):
        choice = "truncated_json"
    return choice


def send_fault(handler, fault: str | None, f: Faults) -> bool:
    """Answer the request with ``fault`` through ``handler`` (the HTTP handler); True if
    the response went out (the endpoint must not run). "slow" sleeps and lets the
    endpoint answer; "truncated_json" cuts the endpoint's body (see truncate)."""
    if fault == "drop":
        handler.close_connection = True
        handler._status = -1
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True
    if fault == "rate_limit":
        ra = f.retry_after
        reset = (datetime.now(UTC) + timedelta(seconds=ra or 1)).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z")
        h = {"X-RateLimit-Limit": 100, "X-RateLimit-Remaining": 0,
             "X-RateLimit-Reset": reset, "X-RateLimit-NearLimit": "true",
             "RateLimit-Reason": "jira-burst-based"}
        if ra is not None:
            h["Retry-After"] = ra
        handler._send(429, "Rate limit exceeded.", "text/plain;charset=UTF-8", h)
        return True
    if fault == "5xx":
        h = {}
        if f.error_retry_after is not None:
            h["Retry-After"] = f.error_retry_after
        handler._send(f.error_status, HTML_503, "text/html;charset=UTF-8", h)
        return True
    if fault == "slow":
        time.sleep(f.slow_s)
    if fault == "html_200":
        handler._send(200, HTML_LOGIN, "text/html;charset=UTF-8")
        return True
    return False


def truncate(body: str) -> bytes:
    """The first half of a 200's body: JSON cut mid-way (the truncated_json fault)."""
    raw = body.encode()
    return raw[: max(1, len(raw) // 2)]
