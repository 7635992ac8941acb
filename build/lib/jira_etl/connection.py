"""Test a connector the way the connector form's button does, with a precise answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from jira_etl import settings
from jira_etl.sources.client import JiraClient, JiraError

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
