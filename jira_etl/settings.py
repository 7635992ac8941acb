"""Settings read once from the environment (and a `.env` in the project root).

Everything that can be wrong in configuration is checked here and reported with the
variable's name, so a bad value stops the run before any request is made.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

DEFAULT_START_DATE = "2025-01-01"
ATLASSIAN_GATEWAY = "https://api.atlassian.com"
_SITE_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the field."""


def load_env_file() -> None:
    # The `.env` of the working directory wins over nothing but never over the real
    # environment, so CI and shells can always override it.
    load_dotenv(Path.cwd() / ".env", override=False)


def data_dir() -> Path:
    return Path(os.environ.get("JIRA_ETL_DATA_DIR") or "./data").resolve()


DEMO_START_FILE = "demo_start_date"


def start_date() -> dt.date:
    """The first daily partition: JIRA_ETL_START_DATE, else (only while no real site is
    configured) the first day `jira-etl demo` collected, so the UI's partition bar shows
    the demo's days, else DEFAULT_START_DATE."""
    raw = os.environ.get("JIRA_ETL_START_DATE") or _demo_start() or DEFAULT_START_DATE
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"JIRA_ETL_START_DATE: {raw!r} is not a date (YYYY-MM-DD)") from None


def simulator_only() -> bool:
    """No site configured anywhere: the connector `demo` talks to the built-in simulator."""
    return not (os.environ.get("JIRA_SITE") or os.environ.get("JIRA_CLOUD_ID") or os.environ.get("JIRA_ETL_CONNECTORS")
                or (Path.cwd() / "connectors.yaml").exists())


def _demo_start() -> str | None:
    marker = data_dir() / DEMO_START_FILE
    if not simulator_only() or not marker.is_file():
        return None
    return marker.read_text().strip() or None


def remember_demo_start(day: dt.date) -> dt.date:
    """Called by the demo: the simulator connector's partitions start at its first day
    (the earliest of every demo run kept in this data directory)."""
    marker = data_dir() / DEMO_START_FILE
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        day = min(day, dt.date.fromisoformat(marker.read_text().strip()))
    except (OSError, ValueError):
        pass
    marker.write_text(day.isoformat() + "\n")
    return day


