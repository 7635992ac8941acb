"""The typed model of one `connectors.yaml` entry (pydantic v2, strict): every field has
one type and no coercion (`enabled: "false"` is refused, not taken as true; `slices: "4"`
and `slices: true` are refused, not taken as numbers), unknown fields are refused, and
each problem is reported with the connector and the field named. Which fields go together
(the connector kinds) is decided in connectors.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from jira_etl.settings import REFRESH_INTERVALS, ConfigError

DEPLOYMENTS = ("cloud", "datacenter")


class ConnectorEntry(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: str
    enabled: bool = True
    deployment: Literal["cloud", "datacenter"] = "cloud"
    site: str | None = None
    # Jira Cloud, API token
    email: str | None = None
    api_token_env: str | None = None
    # Jira Cloud, OAuth / scoped token through the gateway
    cloud_id: str | None = None
    oauth_token_env: str | None = None
    # Jira Data Center: a personal access token, or username + password
    pat_env: str | None = None
    username: str | None = None
    password_env: str | None = None
    # tuning
    slices: int | None = None
    concurrency: int | None = None
    refresh_minutes: int | None = None


FIELDS = frozenset(ConnectorEntry.model_fields)
_TYPE_WORDS = {"name": "text", "enabled": "true or false", "deployment": "cloud or datacenter",
               "slices": "an integer from 1 to 64", "concurrency": "an integer from 1 to 64",
               "refresh_minutes": "a whole number of minutes"}


def parse_entry(item: dict, where: str) -> ConnectorEntry:
    """The entry as a ConnectorEntry, or ConfigError naming the field. A wrong value is
    described by its type only: it may be a secret pasted into the wrong field."""
    try:
        entry = ConnectorEntry.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "missing":
            raise ConfigError(f"{where}: field '{field}' is missing") from None
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown field(s) {field}; allowed: {', '.join(sorted(FIELDS))}") from None
        expected = _TYPE_WORDS.get(field, "text")
        got = type(first.get("input")).__name__
        if got == "str":
            got = "text"
        elif got in ("NoneType",):
            got = "nothing (null)"
        raise ConfigError(f"{where}: field '{field}' must be {expected}, got {got}"
                          + (" (quote nothing: write true or false)" if field == "enabled" else "")) from None
    for key in ("slices", "concurrency"):
        value = getattr(entry, key)
        if value is not None and not 1 <= value <= 64:
            raise ConfigError(f"{where}: field '{key}' must be an integer from 1 to 64")
    if entry.refresh_minutes is not None and entry.refresh_minutes not in REFRESH_INTERVALS:
        raise ConfigError(f"{where}: field 'refresh_minutes': {entry.refresh_minutes} minutes cannot be a regular "
                          "cron schedule (it is refused, not rounded); use one of "
                          + ", ".join(map(str, REFRESH_INTERVALS)))
    return entry
