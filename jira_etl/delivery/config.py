"""Where findings are delivered: destinations from the environment and `delivery.yaml`.

Two sources, both used (names must not clash):
1. the environment: JIRA_ETL_WEBHOOK_URL (generic JSON), JIRA_ETL_SLACK_WEBHOOK_URL,
   JIRA_ETL_TEAMS_WEBHOOK_URL, JIRA_ETL_SYSLOG_URL (tcp:// or tls://, with
   JIRA_ETL_SYSLOG_CA_FILE), each with JIRA_ETL_ALERT_MIN_SEVERITY (default medium);
2. `delivery.yaml` in the working directory, or the file named by
   JIRA_ETL_DELIVERY_CONFIG, for several destinations with their own minimum severity
   and connectors.

A webhook URL is a secret (its path holds the token): the file names the environment
variable that holds it (`url_env`), a Destination keeps only that name and reads the
value when it sends, and no message here ever quotes a URL.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from jira_etl.settings import ConfigError, named_entry

SEVERITIES = ("low", "medium", "high", "critical")
KINDS = ("webhook", "slack", "teams", "syslog")
DEFAULT_TIMEOUT_S = 10.0
ENV_DESTINATIONS = (  # name and kind, variable with the URL
    ("webhook", "JIRA_ETL_WEBHOOK_URL"),
    ("slack", "JIRA_ETL_SLACK_WEBHOOK_URL"),
    ("teams", "JIRA_ETL_TEAMS_WEBHOOK_URL"),
    ("syslog", "JIRA_ETL_SYSLOG_URL"),
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = {"name", "type", "url_env", "url", "min_severity", "connectors", "ca_file", "timeout_seconds"}


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    url_env: str | None = None  # the NAME of the variable holding the URL
    syslog_url: str | None = None  # a literal tcp:// or tls:// address (not a secret)
    min_severity: str = "medium"
    connectors: tuple[str, ...] | None = None  # None: every connector
    ca_file: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def url(self) -> str:
        """The URL, read now (never stored in this object, so never in its repr)."""
        if self.syslog_url:
            return self.syslog_url
        value = os.environ.get(self.url_env or "", "").strip()
        if not value:
            raise ConfigError(f"destination '{self.name}': environment variable {self.url_env} is not set")
        return value

    def wants(self, finding: dict) -> bool:
        if finding.get("suppressed"):
            return False
        if self.connectors is not None and finding.get("connector") not in self.connectors:
            return False
        return severity_rank(finding.get("severity")) >= severity_rank(self.min_severity)


def severity_rank(severity: str | None) -> int:
    try:
        return SEVERITIES.index(str(severity).lower())
    except ValueError:
        return -1


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(kind: str, value: str, where: str) -> None:
    """A webhook must be https:// (plain http:// only on loopback, for tests and local
    relays); syslog is tcp://host:port or tls://host:port. The value is never quoted."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: is not a valid URL (value not shown: it may hold a secret)") from None
    host = parts.hostname or ""
    if kind == "syslog":
        if parts.scheme not in ("tcp", "tls") or not host or port is None:
            raise ConfigError(f"{where}: must be tcp://host:port or tls://host:port (RFC 5425, usually port 6514)")
        return
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _is_loopback(host):
        return
    raise ConfigError(f"{where}: must be an https:// URL (http:// only for a loopback address); "
                      "value not shown: it may hold a secret")


