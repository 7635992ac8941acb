"""A simulated Jira Data Center server on loopback (../shared/jira-dc-audit-api.md):

* ``GET {ctx}/rest/auditing/1.0/events`` (from, to inclusive; limit 1..100000, default
  200; offset; pageCursor ``"<epoch ms>,<internal id>"``), newest first, `pagingInfo` with
  ``nextPageCursor`` and ``lastPage``;
* ``GET {ctx}/rest/api/2/serverInfo`` (anonymous) and ``GET {ctx}/rest/api/2/myself``.

Auth: ``Bearer <pat>`` or Basic ``username:password``; 401 otherwise, 403 on the events
for a user who is not a system administrator (``admin=False``), 404 for the events on a
Jira older than 8.8 (``legacy=True``). ``rate_limit_every=N`` answers every N-th events
request 429 (``status_503=True``: 503) with ``Retry-After``. Everything outside the context
path is a 404 page. The log itself is dc_render.DCLog.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .cloud_api import BadDate, parse_api_date
from .dc_render import DCLog, to_ms
from .served import Served

EVENTS = "/rest/auditing/1.0/events"
SERVER_INFO = "/rest/api/2/serverInfo"
MYSELF = "/rest/api/2/myself"
HTML_404 = "<html><head><title>Oops, you've found a dead link. - Jira</title></head><body>404</body></html>"
AUTH_401 = {"errorMessages": ["You are not authenticated. Authentication required to perform this operation."],
            "errors": {}}
FORBIDDEN = {"errorMessages": ["You do not have permission to view the audit log."], "errors": {}}


class DCSimulator(Served):
    """``with DCSimulator(context_path="/jira") as sim: sim.url`` is the JIRA_SITE."""

    def __init__(self, log: DCLog | None = None, *, context_path: str = "", pat: str = "demo-pat",
                 username: str = "admin", password: str = "admin-password", admin: bool = True,
                 legacy: bool = False, rate_limit_every: int = 0, status_503: bool = False,
                 retry_after: float = 0, host: str = "127.0.0.1", port: int = 0, version: str = "9.12.15"):
        self.context_path = "/" + context_path.strip("/") if context_path.strip("/") else ""
        self.log = log if log is not None else DCLog()
        self.pat, self.username, self.password = pat, username, password
        self.admin, self.legacy, self.version = admin, legacy, version
        self.rate_limit_every, self.status_503, self.retry_after = rate_limit_every, status_503, retry_after
        self.host, self.port = host, port
        self.url = ""
        self.request_log: list[tuple[str, dict, int, str]] = []  # path, query, status, auth scheme
        self.status_counts: Counter = Counter()
        self._events_requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        srv = ThreadingHTTPServer((self.host, self.port), _Handler)
        srv.daemon_threads = True
        srv.sim = self  # type: ignore[attr-defined]
        self._server = srv
        self.port = srv.server_address[1]
        self.url = f"http://{self.host}:{self.port}{self.context_path}"
        self.log.base = self.url
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.url

    def events_requests(self) -> list[dict]:
        with self._lock:
            return [q for p, q, s, _ in self.request_log if p.endswith(EVENTS)]

    def authorized(self, header: str | None) -> bool:
        scheme, _, cred = (header or "").partition(" ")
        if scheme.lower() == "bearer":
            return bool(self.pat) and cred.strip() == self.pat
        if scheme.lower() == "basic":
            try:
                raw = base64.b64decode(cred.strip(), validate=True).decode()
            except Exception:
                return False
            return bool(self.password) and raw == f"{self.username}:{self.password}"
        return False

    def record(self, path: str, query: dict, status: int, scheme: str) -> None:
        with self._lock:
            self.request_log.append((path, {k: v[0] if len(v) == 1 else v for k, v in query.items()}, status, scheme))
            self.status_counts[status] += 1

    def throttled(self) -> bool:
        with self._lock:
            self._events_requests += 1
            return bool(self.rate_limit_every) and self._events_requests % self.rate_limit_every == 0

    # ------------------------------------------------------------- endpoints
    def events(self, query: dict) -> tuple[int, dict]:
        def one(name, default=None):
            values = query.get(name)
            return values[0] if values else default

        try:
            start = to_ms(parse_api_date(one("from"))[0]) if one("from") else 0
            end = to_ms(parse_api_date(one("to"))[0]) if one("to") else (1 << 60)
            limit = int(one("limit", "200"))
            offset = int(one("offset", "0"))
        except (BadDate, ValueError, TypeError):
            return 400, {"errorMessages": ["Invalid request parameters"], "errors": {}}
        if not 1 <= limit <= 100000 or offset < 0:
            return 400, {"errorMessages": ["limit must be 1..100000, offset >= 0"], "errors": {}}
        after = None
        if one("pageCursor"):
            try:
                ms, iid = one("pageCursor").split(",")
                after = (int(ms), int(iid))
            except ValueError:
                return 400, {"errorMessages": ["Invalid page cursor"], "errors": {}}
        rows = self.log.window(start, end, after)
        if after is None:
            rows = rows[offset:]
        page, rest = rows[:limit], rows[limit:]
        paging: dict = {"size": len(page), "lastPage": not rest}
        if rest:
            last_ms, last_id, _ = page[-1]
            paging["nextPageCursor"] = f"{last_ms},{last_id}"
            paging["nextPageOffset"] = offset + limit if after is None else None
            paging["nextPageLink"] = f"{self.url}{EVENTS}?pageCursor={last_ms},{last_id}&limit={limit}"
        return 200, {"entities": [e for _, _, e in page], "pagingInfo": paging}

    def server_info(self) -> dict:
        return {"baseUrl": self.url, "version": self.version, "versionNumbers": [9, 12, 15],
                "deploymentType": "Server" if self.legacy else "DataCenter", "buildNumber": 9120015,
                "serverTitle": "Jira (simulated Data Center)",
                "serverTime": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        html = isinstance(body, str)
        data = body.encode() if html else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html;charset=UTF-8" if html else "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.server.sim.record(self._path, self._query, status, self._scheme)  # type: ignore[attr-defined]
        self.wfile.write(data)

    def do_GET(self):
        sim: DCSimulator = self.server.sim  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        self._query = parse_qs(parts.query, keep_blank_values=True)
        self._path = parts.path
        header = self.headers.get("Authorization")
        self._scheme = (header or "").partition(" ")[0].lower()
        ctx = sim.context_path
        if ctx and not (parts.path == ctx or parts.path.startswith(ctx + "/")):
            return self._send(404, HTML_404)
        route = parts.path[len(ctx):]
        if route == SERVER_INFO:
            return self._send(200, sim.server_info())
        if route not in (EVENTS, MYSELF):
            return self._send(404, HTML_404)
        if not sim.authorized(header):
            return self._send(401, AUTH_401, {"WWW-Authenticate": 'Basic realm="protected-area"'})
        if route == MYSELF:
            name = sim.username if self._scheme == "basic" else "ada.admin"
            return self._send(200, {"name": name, "key": name, "displayName": name.title(), "active": True})
        if sim.legacy:
            return self._send(404, HTML_404)
        if not sim.admin:
            return self._send(403, FORBIDDEN)
        if sim.throttled():
            status = 503 if sim.status_503 else 429
            return self._send(status, {"errorMessages": ["Too many requests"], "errors": {}},
                              {"Retry-After": f"{sim.retry_after:g}"})
        status, body = sim.events(self._query)
        return self._send(status, body)


def serve_datacenter(port: int = 8080, host: str = "127.0.0.1", context_path: str = "", pat: str = "demo-pat",
                     days: int = 7, per_day: int = 200, twins: int = 50, seed: int = 7) -> None:
    """`jira-etl simulator --deployment datacenter`: the last `days` days, in the foreground."""
    import time

    today = dt.datetime.now(dt.timezone.utc).date()
    sim = DCSimulator(context_path=context_path, pat=pat, host=host, port=port, rate_limit_every=0)
    url = sim.start()
    sim.log.populate([today - dt.timedelta(days=i) for i in range(days, -1, -1)], per_day=per_day, seed=seed, twins=twins)
    print(f"Jira Data Center audit-log simulator listening on {url}", flush=True)
    print("  JIRA_DEPLOYMENT=datacenter", flush=True)
    print(f"  JIRA_SITE={url}", flush=True)
    print(f"  JIRA_PAT={pat}", flush=True)
    print(f"  try: curl -H 'Authorization: Bearer {pat}' '{url}{EVENTS}?limit=2'", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping simulator", flush=True)
    finally:
        sim.stop()
