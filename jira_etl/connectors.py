"""Which Jira connectors this deployment collects, and their Dagster resources."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg

from jira_etl.resources import JiraResource

DEMO_CONNECTOR = "demo"


@dataclass(frozen=True)
class Connector:
    name: str
    # Names of the environment variables holding the values (never the values).
    site_env: str | None = None
    email_env: str | None = None
    token_env: str | None = None

    @property
    def simulated(self) -> bool:
        return self.site_env is None

    def resource(self) -> JiraResource:
        if self.simulated:
            return JiraResource(connector=self.name)
        return JiraResource(
            connector=self.name,
            site=dg.EnvVar(self.site_env),
            email=dg.EnvVar(self.email_env),
            api_token=dg.EnvVar(self.token_env),
        )


def configured_connectors() -> list[Connector]:
    """With JIRA_SITE set, one connector from the environment; otherwise the simulator."""
    if os.environ.get("JIRA_SITE"):
        name = os.environ.get("JIRA_CONNECTOR") or "default"
        return [Connector(name, "JIRA_SITE", "JIRA_EMAIL", "JIRA_API_TOKEN")]
    return [Connector(DEMO_CONNECTOR)]
