"""A loopback HTTP server speaking the Jira Cloud audit-records API (stdlib only).

Endpoints (all need Basic ``email:token``, or ``Bearer <oauth_token>`` when configured):

* ``GET /rest/api/3/auditing/record`` (offset, limit, filter, from, to)
* ``GET /rest/api/3/myself``
* ``GET /rest/api/3/user?accountId=...``
* ``GET /rest/api/3/user/bulk?accountId=a&accountId=b&startAt=&maxResults=``

The same endpoints are served under the OAuth gateway prefix
``/ex/jira/{cloud_id}/rest/api/3/...``; through it a from/to without a timezone answers
200 with ``records: []`` (the silent-loss trap) instead of 400.

Faults (:class:`Faults`) are applied per request and may be changed while running.
"""
from __future__ import annotations

import base64
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .data import SiteData

UTC = timezone.utc

AUTH_401 = {"message": "Client must be authenticated to access this resource.",
            "status-code": 401}
FORBIDDEN_ADMIN = {"errorMessages": ["You are not authorized to perform this operation. "
                                     "Please contact your Jira administrators."],
                   "errors": {}, "status": 403}
FORBIDDEN_FREE = {"errorMessages": ["Audit log is not available for Free plans. "
                                    "Upgrade your plan to access the audit log."],
                  "errors": {}, "status": 403}
HTML_404 = ("<!DOCTYPE html><html><head><title>Atlassian Cloud</title></head><body>"
            "<h1>Your Atlassian Cloud site is currently unavailable.</h1></body></html>")
HTML_503 = ("<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
            "<body><h1>Service Unavailable</h1><p>The server is temporarily unable to "
            "service your request.</p></body></html>")
HTML_LOGIN = ("<!DOCTYPE html><html><head><title>Log in with Atlassian account</title>"
              "</head><body><form id=\"form-login\" action=\"/login\"><input name=\"username\">"
              "</form></body></html>")

_DATE_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d\d(?::?\d\d)?)?")


class BadDate(ValueError):
    pass


def parse_api_date(value: str) -> tuple[datetime, bool]:
    """Parse an ISO 8601 from/to value -> (aware UTC datetime, had_offset).

    Raises BadDate when unparseable. A ``+`` sent unencoded arrives as a space, so
    ``2026-01-01T00:00:00.000 0000`` fails to parse (as on the real API)."""
    m = _DATE_RE.fullmatch(value)
    if not m:
        raise BadDate(value)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0),
                      int((frac or "0")[:6].ljust(6, "0")))
    except ValueError as e:
        raise BadDate(value) from e
    if off is None:
        return dt.replace(tzinfo=UTC), False
    if off in ("Z", "z"):
        mins = 0
    else:
        digits = off[1:].replace(":", "")
        mins = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        if off[0] == "-":
            mins = -mins
    return (dt - timedelta(minutes=mins)).replace(tzinfo=UTC), True


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


def _ci(s: str) -> str:
    return s.lower()


