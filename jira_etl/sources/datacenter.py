"""HTTP client for Jira Data Center / Server 8.8+: `GET {site}/rest/auditing/1.0/events`
(see ../shared/jira-dc-audit-api.md).

`{site}` is the server's own URL with any context path (`https://jira.example.com/jira`).
Auth is a personal access token (Bearer, Jira 8.14+) or Basic username:password. The
request loop, retries (429/503 with Retry-After, 5xx, dropped connections, bad JSON) and
the token handling are the Cloud client's (client.py): the secret lives only in the
`requests` auth object, never in a URL, message, log line or `repr()`. Only the errors'
words differ: a 403 means "not a system administrator", a 404 means the auditing plugin
path does not exist (Jira older than 8.8).

A window is walked by cursor: newest first, `from`/`to` both inclusive, each page's
`pagingInfo.nextPageCursor` asking for the entities strictly after the last one served,
until `lastPage`. Entities carry no id; keys are made in normalize_dc.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

from jira_etl.sources.client import JiraClient, RetryPolicy
from jira_etl.sources.errors import (
    AuthenticationError, JiraError, NotFoundError, PermissionDeniedError, UnexpectedResponseError,
)

EVENTS_PATH = "/rest/auditing/1.0/events"
SERVER_INFO_PATH = "/rest/api/2/serverInfo"
MYSELF_PATH = "/rest/api/2/myself"
DC_PAGE_LIMIT = 1000
MAX_PAGES_PER_WINDOW = 1_000_000  # a cursor that never ends is a server bug, not a day


class DCAuthenticationError(AuthenticationError):
    remedy = ("Check JIRA_PAT (a personal access token: profile > Personal Access Tokens, Jira 8.14+) "
              "or JIRA_USERNAME/JIRA_PASSWORD; the token may have expired or been revoked.")


class DCPermissionDeniedError(PermissionDeniedError):
    def __init__(self, message: str, status: int | None = 403):
        super().__init__(message, status, reason="permission")
        self.remedy = ("Use a user with the Jira System Administrator global permission "
                       "(Administration > System > Global permissions): only they can read the audit log.")


class AuditingUnavailableError(NotFoundError):
    remedy = ("Upgrade to Jira Data Center/Server 8.8 or later (the auditing API), or check that "
              "JIRA_SITE includes the context path (e.g. https://jira.example.com/jira).")


def format_dc_instant(value: dt.datetime) -> str:
    """`2026-10-01T00:00:00.000Z`, the form the shared document gives."""
    if value.tzinfo is None:
        raise ValueError("instants sent to Jira must be timezone-aware")
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class DataCenterClient(JiraClient):
    """One Jira Data Center server. Thread-safe as the Cloud client is."""

    deployment = "datacenter"
    page_limit = DC_PAGE_LIMIT

    def __init__(self, base_url: str, *, pat: str | None = None, username: str | None = None,
                 password: str | None = None, retry: RetryPolicy | None = None):
        if pat:
            super().__init__(base_url, bearer_token=pat, retry=retry)
        elif username and password:
            super().__init__(base_url, email=username, api_token=password, retry=retry)
        else:
            raise ValueError("DataCenterClient needs a personal access token or username+password")

    def __repr__(self) -> str:  # never show credentials
        return f"DataCenterClient({self.base_url!r})"

    def get_json(self, path: str, params: Any = None, decode=None) -> Any:
        try:
            return super().get_json(path, params, decode)
        except AuthenticationError as exc:
            raise DCAuthenticationError(
                f"Jira Data Center refused the credentials (401) at {self.base_url}: "
                "the personal access token (or username/password) is wrong, expired or revoked.",
                exc.status) from None
        except PermissionDeniedError as exc:
            raise DCPermissionDeniedError(
                "Access denied (403): the user is not a Jira system administrator, "
                "which reading the audit log needs.", exc.status) from None
        except NotFoundError as exc:
            if path == EVENTS_PATH:
                raise AuditingUnavailableError(
                    f"auditing API not available: Jira older than 8.8? (404 at {self.base_url}{EVENTS_PATH})",
                    exc.status) from None
            raise NotFoundError(f"Not found (404) at {self.base_url}{path}: is JIRA_SITE the server's URL "
                                "with its context path?", exc.status) from None

    # --- endpoints ------------------------------------------------------------------

    def server_info(self) -> dict:
        body = self.get_json(SERVER_INFO_PATH)
        if not isinstance(body, dict):
            raise UnexpectedResponseError(f"{SERVER_INFO_PATH} answered JSON that is not an object")
        return body

    def myself(self) -> dict:
        """Server info (is it Jira Data Center?), then the token (/myself): what a
        connection test asks first."""
        info = self.server_info()
        if str(info.get("deploymentType", "")).lower() == "cloud":
            raise UnexpectedResponseError(f"{self.base_url} is Jira Cloud: set JIRA_DEPLOYMENT=cloud")
        me = self.get_json(MYSELF_PATH)
        if not isinstance(me, dict):
            raise UnexpectedResponseError(f"{MYSELF_PATH} answered JSON that is not an object")
        version = info.get("version")
        name = me.get("displayName") or me.get("name") or "?"
        return {**me, "displayName": f"{name} (Jira {version})" if version else name}

    def users_bulk(self, account_ids: list[str]) -> list[dict]:
        """Nothing to look up: a Data Center entity names its author (`author.name`, kept as
        author_key), and Cloud's /user/bulk does not exist there."""
        return []

    def events_page(self, frm: dt.datetime, to: dt.datetime, cursor: str | None = None,
                    limit: int = DC_PAGE_LIMIT) -> tuple[list[dict], str | None]:
        """One page of [frm, to] (both inclusive), newest first, and the cursor of the
        next page (None on the last)."""
        params: dict[str, Any] = {"from": format_dc_instant(frm), "to": format_dc_instant(to), "limit": limit}
        if cursor is not None:
            params["pageCursor"] = cursor
        body = self.get_json(EVENTS_PATH, params)
        if not isinstance(body, dict) or not isinstance(body.get("entities"), list):
            # Not an empty page: taking it for one would publish the day without its records.
            raise UnexpectedResponseError(f"{EVENTS_PATH} answered JSON without an 'entities' list")
        paging = body.get("pagingInfo")
        paging = paging if isinstance(paging, dict) else {}
        nxt = paging.get("nextPageCursor")
        if paging.get("lastPage") is True or not nxt:
            nxt = None
        elif not isinstance(nxt, str):
            raise UnexpectedResponseError(f"{EVENTS_PATH}: pagingInfo.nextPageCursor is not text")
        return [e for e in body["entities"] if isinstance(e, dict)], nxt

    def iter_events(self, frm: dt.datetime, to: dt.datetime, limit: int | None = None) -> Iterator[dict]:
        """Every entity of [frm, to], newest first, following the cursor chain to its end."""
        limit = limit or self.page_limit
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES_PER_WINDOW):
            entities, cursor = self.events_page(frm, to, cursor, limit)
            yield from entities
            if cursor is None:
                return
            if cursor in seen:
                raise UnexpectedResponseError(f"{EVENTS_PATH}: the page cursor {cursor!r} came back twice")
            seen.add(cursor)
        raise UnexpectedResponseError(f"{EVENTS_PATH}: more than {MAX_PAGES_PER_WINDOW} pages in one window")

    def audit_page(self, frm: dt.datetime, to: dt.datetime, offset: int = 0, limit: int = DC_PAGE_LIMIT) -> list[dict]:
        """The window's newest entities (offset ignored): the connection test's probe."""
        return self.events_page(frm, to, None, max(1, limit))[0]


__all__ = ["DataCenterClient", "DCAuthenticationError", "DCPermissionDeniedError", "AuditingUnavailableError",
           "JiraError", "EVENTS_PATH", "format_dc_instant"]
