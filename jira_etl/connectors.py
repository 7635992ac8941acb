"""Which Jira connectors this deployment collects, validated once, and their resources.

Three sources, first match wins:
1. `connectors.yaml` in the working directory (or the file named by JIRA_ETL_CONNECTORS);
2. one connector from JIRA_SITE / JIRA_EMAIL / JIRA_API_TOKEN (or JIRA_CLOUD_ID /
   JIRA_OAUTH_TOKEN; with JIRA_DEPLOYMENT=datacenter, JIRA_SITE the server's full URL and
   JIRA_PAT or JIRA_USERNAME / JIRA_PASSWORD), named by JIRA_CONNECTOR (default `default`);
3. nothing set: the simulator connector `demo`.

The file holds the *names* of the environment variables with secrets, never secrets.
Every entry is checked by a strict typed model (connectors_model.py: no coercion, no
unknown fields) and then by kind: Cloud with an API token (site, email, api_token_env),
Cloud through the OAuth gateway (cloud_id, oauth_token_env), or Data Center
(`deployment: datacenter`, site, and pat_env or username + password_env). Every problem
stops loading with a message naming the file, the connector and the field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from jira_etl import settings
from jira_etl.connectors_model import FIELDS, parse_entry
from jira_etl.settings import ConfigError

DEFAULT_SLICES = 64
# 12 threads: with 100 ms per request, 8 left the fetch latency-bound (3.4x the
# sequential client in `make bench`), 12 reached ~4.6x; slices spill into their day's
# file every few thousand rows and allocator caches are bounded, so threads cost
# little memory (fetching a 1M-record day with 12: ~0.46 GB peak). Lower it per
# connector if Jira answers 429 often.
DEFAULT_CONCURRENCY = 12

DEMO_CONNECTOR = "demo"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYS = set(FIELDS)
_COMMON = {"name", "enabled", "deployment", "slices", "concurrency", "refresh_minutes"}
_KINDS = {
    "cloud": _COMMON | {"site", "email", "api_token_env"},
    "oauth": _COMMON | {"cloud_id", "oauth_token_env"},
    "datacenter": _COMMON | {"site", "pat_env", "username", "password_env"},
}


@dataclass(frozen=True)
class Connector:
    name: str
    site: str | None = None  # a literal site name/URL (from the file)
    email: str | None = None
    token_env: str | None = None  # name of the variable holding the API token
    cloud_id: str | None = None
    oauth_env: str | None = None  # name of the variable holding the OAuth token
    # When the connector comes from the environment, its site and email are read
    # at run time from these variables (dg.EnvVar), not frozen at load.
    site_env: str | None = None
    email_env: str | None = None
    cloud_id_env: str | None = None
    slices: int = DEFAULT_SLICES
    concurrency: int = DEFAULT_CONCURRENCY
    # Jira Data Center: `site` is the server's full URL; a personal access token (the
    # variable `pat_env`) or `username` (or the variable `username_env`) + `password_env`.
    deployment: str = "cloud"
    pat_env: str | None = None
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    refresh_minutes: int | None = None  # None: JIRA_ETL_REFRESH_MINUTES

    @property
    def simulated(self) -> bool:
        return not (self.site or self.site_env or self.cloud_id or self.cloud_id_env)

    def resolved(self) -> dict[str, str | None]:
        """Site, email and secret values for use outside Dagster (test-connection, status)."""
        env = os.environ

        def get(literal, var):
            return env.get(var) if var else literal

        return {
            "site": get(self.site, self.site_env),
            "email": get(self.email, self.email_env),
            "api_token": env.get(self.token_env) if self.token_env else None,
            "cloud_id": get(self.cloud_id, self.cloud_id_env),
            "oauth_token": env.get(self.oauth_env) if self.oauth_env else None,
            "deployment": self.deployment,
            "pat": env.get(self.pat_env) if self.pat_env else None,
            "username": get(self.username, self.username_env),
            "password": env.get(self.password_env) if self.password_env else None,
        }


def connectors_file() -> Path | None:
    explicit = os.environ.get("JIRA_ETL_CONNECTORS")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"JIRA_ETL_CONNECTORS: file {path} does not exist")
        if not path.is_file():
            raise ConfigError(f"JIRA_ETL_CONNECTORS: {path} is not a file")
        return path
    default = Path.cwd() / "connectors.yaml"
    return default if default.exists() else None


def _require_env(where: str, field: str, var: object) -> str:
    if not isinstance(var, str) or not _ENV_NAME.match(var):
        # Not echoed: a token pasted here by mistake must not reach a log.
        raise ConfigError(f"{where}: {field} must be the NAME of an environment variable "
                          "(letters, digits, _), not its value")
    if not os.environ.get(var):
        raise ConfigError(f"{where}: {field} names environment variable {var}, which is not set")
    return var


def load_file(path: Path) -> list[Connector]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as UTF-8 text ({type(exc).__name__})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict) or set(doc) != {"connectors"} or not isinstance(doc["connectors"], list):
        raise ConfigError(f"{path}: expected a mapping with one key, 'connectors', holding a list")
    if not doc["connectors"]:
        raise ConfigError(f"{path}: 'connectors' is empty")
    out: list[Connector] = []
    seen: set[str] = set()
    for i, item in enumerate(doc["connectors"], 1):
        name, where = settings.named_entry(item, path, i, "connector", _KEYS)
        if name in seen:
            raise ConfigError(f"{where}: duplicate connector name")
        seen.add(name)
        entry = parse_entry(item, where)
        connector = _connector(entry, set(item), where)
        if entry.enabled:
            out.append(connector)
    if not out:
        raise ConfigError(f"{path}: every connector is disabled (enabled: false)")
    return out


def _connector(entry, given: set[str], where: str) -> Connector:
    """The entry's kind, its fields checked together; a field of another kind is refused."""
    tuning = {k: getattr(entry, k) for k in ("slices", "concurrency", "refresh_minutes") if getattr(entry, k) is not None}
    if entry.deployment == "datacenter":
        _only(given, "datacenter", where, "with deployment: datacenter use site and pat_env, or site, username "
              "and password_env")
        if "site" not in given:
            raise ConfigError(f"{where}: field 'site' is missing")
        settings.resolve_server_url(entry.site, f"{where}: field 'site'")
        if entry.pat_env is not None:
            if entry.username is not None or entry.password_env is not None:
                raise ConfigError(f"{where}: use either pat_env or username+password_env, not both")
            pat = _require_env(where, "field 'pat_env'", entry.pat_env)
            return Connector(entry.name, site=entry.site, deployment="datacenter", pat_env=pat, **tuning)
        if entry.username is None or entry.password_env is None:
            missing = "username" if entry.username is None else "password_env"
            raise ConfigError(f"{where}: field '{missing}' is missing (or give pat_env, a personal access token)")
        if not entry.username.strip() or any(c.isspace() or not c.isprintable() for c in entry.username):
            raise ConfigError(f"{where}: field 'username' is empty or holds whitespace or control characters")
        password = _require_env(where, "field 'password_env'", entry.password_env)
        return Connector(entry.name, site=entry.site, deployment="datacenter", username=entry.username,
                         password_env=password, **tuning)
    if "cloud_id" in given:
        _only(given, "oauth", where, "use either site+email+api_token_env or cloud_id+oauth_token_env")
        settings.gateway_base(settings.ATLASSIAN_GATEWAY, entry.cloud_id, f"{where}: field 'cloud_id'")
        oauth = _require_env(where, "field 'oauth_token_env'", entry.oauth_token_env)
        return Connector(entry.name, cloud_id=entry.cloud_id, oauth_env=oauth, **tuning)
    _only(given, "cloud", where, "pat_env, username and password_env are for deployment: datacenter; "
          "use either site+email+api_token_env or cloud_id+oauth_token_env")
    for key in ("site", "email", "api_token_env"):
        if key not in given:
            raise ConfigError(f"{where}: field '{key}' is missing")
    settings.resolve_site(entry.site, f"{where}: field 'site'")
    settings.validate_email(entry.email, f"{where}: field 'email'")
    token_env = _require_env(where, "field 'api_token_env'", entry.api_token_env)
    return Connector(entry.name, site=entry.site, email=entry.email, token_env=token_env, **tuning)


