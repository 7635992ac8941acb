"""Test a connector the way the connector form's button does, with a precise answer."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from jira_etl import settings
from jira_etl.connectors import Connector, configured_connectors
from jira_etl.jira.client import JiraClient, JiraError, RetryPolicy

UTC = dt.timezone.utc


@dataclass
class ConnectionResult:
    connector: str
    ok: bool
    message: str
    remedy: str = ""
    checked_at: dt.datetime | None = None

    def line(self) -> str:
        stamp = (self.checked_at or dt.datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
        if self.ok:
            return f"[{self.connector}] Connection successful at {stamp}: {self.message}"
        text = f"[{self.connector}] Connection failed at {stamp}: {self.message}"
        return text + (f"\n  Remedy: {self.remedy}" if self.remedy else "")


def client_for(connector: Connector, quick: bool = True) -> JiraClient:
    # A connection test must answer within seconds: few, short retries.
    policy = RetryPolicy(max_retries=2, base_delay=1.0, max_delay=2.0, timeout=10.0, connect_timeout=3.0) if quick else None
    if connector.simulated:
        from jira_etl.resources import embedded_simulator

        sim = embedded_simulator()
        return JiraClient(sim.url, email=sim.email, api_token=sim.token, retry=policy)
    env = os.environ
    for var in (connector.site_env, connector.email_env, connector.token_env):
        if not env.get(var or ""):
            raise settings.ConfigError(f"connector {connector.name}: environment variable {var} is not set")
    base = settings.resolve_site(env[connector.site_env], connector.site_env)
    email = settings.validate_email(env[connector.email_env], connector.email_env)
    token = settings.validate_token(env[connector.token_env], connector.token_env)
    return JiraClient(base, email=email, api_token=token, retry=policy)


def check_connector(connector: Connector) -> ConnectionResult:
    """Reachability and credentials (/myself), then audit-log access (Administer Jira, paid plan)."""
    now = dt.datetime.now(UTC)
    try:
        client = client_for(connector)
        me = client.myself()
        who = me.get("displayName") or me.get("emailAddress") or me.get("accountId") or "?"
        client.audit_page(now - dt.timedelta(days=1), now, offset=0, limit=1)
    except settings.ConfigError as exc:
        return ConnectionResult(connector.name, False, str(exc), "Fix the configuration value named above.", now)
    except JiraError as exc:
        return ConnectionResult(connector.name, False, str(exc), exc.remedy, now)
    return ConnectionResult(
        connector.name, True, f"{client.base_url} as {who}; the audit log is readable", checked_at=now
    )


def test_connection(args) -> bool:
    connectors = configured_connectors()
    if getattr(args, "connector", None) and not getattr(args, "all", False):
        connectors = [c for c in connectors if c.name == args.connector]
        if not connectors:
            names = ", ".join(c.name for c in configured_connectors())
            print(f"jira-etl: error: unknown connector {args.connector!r}; configured: {names}")
            return False
    ok = True
    for c in connectors:
        result = check_connector(c)
        print(result.line(), flush=True)
        ok &= result.ok
    return ok
