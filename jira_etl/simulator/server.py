"""The simulated Jira site on loopback: :class:`JiraSimulator` (lifecycle, counters,
authentication, fault bookkeeping) and :func:`serve` for ``python -m jira_etl.simulator``.

The parts: the site's data (data/), the HTTP handler (handler.py), the Jira Cloud API it
speaks (cloud_api.py, user look-ups in cloud_users.py), the faults (faults.py). Names
other code imports from here (Faults, parse_api_date, BadDate) are re-exported.
"""
from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from .cloud_api import (AUTH_401, FORBIDDEN_ADMIN, FORBIDDEN_FREE, HTML_404, BadDate,
                        parse_api_date)
from .data import SiteData
from .faults import HTML_503, HTML_LOGIN, Faults, choose
from .handler import _Handler, _Server
from .served import Served

__all__ = ["JiraSimulator", "serve", "Faults", "SiteData", "BadDate", "parse_api_date",
           "AUTH_401", "FORBIDDEN_ADMIN", "FORBIDDEN_FREE", "HTML_404", "HTML_503",
           "HTML_LOGIN"]


class JiraSimulator(Served):
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
            choice = choose(f, n, f._rng)
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
