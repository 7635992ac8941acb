"""Test a connector the way the connector form's button does, with a precise answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from jira_etl import settings
from jira_etl.connectors import Connector, configured_connectors
from jira_etl.sources.client import JiraClient, JiraError
from jira_etl.resources import JiraResource

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
    values = {k: v for k, v in connector.resolved().items() if v}
    if not connector.simulated and not (values.get("site") or values.get("cloud_id")):
        raise settings.ConfigError(f"connector {connector.name}: its site (or cloud id) variable is not set")
    return JiraResource(connector=connector.name, **values).get_client(quick=quick)


def check_connector(connector: Connector) -> ConnectionResult:
    return check_with(connector.name, lambda: client_for(connector))


def check_with(name: str, make_client: Callable[[], JiraClient]) -> ConnectionResult:
    """Reachability and credentials (/myself), then audit-log access (Administer Jira, paid plan)."""
    now = dt.datetime.now(UTC)
    try:
        client = make_client()
        me = client.myself()
        who = me.get("displayName") or me.get("emailAddress") or me.get("accountId") or "?"
        client.audit_page(now - dt.timedelta(days=1), now, offset=0, limit=1)
    except settings.ConfigError as exc:
        return ConnectionResult(name, False, str(exc), "Fix the configuration value named above.", now)
    except JiraError as exc:
        return ConnectionResult(name, False, str(exc), exc.remedy, now)
    return ConnectionResult(
        name, True, f"{client.base_url} as {who}; the audit log is readable", checked_at=now
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
