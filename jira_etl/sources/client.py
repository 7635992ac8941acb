"""HTTP client for the Jira Cloud REST API: auth, bounded retries, typed errors.

The token only ever lives in the `requests` auth object: it is never part of a URL,
an exception message, a log line or `repr()`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import msgspec
import orjson
import requests

from jira_etl.records import raw_text

log = logging.getLogger(__name__)

AUDIT_PATH = "/rest/api/3/auditing/record"
PAGE_LIMIT = 1000

from jira_etl.sources.errors import (  # noqa: F401 - re-exported
    AuthenticationError, BadRequestError, JiraError, NotFoundError, PermissionDeniedError,
    RetriesExhaustedError, UnexpectedResponseError, UnreachableError,
)
from jira_etl.sources.errors import _connect_failure, _error_text, _short, _typed_error


class Cancelled(Exception):
    """The walk this request belongs to was stopped (another slice failed, or the run
    was terminated): raised instead of sleeping out a retry's back-off."""


# --- retry policy -------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Atlassian's suggested client: honour Retry-After, else double from ~5 s to 30 s, jitter."""

    max_retries: int = 6
    base_delay: float = 5.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    timeout: float = 30.0
    connect_timeout: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return min(self.base_delay * 2**attempt, self.max_delay) * random.uniform(0.7, 1.3)


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str, retry: bool) -> None:
        with self._lock:
            self.requests += 1
            self.retries += int(retry)
            self.by_status[outcome] = self.by_status.get(outcome, 0) + 1


