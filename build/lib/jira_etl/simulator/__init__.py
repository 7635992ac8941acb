"""Built-in simulator of the Jira Cloud audit-log API (see jira-audit-api.md)."""
from .data import SiteData, User
from .server import Faults, JiraSimulator, serve

__all__ = ["SiteData", "User", "Faults", "JiraSimulator", "serve"]
