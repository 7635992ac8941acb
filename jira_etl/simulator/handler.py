"""The HTTP side of the simulator: a threading loopback server and its request handler
(authentication, request counting, faults before the endpoint, the response bytes).

What the endpoints answer is the API module's (cloud_api.py); the handler only routes
to it. The server object carries the running :class:`~.server.JiraSimulator` as ``sim``.
"""
from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import cloud_api
from .cloud_api import AUTH_401, FORBIDDEN_ADMIN, FORBIDDEN_FREE, HTML_404
from .faults import send_fault, truncate


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim = None  # the running JiraSimulator, set by its start()


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
        # Logged before the body goes out: a client that has read its answer must find its
        # request in the log (logging after the write raced the client under load).
        self._status = status
        self._log_once()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self._status = status

    def _json(self, status: int, obj, headers=None):
        self._send(status, json.dumps(obj), "application/json;charset=UTF-8", headers)

    def _log_once(self):
        if not self._logged:
            self._logged = True
            self.server.sim._log(self._path, self._query, self._status)

    # ------------------------------------------------------------- dispatch
    def do_GET(self):
        sim = self.server.sim
        self._status = 0
        self._logged = False
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        self._path, self._query = path, query
        try:
            self._dispatch(sim, path, query)
        except Exception as e:  # pragma: no cover - keep the server alive
            try:
                self._json(500, {"errorMessages": [f"simulator error: {e!r}"], "errors": {}})
            except Exception:
                pass
        finally:
            self._log_once()

    def _dispatch(self, sim, path: str, query: dict):
        route, gateway = cloud_api.resolve(path, sim.cloud_id)
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
        fault = sim._pick_fault(n) if apply else None
        if send_fault(self, fault, f):
            return
        status, body, ctype = cloud_api.ENDPOINTS[route](sim, query, gateway)
        if fault == "truncated_json" and status == 200:
            return self._send(200, truncate(body), "application/json;charset=UTF-8")
        self._send(status, body, ctype if ";" in ctype else ctype + ";charset=UTF-8")