def _matches(rec: dict, terms: list[str], case_sensitive: bool) -> bool:
    vals = [rec.get("summary"), rec.get("category"), rec.get("eventSource"),
            rec.get("remoteAddress")]
    oi = rec.get("objectItem") or {}
    vals += [oi.get("name"), oi.get("parentName"), oi.get("typeName")]
    for cv in rec.get("changedValues") or []:
        vals += [cv.get("changedFrom"), cv.get("changedTo")]
    vals = [v for v in vals if isinstance(v, str)]
    if not case_sensitive:
        vals = [v.lower() for v in vals]
        terms = [t.lower() for t in terms]
    return all(any(t in v for v in vals) for t in terms)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: "JiraSimulator"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, a small body waits for the
    # client's delayed ACK of the headers (40 ms on Linux), so every short or empty page
    # took ~44 ms against ~1 ms of work. Jira's servers do not add that to a request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, fmt, *args):  # quiet
        pass

    # ------------------------------------------------------------- responses
    def _send(self, status: int, body: bytes | str, ctype: str,
              headers: dict | None = None, declared_len: int | None = None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if declared_len is None
                                               else declared_len))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self._status = status

    def _json(self, status: int, obj, headers=None):
        self._send(status, json.dumps(obj), "application/json;charset=UTF-8", headers)

    # ------------------------------------------------------------- dispatch
    def do_GET(self):
        sim = self.server.sim
        self._status = 0
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            self._dispatch(sim, path, query)
        except Exception as e:  # pragma: no cover - keep the server alive
            try:
                self._json(500, {"errorMessages": [f"simulator error: {e!r}"], "errors": {}})
            except Exception:
                pass
        finally:
            sim._log(path, query, self._status)

    def _dispatch(self, sim: "JiraSimulator", path: str, query: dict):
        gateway = False
        prefix = f"/ex/jira/{sim.cloud_id}"
        if path.startswith("/ex/jira/"):
            if not path.startswith(prefix + "/"):
                return self._send(404, HTML_404, "text/html;charset=UTF-8")
            gateway = True
            path = path[len(prefix):]
        route = {"/rest/api/3/auditing/record": "audit", "/rest/api/3/myself": "myself",
                 "/rest/api/3/user": "user", "/rest/api/3/user/bulk": "bulk"}.get(
            path.rstrip("/") or "/")
        if route is None:
            return self._send(404, HTML_404, "text/html;charset=UTF-8")
        if not sim._authorized(self.headers.get("Authorization")):
            return self._json(401, AUTH_401, {"WWW-Authenticate": 'Basic realm="protected-area"'})
        f = sim.faults
        with sim._lock:
            sim.api_requests += 1
            n_api = sim.api_requests
            apply = route == "audit" or f.all_endpoints
            if apply:
                sim.fault_requests += 1
            n = sim.fault_requests
        if f.revoke_after is not None and n_api > f.revoke_after:
            sim._count_fault("revoked")
            return self._json(401, AUTH_401)
        if route == "audit" and f.forbidden:
            sim._count_fault("forbidden")
            return self._json(403, FORBIDDEN_FREE if f.forbidden == "free" else FORBIDDEN_ADMIN)
        if f.latency_s:
            time.sleep(f.latency_s)
        if apply:
            fault = sim._pick_fault(n)
            if fault == "drop":
                self.close_connection = True
                self._status = -1
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault == "rate_limit":
                ra = f.retry_after
                reset = (datetime.now(UTC) + timedelta(seconds=ra or 1)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z")
                h = {"X-RateLimit-Limit": 100, "X-RateLimit-Remaining": 0,
                     "X-RateLimit-Reset": reset, "X-RateLimit-NearLimit": "true",
                     "RateLimit-Reason": "jira-burst-based"}
                if ra is not None:
                    h["Retry-After"] = ra
                return self._send(429, "Rate limit exceeded.", "text/plain;charset=UTF-8", h)
            if fault == "5xx":
                h = {}
                if f.error_retry_after is not None:
                    h["Retry-After"] = f.error_retry_after
                return self._send(f.error_status, HTML_503, "text/html;charset=UTF-8", h)
            if fault == "slow":
                time.sleep(f.slow_s)
            if fault == "html_200":
                return self._send(200, HTML_LOGIN, "text/html;charset=UTF-8")
        else:
            fault = None
        if route == "audit":
            status, body, ctype = self._audit(sim, query, gateway)
        elif route == "myself":
            status, body, ctype = 200, json.dumps(sim._myself(self._base())), "application/json"
        elif route == "user":
            status, body, ctype = self._user(sim, query)
        else:
            status, body, ctype = self._bulk(sim, query)
        if fault == "truncated_json" and status == 200:
            raw = body.encode()
            half = raw[: max(1, len(raw) // 2)]
            return self._send(200, half, "application/json;charset=UTF-8")
        self._send(status, body, ctype if ";" in ctype else ctype + ";charset=UTF-8")

    def _base(self) -> str:
        return self.server.sim.url

    # ------------------------------------------------------------- endpoints
    def _audit(self, sim: "JiraSimulator", q: dict, gateway: bool):
        f = sim.faults
        text = "text/plain"

        def one(name, default=None):
            v = q.get(name)
            return v[0] if v else default

        try:
            offset = int(one("offset", "0") or 0)
            limit = int(one("limit", "1000") or 1000)
        except ValueError:
            return 400, json.dumps({"errorMessages": ["Invalid integer parameter"],
                                    "errors": {}}), "application/json"
        offset = max(0, offset)
        bounds = {}
        empty = False
        for name in ("from", "to"):
            v = one(name)
            if v is None or v == "":
                bounds[name] = None
                continue
            try:
                dt, had_off = parse_api_date(v)
            except BadDate:
                return 400, f'Invalid date "{v}"', text
            if not had_off:
                if gateway:
                    empty = True
                else:
                    return 400, f'Invalid date "{v}"', text
            bounds[name] = dt
        frm, to = bounds["from"], bounds["to"]
        if frm is not None and to is not None:
            if frm > to or (frm == to and f.equal_from_to_empty):
                empty = True
        if f.arrivals_per_request:
            sim._arrivals(f.arrivals_per_request, to if f.arrivals_in_window else None)
        eff = max(0, min(limit, 1000, f.limit_clamp))
        cap = f.offset_cap
        if cap is not None and offset >= cap:
            if f.offset_cap_mode == "error":
                return 400, json.dumps({"errorMessages": [
                    f"The offset {offset} exceeds the maximum of {cap} records."],
                    "errors": {}}), "application/json"
            eff = 0
        elif cap is not None:
            eff = min(eff, cap - offset)
        terms = (one("filter") or "").split()
        if empty:
            total, texts = 0, []
        elif terms:
            allrecs = [r for r in sim.data.query(frm, to)
                       if _matches(r, terms, f.filter_case_sensitive)]
            total, texts = len(allrecs), [json.dumps(r) for r in allrecs[offset:offset + eff]]
        else:
            total, texts = sim.data.page_texts(frm, to, offset, eff)
        if f.total_mode == "instance":
            total = max(total, sim.data.instance_total())
        elif f.total_mode == "short" and total:
            total = total - max(1, total // 10)
        # Byte for byte what json.dumps gives for the page object, from the records'
        # texts (held as text by the site data).
        body = (f'{{"offset": {json.dumps(offset)}, "limit": {json.dumps(limit)}, '
                f'"total": {json.dumps(total)}, "records": [{", ".join(texts)}]}}')
        return 200, body, "application/json"

    def _user(self, sim, q):
        aid = (q.get("accountId") or [""])[0]
        if not aid:
            return 400, json.dumps({"errorMessages": ["The query parameter 'accountId' is "
                                                      "required."], "errors": {}}), \
                "application/json"
        u = sim._user_json(aid)
        if u is None:
            return 404, json.dumps({"errorMessages": [
                f"Specified user does not exist or you do not have required permissions"],
                "errors": {}}), "application/json"
        return 200, json.dumps(u), "application/json"

    def _bulk(self, sim, q):
        ids = []
        for a in q.get("accountId", []):
            if a and a not in ids:
                ids.append(a)
        try:
            start = max(0, int((q.get("startAt") or ["0"])[0] or 0))
            mx = int((q.get("maxResults") or ["10"])[0] or 10)
        except ValueError:
            return 400, json.dumps({"errorMessages": ["Invalid integer parameter"],
                                    "errors": {}}), "application/json"
        mx = max(1, min(mx, sim.faults.bulk_max))
        found = [u for u in (sim._user_json(a) for a in ids) if u is not None]
        page = found[start:start + mx]
        return 200, json.dumps({"self": f"{sim.url}/rest/api/3/user/bulk", "maxResults": mx,
                                "startAt": start, "total": len(found),
                                "isLast": start + len(page) >= len(found),
                                "values": page}), "application/json"


class JiraSimulator:
    """Run a simulated Jira Cloud site on loopback.

    >>> with JiraSimulator(SiteData(seed=7)) as sim:
    ...     requests.get(sim.url + "/rest/api/3/myself", auth=(sim.email, sim.token))
    """

    def __init__(self, data: SiteData | None = None, email: str = "demo@jira-etl.local",
                 token: str = "demo-token", faults: Faults | None = None,
                 host: str = "127.0.0.1", port: int = 0, oauth_token: str | None = None,
                 cloud_id: str = "sim-cloud-id"):
        self.data = data if data is not None else SiteData()
        self.email = email
        self.token = token
        self.faults = faults or Faults()
        self.host = host
        self.port = port
        self.oauth_token = oauth_token
        self.cloud_id = cloud_id
        self.url = ""
        self.request_log: list[tuple[str, dict, int]] = []
        self.status_counts: Counter = Counter()
        self.path_counts: Counter = Counter()
        self.fault_counts: Counter = Counter()
        self.api_requests = 0
        self.fault_requests = 0
        self.arrived_ids: list[int] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle
    def start(self) -> str:
        srv = _Server((self.host, self.port), _Handler)
        srv.sim = self
        self._server = srv
        self.port = srv.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=srv.serve_forever, name="jira-sim",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "JiraSimulator":
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def gateway_url(self) -> str:
        """Base URL of the OAuth gateway form: ``{url}/ex/jira/{cloud_id}``."""
        return f"{self.url}/ex/jira/{self.cloud_id}"

    @property
    def faults_injected(self) -> int:
        return sum(v for k, v in self.fault_counts.items()
                   if k not in ("revoked", "forbidden"))

    def reset_counters(self) -> None:
        with self._lock:
            self.request_log.clear()
            self.status_counts.clear()
            self.path_counts.clear()
            self.fault_counts.clear()
            self.api_requests = 0
            self.fault_requests = 0

    # ------------------------------------------------------------- internals
    def _log(self, path, query, status):
        with self._lock:
            self.request_log.append((path, {k: (v[0] if len(v) == 1 else v)
                                            for k, v in query.items()}, status))
            self.status_counts[status] += 1
            self.path_counts[path] += 1

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, cred = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                raw = base64.b64decode(cred.strip(), validate=True).decode()
            except Exception:
                return False
            return raw == f"{self.email}:{self.token}"
        if scheme.lower() == "bearer" and self.oauth_token:
            return cred.strip() == self.oauth_token
        return False

    def _count_fault(self, name: str):
        with self._lock:
            self.fault_counts[name] += 1

    def _pick_fault(self, n: int) -> str | None:
        f = self.faults
        with self._lock:
            if f.max_faults is not None and self.faults_injected >= f.max_faults:
                return None
            rnd = f._rng

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
            if choice:
                self.fault_counts[choice] += 1
            return choice

    def _arrivals(self, n: int, at: datetime | None):
        now = self.data.now()
        when = at if at is not None else now
        admins = self.data.admins()
        for i in range(n):
            u = admins[i % len(admins)] if admins else None
            rec = self.data.add_record(when, actor=u.accountId if u else None,
                                       summary="Project updated", category="projects",
                                       objectItem={"id": "10001", "name": "Website",
                                                   "typeName": "PROJECT"},
                                       changedValues=[{"fieldName": "Description",
                                                       "changedFrom": "a",
                                                       "changedTo": "b"}])
            with self._lock:
                self.arrived_ids.append(rec["id"])

    def _user_json(self, aid: str) -> dict | None:
        u = self.data.user(aid)
        if u is None and aid == self._service_account()["accountId"]:
            return self._service_account()
        if u is None:
            return None
        d = {"self": f"{self.url}/rest/api/3/user?accountId={u.accountId}",
             "accountId": u.accountId, "accountType": u.accountType}
        if u.accountType == "app":
            pass  # apps never expose an email: the field is absent
        else:
            d["emailAddress"] = u.emailAddress
        d.update({"avatarUrls": {"48x48": f"https://avatar.example/{u.accountId}.png"},
                  "displayName": u.displayName, "active": u.active,
                  "timeZone": u.timeZone, "locale": "en_US"})
        return d

    def _service_account(self) -> dict:
        return {"self": f"{self.url}/rest/api/3/user?accountId=sim-etl-service-account",
                "accountId": "sim-etl-service-account", "accountType": "atlassian",
                "emailAddress": self.email, "displayName": "Audit ETL Service",
                "active": True, "timeZone": "Etc/UTC", "locale": "en_US",
                "avatarUrls": {}}

    def _myself(self, base: str) -> dict:
        d = self._service_account()
        d["groups"] = {"size": 2, "items": []}
        return d


def serve(port: int = 8080, seed: int = 7, volume: int | None = None,
          tz: str = "+0000", host: str = "127.0.0.1", email: str = "demo@jira-etl.local",
          token: str = "demo-token", faults: Faults | None = None,
          data: SiteData | None = None, plant: bool = False) -> None:
    """Run the simulator in the foreground until Ctrl-C, printing URL and credentials.

    ``plant=True`` plants every detection scenario over the last 30 days."""
    if data is None:
        data = SiteData(seed=seed, daily_volume=volume, tz_offset=tz)
    if plant:
        from .scenarios import plant_month
        today = data.now().date()
        plant_month(data, today - timedelta(days=31), days=30)
    sim = JiraSimulator(data, email=email, token=token, faults=faults, host=host, port=port)
    url = sim.start()
    print(f"Jira audit-log simulator listening on {url}", flush=True)
    print(f"  site URL : {url}", flush=True)
    print(f"  email    : {email}", flush=True)
    print(f"  API token: {token}", flush=True)
    print(f"  try: curl -u {email}:{token} '{url}/rest/api/3/auditing/record?limit=2'",
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping simulator", flush=True)
    finally:
        sim.stop()