def format_instant(value: dt.datetime) -> str:
    """ISO 8601 with milliseconds and an explicit offset, as the API expects."""
    if value.tzinfo is None:
        raise ValueError("instants sent to Jira must be timezone-aware")
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _retry_after(resp: requests.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _decode_json(resp: requests.Response) -> Any:
    """The JSON body, or None. orjson first (decoding is a large share of a collector's
    CPU); whatever it refuses (lone surrogates, NaN, huge integers, non-UTF-8 bytes) is
    retried with the standard library, so what decodes is exactly what decoded before."""
    try:
        return orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        pass
    try:
        return resp.json()
    except ValueError:
        return None


def _audit_params(frm: dt.datetime, to: dt.datetime, offset: int, limit: int) -> dict:
    return {"from": format_instant(frm), "to": format_instant(to), "offset": offset, "limit": limit}


class _RawPage(msgspec.Struct):
    records: list[msgspec.Raw]
    total: Any = None


_RAW_PAGE = msgspec.json.Decoder(_RawPage)


def _decode_raw_page(resp: requests.Response) -> Any:
    """An audit page as a `_RawPage` (each record's bytes, the JSON checked but not turned
    into objects); anything else (no 'records' list, NaN...) as `_decode_json` reads it."""
    try:
        return _RAW_PAGE.decode(resp.content)
    except msgspec.DecodeError:
        return _decode_json(resp)


# --- the client ---------------------------------------------------------------------


class JiraClient:
    """One Jira site. Thread-safe: each thread gets its own `requests.Session`."""

    def __init__(
        self,
        base_url: str,
        *,
        email: str | None = None,
        api_token: str | None = None,
        bearer_token: str | None = None,
        retry: RetryPolicy | None = None,
        gateway: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        if bearer_token:
            self._auth: Any = _BearerAuth(bearer_token)
        elif email and api_token:
            # As UTF-8 bytes: requests would encode str as Latin-1 and crash (outside any
            # error the caller handles) on an address such as 用户@example.com.
            self._auth = (email.encode("utf-8"), api_token.encode("utf-8"))
        else:
            raise ValueError("JiraClient needs email+api_token or a bearer token")
        self.retry = retry or RetryPolicy()
        self.stats = ClientStats()
        # Through api.atlassian.com a from/to without zone silently yields nothing;
        # format_instant always adds one, the flag is kept for diagnostics.
        self.gateway = gateway
        self._local = threading.local()
        # A 429 pauses every thread of this client (slices walked concurrently), not
        # only the one that got it: retrying earlier only earns a longer wait.
        self._resume_at = 0.0
        self._pause_lock = threading.Lock()

    def __repr__(self) -> str:  # never show credentials
        return f"JiraClient({self.base_url!r})"

    def same_site_and_identity(self, other: object) -> bool:
        """Whether `other` sends the same requests as this client: same class, site,
        credentials and retry policy (head_start.py hands a walk only to such a client)."""
        if type(other) is not type(self) or other.base_url != self.base_url or other.gateway != self.gateway:
            return False
        if other.retry != self.retry:
            return False
        mine, theirs = self._auth, other._auth
        if isinstance(mine, _BearerAuth) and isinstance(theirs, _BearerAuth):
            return hmac.compare_digest(mine._token.encode("utf-8"), theirs._token.encode("utf-8"))
        if isinstance(mine, tuple) and isinstance(theirs, tuple):
            return mine[0] == theirs[0] and hmac.compare_digest(mine[1], theirs[1])
        return False

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.auth = self._auth
            s.headers.update({"Accept": "application/json", "User-Agent": "jira-etl/0.1"})
            self._local.session = s
        return s

    def _wait(self, seconds: float, stop: threading.Event | None) -> None:
        """Sleep out a back-off, or raise `Cancelled` as soon as `stop` is set."""
        policy = self.retry
        if stop is not None and policy.sleep is time.sleep:
            if stop.wait(seconds):
                raise Cancelled
            return
        policy.sleep(seconds)  # a test's clock, or nothing to wait on
        if stop is not None and stop.is_set():
            raise Cancelled

    def get_json(self, path: str, params: Any = None, decode: Callable[[requests.Response], Any] | None = None,
                 *, stop: threading.Event | None = None) -> Any:
        """GET with bounded retries on 429, 5xx, timeouts, dropped connections and bad JSON
        (`decode` returns None for a body that is not JSON). With `stop`, every wait ends
        with `Cancelled` within moments of it being set."""
        url = self.base_url + path
        policy = self.retry
        last_problem = ""
        for attempt in range(policy.max_retries + 1):
            retry_after: float | None = None
            if stop is not None and stop.is_set():
                raise Cancelled
            if attempt == 0:  # on retries this thread has just waited its own delay
                paused = self._resume_at - time.monotonic()
                if paused > 0:
                    self._wait(paused, stop)
            try:
                resp = self._session().get(url, params=params, timeout=(policy.connect_timeout, policy.timeout))
            except requests.exceptions.ConnectionError as exc:
                # A refused or unresolvable host will not heal by waiting: fail fast on
                # the first attempt, retry only drops of an established exchange.
                reason = _connect_failure(exc)
                if attempt == 0 and reason:
                    self.stats.count("unreachable", False)
                    raise UnreachableError(f"cannot connect to {self.base_url}: {reason}") from None
                outcome, last_problem = "connection", f"connection dropped ({_short(exc)})"
            except requests.exceptions.Timeout:
                outcome, last_problem = "timeout", f"no answer within {policy.timeout:g} s"
            except requests.exceptions.RequestException as exc:
                outcome, last_problem = "error", _short(exc)
            else:
                status = resp.status_code
                if status == 200:
                    ctype = resp.headers.get("Content-Type", "")
                    body = (decode or _decode_json)(resp)
                    if body is not None and "html" not in ctype:
                        self.stats.count("200", attempt > 0)
                        return body
                    outcome = "bad_body"
                    last_problem = (
                        "an HTML page instead of JSON (a login or proxy page?)"
                        if "html" in ctype or "<html" in resp.text[:500].lower()
                        else "truncated or invalid JSON"
                    )
                elif status == 429 or status >= 500:
                    outcome = str(status)
                    retry_after = _retry_after(resp)
                    last_problem = f"HTTP {status} {_error_text(resp)}".strip()
                else:
                    self.stats.count(str(status), attempt > 0)
                    raise _typed_error(resp, url)
            self.stats.count(outcome, attempt > 0)
            if attempt == policy.max_retries:
                break
            wait = policy.delay(attempt, retry_after)
            if outcome == "429":
                with self._pause_lock:
                    self._resume_at = max(self._resume_at, time.monotonic() + wait)
            log.info("Jira %s: %s; retry %d/%d in %.1f s", path, last_problem, attempt + 1, policy.max_retries, wait)
            self._wait(wait, stop)
        raise RetriesExhaustedError(
            f"GET {path} failed after {policy.max_retries + 1} attempts; last problem: {last_problem}"
        )

    # --- endpoints ------------------------------------------------------------------

    def audit_page(self, frm: dt.datetime, to: dt.datetime, offset: int = 0, limit: int = PAGE_LIMIT,
                   *, stop: threading.Event | None = None) -> list[dict]:
        return self._audit_page(frm, to, offset, limit, raw=False, stop=stop)

    def audit_page_total(self, frm: dt.datetime, to: dt.datetime, limit: int = PAGE_LIMIT,
                         *, stop: threading.Event | None = None, raw: bool = False) -> tuple[list, Any]:
        """The window's newest page and the `total` Jira reports for the window (a hint:
        it may be wrong, and nothing that decides completeness reads it). With `raw`,
        the records as `audit_page_raw` gives them."""
        body = self.get_json(AUDIT_PATH, _audit_params(frm, to, 0, limit), decode=_decode_raw_page if raw else None, stop=stop)
        return self._records(body, raw), body.total if isinstance(body, _RawPage) else body.get("total")

    def audit_page_raw(self, frm: dt.datetime, to: dt.datetime, offset: int = 0, limit: int = PAGE_LIMIT,
                       *, stop: threading.Event | None = None) -> list[bytes]:
        """The page's records as JSON texts, exactly as received (objects only), without
        building a Python object per value: the collector parses them straight into
        Arrow. A body that only a lenient decoder accepts (NaN...) yields its records
        re-encoded by `normalize`'s rule instead."""
        return self._audit_page(frm, to, offset, limit, raw=True, stop=stop)

    def _audit_page(self, frm: dt.datetime, to: dt.datetime, offset: int, limit: int, raw: bool,
                    stop: threading.Event | None = None) -> list:
        body = self.get_json(AUDIT_PATH, _audit_params(frm, to, offset, limit), decode=_decode_raw_page if raw else None,
                             stop=stop)
        return self._records(body, raw)

    def _records(self, body: Any, raw: bool) -> list:
        if isinstance(body, _RawPage):
            return [b for b in map(bytes, body.records) if b[:1] == b"{"]
        # A body without 'records' is not an empty page: treating it as one would end
        # the window and publish the day without its records.
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise UnexpectedResponseError(f"{AUDIT_PATH} answered JSON without a 'records' list")
        records = [r for r in body["records"] if isinstance(r, dict)]
        if raw:
            return [raw_text(r).encode("utf-8") for r in records]
        return records

    def myself(self) -> dict:
        return self.get_json("/rest/api/3/myself")

    def users_bulk(self, account_ids: list[str]) -> list[dict]:
        """Resolve account ids to users, following the page size the server reports."""
        found: list[dict] = []
        for i in range(0, len(account_ids), 100):
            chunk = account_ids[i : i + 100]
            start = 0
            while True:
                params = [("accountId", a) for a in chunk] + [("startAt", start), ("maxResults", 100)]
                page = self.get_json("/rest/api/3/user/bulk", params)
                values = page.get("values") or []
                found.extend(v for v in values if isinstance(v, dict))
                if page.get("isLast", True) or not values:
                    break
                start += len(values)
        return found


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(***)"