def _only(given: set[str], kind: str, where: str, hint: str) -> None:
    extra = sorted(given - _KINDS[kind])
    if extra:
        raise ConfigError(f"{where}: field(s) {', '.join(extra)} do not go with this kind of connector: {hint}")


def from_environment() -> list[Connector]:
    env = os.environ
    name = env.get("JIRA_CONNECTOR") or "default"
    if not _NAME.match(name):
        raise ConfigError(f"JIRA_CONNECTOR: {name!r} must be lower-case letters, digits and _")
    deployment = (env.get("JIRA_DEPLOYMENT") or "cloud").strip().lower()
    if deployment not in ("cloud", "datacenter"):
        raise ConfigError(f"JIRA_DEPLOYMENT: {deployment!r} must be cloud or datacenter")
    if deployment == "datacenter":
        return [_datacenter_from_environment(name)]
    if env.get("JIRA_CLOUD_ID"):
        settings.gateway_base(settings.ATLASSIAN_GATEWAY, env["JIRA_CLOUD_ID"])
        _require_env("environment", "JIRA_OAUTH_TOKEN", "JIRA_OAUTH_TOKEN")
        return [Connector(name, cloud_id_env="JIRA_CLOUD_ID", oauth_env="JIRA_OAUTH_TOKEN")]
    settings.resolve_site(env["JIRA_SITE"])
    for var in ("JIRA_EMAIL", "JIRA_API_TOKEN"):
        _require_env("environment", var, var)
    settings.validate_email(env["JIRA_EMAIL"])
    return [Connector(name, site_env="JIRA_SITE", email_env="JIRA_EMAIL", token_env="JIRA_API_TOKEN")]