def _severity(value: object, where: str) -> str:
    if not isinstance(value, str) or value.lower() not in SEVERITIES:
        raise ConfigError(f"{where}: must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return value.lower()


def _timeout(value: object, where: str) -> float:
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: must be a number of seconds, got {value!r}") from None
    if not 0.1 <= t <= 120:
        raise ConfigError(f"{where}: must be between 0.1 and 120 seconds, got {t:g}")
    return t


def _ca_file(value: object, where: str) -> str:
    if not isinstance(value, str) or not Path(value).is_file():
        raise ConfigError(f"{where}: must name a readable PEM file, got {value!r}")
    return value


def from_environment() -> list[Destination]:
    env = os.environ
    min_sev = _severity(env.get("JIRA_ETL_ALERT_MIN_SEVERITY") or "medium", "JIRA_ETL_ALERT_MIN_SEVERITY")
    timeout = _timeout(env.get("JIRA_ETL_DELIVERY_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_S,
                       "JIRA_ETL_DELIVERY_TIMEOUT_SECONDS")
    out = []
    for kind, var in ENV_DESTINATIONS:
        value = (env.get(var) or "").strip()
        if not value:
            continue
        check_url(kind, value, var)
        ca = None
        if kind == "syslog":
            if env.get("JIRA_ETL_SYSLOG_CA_FILE"):
                ca = _ca_file(env["JIRA_ETL_SYSLOG_CA_FILE"], "JIRA_ETL_SYSLOG_CA_FILE")
            out.append(Destination(kind, kind, syslog_url=value, min_severity=min_sev, ca_file=ca, timeout_s=timeout))
        else:
            out.append(Destination(kind, kind, url_env=var, min_severity=min_sev, timeout_s=timeout))
    return out


def config_file() -> Path | None:
    explicit = os.environ.get("JIRA_ETL_DELIVERY_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"JIRA_ETL_DELIVERY_CONFIG: file {path} does not exist")
        return path
    default = Path.cwd() / "delivery.yaml"
    return default if default.is_file() else None


def _one(item: object, i: int, path: Path, default_sev: str, default_timeout: float) -> Destination:
    name, where = named_entry(item, path, i, "destination", _KEYS)
    kind = item.get("type")
    if kind not in KINDS:
        raise ConfigError(f"{where}: field 'type' must be one of {', '.join(KINDS)}, got {kind!r}")
    sev = _severity(item["min_severity"], f"{where}: field 'min_severity'") if "min_severity" in item else default_sev
    timeout = (_timeout(item["timeout_seconds"], f"{where}: field 'timeout_seconds'")
               if "timeout_seconds" in item else default_timeout)
    connectors = None
    if "connectors" in item:
        value = item["connectors"]
        if not isinstance(value, list) or not value or not all(isinstance(c, str) and c for c in value):
            raise ConfigError(f"{where}: field 'connectors' must be a non-empty list of connector names")
        connectors = tuple(value)
    if kind != "syslog" and ("url" in item or "ca_file" in item):
        bad = "url" if "url" in item else "ca_file"
        raise ConfigError(f"{where}: field '{bad}' is for syslog only; a {kind} URL is a secret: put it in an "
                          "environment variable and give its name in 'url_env'")
    if ("url" in item) == ("url_env" in item):
        raise ConfigError(f"{where}: give exactly one of 'url_env' (the name of a variable holding the URL)"
                          + (" or 'url'" if kind == "syslog" else ""))
    ca = _ca_file(item["ca_file"], f"{where}: field 'ca_file'") if "ca_file" in item else None
    if "url" in item:
        if not isinstance(item["url"], str):
            raise ConfigError(f"{where}: field 'url' must be a string")
        check_url(kind, item["url"], f"{where}: field 'url'")
        return Destination(name, kind, syslog_url=item["url"].strip(), min_severity=sev, connectors=connectors,
                           ca_file=ca, timeout_s=timeout)
    var = item["url_env"]
    if not isinstance(var, str) or not _ENV_NAME.match(var):
        raise ConfigError(f"{where}: field 'url_env' must be the NAME of an environment variable "
                          "(letters, digits, _), not its value")
    value = (os.environ.get(var) or "").strip()
    if not value:
        raise ConfigError(f"{where}: field 'url_env' names environment variable {var}, which is not set")
    check_url(kind, value, f"{where}: environment variable {var}")
    if kind == "syslog":
        return Destination(name, kind, syslog_url=value, min_severity=sev, connectors=connectors, ca_file=ca,
                           timeout_s=timeout)
    return Destination(name, kind, url_env=var, min_severity=sev, connectors=connectors, timeout_s=timeout)


def load_file(path: Path) -> list[Destination]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as UTF-8 text ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or set(doc) != {"destinations"} or not isinstance(doc["destinations"], list):
        raise ConfigError(f"{path}: expected a mapping with one key, 'destinations', holding a list")
    default_sev = _severity(os.environ.get("JIRA_ETL_ALERT_MIN_SEVERITY") or "medium", "JIRA_ETL_ALERT_MIN_SEVERITY")
    default_timeout = _timeout(os.environ.get("JIRA_ETL_DELIVERY_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_S,
                               "JIRA_ETL_DELIVERY_TIMEOUT_SECONDS")
    return [_one(item, i, path, default_sev, default_timeout) for i, item in enumerate(doc["destinations"], 1)]


def configured_destinations() -> list[Destination]:
    """Every destination; a problem stops loading with the file, destination and field named."""
    out = from_environment()
    path = config_file()
    if path is not None:
        out += load_file(path)
    seen: set[str] = set()
    for d in out:
        if d.name in seen:
            raise ConfigError(f"destination '{d.name}' is defined twice (the environment's destinations are named "
                              f"{', '.join(k for k, _ in ENV_DESTINATIONS)})")
        seen.add(d.name)
    return out