def _minutes(var: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(var) or str(default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{var}: {raw!r} is not a whole number of minutes") from None
    if not low <= value <= high:
        raise ConfigError(f"{var}: {value} is outside {low}..{high} minutes")
    return value


# Intervals a cron schedule fires at evenly: */N minutes only when N divides an hour
# (*/7 would fire at :56 and again at :00), every N hours only when N divides a day.
REFRESH_INTERVALS = tuple(m for m in range(1, 61) if 60 % m == 0) + tuple(60 * h for h in (2, 3, 4, 6, 8, 12))


def refresh_minutes() -> int:
    """How often the running day is refreshed (JIRA_ETL_REFRESH_MINUTES, default 15): an
    interval cron can express exactly, never rounded to one."""
    every = _minutes("JIRA_ETL_REFRESH_MINUTES", 15, 1, 720)
    if every not in REFRESH_INTERVALS:
        raise ConfigError(f"JIRA_ETL_REFRESH_MINUTES: {every} minutes cannot be a regular schedule; use one of "
                          + ", ".join(map(str, REFRESH_INTERVALS)))
    return every


def finalize_grace_minutes() -> int:
    """How long after midnight UTC yesterday is finalized (JIRA_ETL_FINALIZE_GRACE_MINUTES, default 30)."""
    return _minutes("JIRA_ETL_FINALIZE_GRACE_MINUTES", 30, 0, 23 * 60)


def refresh_overlap() -> dt.timedelta:
    """How far before the newest held record a refresh starts, to catch late writes."""
    return dt.timedelta(minutes=_minutes("JIRA_ETL_REFRESH_OVERLAP_MINUTES", 10, 0, 24 * 60))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_site(value: str, field: str = "JIRA_SITE") -> str:
    """Turn a site/organization name or URL into the base URL requests go to.

    `acme` -> `https://acme.atlassian.net`; `https://jira.acme.com` is kept; plain http
    only for loopback (the simulator). Anything that could send the credentials
    somewhere unexpected (user-info, paths, queries, odd schemes) is refused.
    """
    raw = (value or "").strip()
    if not raw:
        raise ConfigError(f"{field} is empty: set it to your site name (acme) or URL")
    if "://" not in raw:
        name = raw.removesuffix(".atlassian.net")
        if not _SITE_NAME.match(name):
            raise ConfigError(
                f"{field}: {raw!r} is not a site name (letters, digits and hyphens, "
                "as in https://<name>.atlassian.net) nor an https:// URL"
            )
        return f"https://{name.lower()}.atlassian.net"
    if any(c.isspace() or not c.isprintable() for c in raw):
        # urlsplit silently drops tabs and newlines, which can hide another host.
        raise ConfigError(f"{field}: {raw!r} contains whitespace or control characters")
    try:
        parts = urlsplit(raw)
    except ValueError as exc:  # a broken IPv6 literal, NFKC look-alikes of / ? # @ :
        raise ConfigError(f"{field}: {raw!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise ConfigError(f"{field}: {raw!r} has an invalid host or port") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ConfigError(f"{field}: credentials in the URL are not allowed; use JIRA_EMAIL/JIRA_API_TOKEN")
    if not host:
        raise ConfigError(f"{field}: {raw!r} has no host")
    if not host.isascii():
        raise ConfigError(
            f"{field}: host {host!r} is not plain ASCII (a look-alike of another site?); "
            "write an internationalized name in its xn-- form if it really is yours"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{field}: {raw!r} must not carry a query or fragment")
    if parts.path not in ("", "/"):
        raise ConfigError(f"{field}: {raw!r} must be the site root, without a path")
    if scheme == "https":
        pass
    elif scheme == "http":
        if not _is_loopback(host):
            raise ConfigError(f"{field}: plain http is only allowed for loopback (the simulator); use https://")
    else:
        raise ConfigError(f"{field}: scheme {parts.scheme!r} is not supported; use https://")
    host_part = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host_part}" + (f":{port}" if port else "")


_CONTEXT_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+/?$")


def resolve_server_url(value: str, field: str = "JIRA_SITE") -> str:
    """A Jira Data Center server's full URL, with any context path
    (`https://jira.example.com/jira`), checked as `resolve_site` checks a Cloud URL (no
    credentials, query or fragment; plain http only for loopback). A bare site name is
    refused: it would mean Atlassian Cloud."""
    raw = (value or "").strip()
    if "://" not in raw:
        raise ConfigError(f"{field}: {raw!r} must be the server's full URL (https://jira.example.com/jira) "
                          "for deployment datacenter")
    scheme, _, rest = raw.partition("://")
    host, slash, path = rest.partition("/")
    path = slash + path
    if path in ("", "/"):
        return resolve_site(raw, field)
    if not _CONTEXT_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise ConfigError(f"{field}: {raw!r}: the context path may hold only letters, digits and . _ ~ - "
                          "between slashes (no query, fragment, '..' or encoded characters)")
    return resolve_site(f"{scheme}://{host}", field) + path.rstrip("/")


def validate_email(value: str, field: str = "JIRA_EMAIL") -> str:
    email = (value or "").strip()
    if not re.fullmatch(r"[^@\s:]+@[^@\s:]+", email):
        raise ConfigError(f"{field}: {email!r} is not an email address")
    return email


def validate_token(value: str, field: str = "JIRA_API_TOKEN") -> str:
    token = (value or "").strip()
    if not token:
        raise ConfigError(f"{field} is empty")
    if any(c.isspace() for c in token):
        # Never echo the token itself.
        raise ConfigError(f"{field} contains whitespace; paste the token exactly as issued")
    if not (token.isascii() and token.isprintable()):
        raise ConfigError(f"{field} contains characters no API token has (non-ASCII or control characters, "
                          "such as a curly quote or an invisible character pasted with it)")
    return token


def gateway_base(gateway: str, cloud_id: str, field: str = "JIRA_CLOUD_ID") -> str:
    """Base URL for OAuth / scoped-token access: {gateway}/ex/jira/{cloudId}."""
    cid = (cloud_id or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", cid):
        raise ConfigError(f"{field}: {cid!r} is not a cloud id (from accessible-resources, field 'id')")
    return resolve_site(gateway, "gateway") + f"/ex/jira/{cid}"


NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def named_entry(item: object, source: object, index: int, noun: str, keys: set[str]) -> tuple[str, str]:
    """One named entry of a list in a YAML file (a connector, a destination): a mapping
    with a lower-case `name` and only known fields. Returns its name and the place to
    cite in later messages; refuses anything else with the entry and field named."""
    where = f"{source}: {noun} #{index}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping of fields")
    name = item.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError(f"{where}: field 'name' must be lower-case letters, digits and _ "
                          f"(starting with a letter, at most 40), got {name!r}")
    where = f"{source}: {noun} '{name}'"
    unknown = sorted(set(item) - keys, key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
                          f"allowed: {', '.join(sorted(keys))}")
    return name, where