def _datacenter_from_environment(name: str) -> Connector:
    env = os.environ
    if not env.get("JIRA_SITE"):
        raise ConfigError("JIRA_SITE is not set: with JIRA_DEPLOYMENT=datacenter set it to the server's full URL "
                          "(https://jira.example.com/jira)")
    settings.resolve_server_url(env["JIRA_SITE"])
    if env.get("JIRA_PAT"):
        if env.get("JIRA_PASSWORD"):
            raise ConfigError("JIRA_PAT and JIRA_PASSWORD are both set: use a personal access token or a password")
        settings.validate_token(env["JIRA_PAT"], "JIRA_PAT")
        return Connector(name, site_env="JIRA_SITE", deployment="datacenter", pat_env="JIRA_PAT")
    for var in ("JIRA_USERNAME", "JIRA_PASSWORD"):
        if not env.get(var):
            raise ConfigError(f"{var} is not set: with JIRA_DEPLOYMENT=datacenter set JIRA_PAT (a personal access "
                              "token), or JIRA_USERNAME and JIRA_PASSWORD")
    return Connector(name, site_env="JIRA_SITE", deployment="datacenter", username_env="JIRA_USERNAME",
                     password_env="JIRA_PASSWORD")


def configured_connectors() -> list[Connector]:
    path = connectors_file()
    if path is not None:
        return load_file(path)
    if os.environ.get("JIRA_SITE") or os.environ.get("JIRA_CLOUD_ID"):
        return from_environment()
    given = [v for v in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_OAUTH_TOKEN", "JIRA_PAT", "JIRA_PASSWORD")
             if os.environ.get(v)]
    if given:
        # Credentials without a site are a half-made configuration: collecting the
        # built-in simulator's records instead would look like success.
        raise ConfigError(f"JIRA_SITE is not set although {' and '.join(given)} {'is' if len(given) == 1 else 'are'}: "
                          "set JIRA_SITE (acme or https://acme.atlassian.net), or JIRA_CLOUD_ID for OAuth; "
                          "unset them to use the built-in simulator")
    return [Connector(DEMO_CONNECTOR)]


def simulator_notice(connectors: list[Connector]) -> str | None:
    """What to say, loudly, when a connector collects the built-in simulator: a code
    location started in the wrong directory would otherwise show a healthy `demo`."""
    simulated = [c.name for c in connectors if c.simulated]
    if not simulated:
        return None
    return (f"NO JIRA SITE CONFIGURED: connector(s) {', '.join(simulated)} collect the BUILT-IN SIMULATOR, "
            f"not a real Jira (no connectors.yaml in {Path.cwd()}, no $JIRA_ETL_CONNECTORS, JIRA_SITE unset). "
            "Set JIRA_SITE/JIRA_EMAIL/JIRA_API_TOKEN or write connectors.yaml to collect your site.")
