"""Dagster resources: a Jira site per connector, and where the data lives."""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg

from jira_etl import collect_dc  # noqa: F401 - registers the Jira Data Center day collector
from jira_etl import settings
from jira_etl.connection import ConnectionResult, check_with
from jira_etl.connectors import DEFAULT_CONCURRENCY, DEFAULT_SLICES, Connector
from jira_etl.sources.client import JiraClient, RetryPolicy
from jira_etl.sources.datacenter import DataCenterClient
from jira_etl.storage.warehouse import Warehouse


_embedded_lock = threading.Lock()
_embedded: dict[str, object] = {}


def embedded_simulator():
    """The built-in simulator, started once per process on a free loopback port.

    Used when a connector has no site configured, so a fresh clone (the UI, tests,
    the demo) always has a Jira to talk to. Deterministic per seed, so every process
    serves the same records.
    """
    from jira_etl.simulator.server import JiraSimulator

    with _embedded_lock:
        sim = _embedded.get("sim")
        if sim is None:
            sim = JiraSimulator()
            sim.start()
            _embedded["sim"] = sim
        return sim


SECRET_FIELDS = frozenset({"api_token", "oauth_token", "pat", "password", "token"})


class HidesSecrets:
    """repr() and str() of a resource show a secret field as '***' (set) or None: a
    resource ends up in logs, tracebacks and debuggers, the secret must not."""

    def __repr_args__(self):
        for name, value in super().__repr_args__():
            yield name, ("***" if value is not None and name in SECRET_FIELDS else value)


class JiraResource(HidesSecrets, dg.ConfigurableResource):
    """One Jira Cloud site. Secrets arrive through dg.EnvVar, so the UI and the run
    config only ever show the variable's name."""

    connector: str = "demo"
    site: str | None = None
    email: str | None = None
    api_token: str | None = None
    # OAuth 2.0 (3LO) or scoped tokens: requests go through the api.atlassian.com gateway.
    cloud_id: str | None = None
    oauth_token: str | None = None
    gateway: str = settings.ATLASSIAN_GATEWAY
    # Jira Data Center (deployment "datacenter"): `site` is the server's full URL with its
    # context path; a personal access token (Bearer) or username + password (Basic).
    deployment: str = "cloud"
    pat: str | None = None
    username: str | None = None
    password: str | None = None
    max_retries: int = 6
    backoff_base_s: float = 5.0
    backoff_max_s: float = 30.0
    timeout_s: float = 30.0
    # A complete day is cut into `slices` time slices walked by `concurrency` threads
    # (a one-page probe keeps small days to one slice, so quiet sites pay nothing;
    # idle threads split busy slices and start the next day); every thread pauses
    # when Jira answers 429. Memory is bounded by the threads, not by the day.
    slices: int = DEFAULT_SLICES
    concurrency: int = DEFAULT_CONCURRENCY

    def uses_simulator(self) -> bool:
        return not self.site and not self.cloud_id

    def get_client(self, quick: bool = False) -> JiraClient:
        """A client for this site; `quick` (connection tests) answers within seconds."""
        policy = RetryPolicy(
            max_retries=self.max_retries, base_delay=self.backoff_base_s,
            max_delay=self.backoff_max_s, timeout=self.timeout_s,
        )
        if quick:
            policy = RetryPolicy(max_retries=1, base_delay=1.0, max_delay=2.0, timeout=10.0, connect_timeout=3.0)
        if self.uses_simulator():
            sim = embedded_simulator()
            return JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=policy)
        if self.deployment == "datacenter":
            base = settings.resolve_server_url(self.site or "")
            if self.pat:
                return DataCenterClient(base, pat=settings.validate_token(self.pat, "JIRA_PAT"), retry=policy)
            if not (self.username and self.password):
                raise settings.ConfigError("Jira Data Center needs JIRA_PAT, or JIRA_USERNAME and JIRA_PASSWORD")
            return DataCenterClient(base, username=self.username, password=self.password, retry=policy)
        if self.cloud_id:
            base = settings.gateway_base(self.gateway, self.cloud_id)
            token = settings.validate_token(self.oauth_token or "", "JIRA_OAUTH_TOKEN")
            return JiraClient(base, bearer_token=token, retry=policy, gateway=True)
        base = settings.resolve_site(self.site or "")
        email = settings.validate_email(self.email or "")
        token = settings.validate_token(self.api_token or "")
        return JiraClient(base, email=email, api_token=token, retry=policy)


class StorageResource(dg.ConfigurableResource):
    """Where Parquet and DuckDB live ($JIRA_ETL_DATA_DIR, default ./data)."""

    data_dir: str = "data"

    @property
    def path(self) -> Path:
        return Path(self.data_dir).resolve()

    def warehouse(self) -> Warehouse:
        """The pipeline's warehouse: its readers apply the schema first (once per
        process), since the pipeline is the one place that writes and runs DDL."""
        return Warehouse(self.path, applies_schema=True)


def jira_resource(connector: Connector) -> JiraResource:
    """The connector's resource: secrets as dg.EnvVar, read at run time, never frozen."""

    def value(literal, env_name):
        return dg.EnvVar(env_name) if env_name else literal

    extra = {"slices": connector.slices, "concurrency": connector.concurrency}
    if connector.simulated:
        return JiraResource(connector=connector.name, **extra)
    if connector.deployment == "datacenter":
        auth = ({"pat": dg.EnvVar(connector.pat_env)} if connector.pat_env else
                {"username": value(connector.username, connector.username_env),
                 "password": dg.EnvVar(connector.password_env)})
        return JiraResource(connector=connector.name, deployment="datacenter",
                            site=value(connector.site, connector.site_env), **auth, **extra)
    if connector.cloud_id or connector.cloud_id_env:
        return JiraResource(connector=connector.name, cloud_id=value(connector.cloud_id, connector.cloud_id_env),
                            oauth_token=dg.EnvVar(connector.oauth_env), **extra)
    return JiraResource(connector=connector.name, site=value(connector.site, connector.site_env),
                        email=value(connector.email, connector.email_env), api_token=dg.EnvVar(connector.token_env),
                        **extra)


def client_for(connector: Connector, quick: bool = True) -> JiraClient:
    values = {k: v for k, v in connector.resolved().items() if v}
    if not connector.simulated and not (values.get("site") or values.get("cloud_id")):
        raise settings.ConfigError(f"connector {connector.name}: its site (or cloud id) variable is not set")
    return JiraResource(connector=connector.name, **values).get_client(quick=quick)


def check_connector(connector: Connector) -> ConnectionResult:
    return check_with(connector.name, lambda: client_for(connector))
