"""Typed errors of the Jira client: each says what went wrong and what to do about it,
never with a token or a full URL with credentials in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests


class JiraError(Exception):
    """Base of every failure talking to Jira; `str()` is meant for humans."""

    status: int | None = None
    remedy: str = ""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class BadRequestError(JiraError):
    remedy = "This is a bug in the request (dates?): report it with the message."


class AuthenticationError(JiraError):
    remedy = "Check JIRA_EMAIL and JIRA_API_TOKEN (create a token at id.atlassian.com > Security > API tokens)."


class PermissionDeniedError(JiraError):
    """403: either the user lacks Administer Jira, or the audit log is off (Free plan)."""

    def __init__(self, message: str, status: int | None = 403, reason: str = "permission"):
        super().__init__(message, status)
        self.reason = reason  # "permission" or "free_plan"
        self.remedy = (
            "The audit log needs a paid Jira plan: upgrade at least one Jira product on the site."
            if reason == "free_plan"
            else "Grant the user the 'Administer Jira' global permission (Settings > System > Global permissions)."
        )


class NotFoundError(JiraError):
    remedy = "Check JIRA_SITE: the site name is the <name> in https://<name>.atlassian.net."


class UnreachableError(JiraError):
    remedy = "Check JIRA_SITE and the network (DNS, proxy, firewall)."


class RetriesExhaustedError(JiraError):
    remedy = "Jira kept failing transiently (rate limits or server errors); retry later."


class UnexpectedResponseError(JiraError):
    remedy = "Jira answered something that is not the documented JSON; check JIRA_SITE points at Jira Cloud."


# --- from a response or an exception of requests to a typed error -------------------


def _error_text(resp: requests.Response) -> str:
    """The useful words of an error body (JSON message, ErrorCollection or plain text)."""
    text = resp.text or ""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts: list[str] = []
        for key in ("message", "errorMessage"):
            if isinstance(body.get(key), str):
                parts.append(body[key])
        msgs = body.get("errorMessages")
        if isinstance(msgs, list):
            parts.extend(str(m) for m in msgs)
        errs = body.get("errors")
        if isinstance(errs, dict):
            parts.extend(f"{k}: {v}" for k, v in errs.items())
        if parts:
            return "; ".join(parts)[:300]
    if "<html" in text[:500].lower():
        return "(HTML page)"
    return " ".join(text.split())[:300]


_CONNECT_FAILURES = [
    ("Connection refused", "connection refused (nothing listens there)"),
    ("Name or service not known", "the host name does not resolve"),
    ("Failed to resolve", "the host name does not resolve"),
    ("NameResolution", "the host name does not resolve"),
    ("nodename nor servname", "the host name does not resolve"),
    ("Temporary failure in name resolution", "the host name does not resolve (DNS unavailable)"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "the network is unreachable"),
    ("CERTIFICATE_VERIFY_FAILED", "the TLS certificate could not be verified"),
]


def _connect_failure(exc: Exception) -> str | None:
    """A short reason when the host cannot be reached at all (waiting will not help)."""
    text = str(exc)
    return next((reason for needle, reason in _CONNECT_FAILURES if needle in text), None)


def _short(exc: Exception) -> str:
    # requests' messages embed the URL (never credentials: auth is in headers), trimmed.
    return " ".join(str(exc).split())[:200]


def _typed_error(resp: requests.Response, url: str) -> JiraError:
    status = resp.status_code
    detail = _error_text(resp).rstrip(". ")  # our sentences follow it
    if status == 400:
        return BadRequestError(f"Jira rejected the request (400): {detail}", status)
    if status == 401:
        return AuthenticationError(
            f"Jira refused the credentials (401): {detail or 'not authenticated'}. "
            "The email or API token is wrong, or the token was revoked.",
            status,
        )
    if status == 403:
        lowered = detail.lower()
        if "free" in lowered or "plan" in lowered or "not available" in lowered:
            return PermissionDeniedError(
                f"The audit log is not available on this site (403): {detail}. "
                "Every Jira product on the site is on the Free plan.",
                status,
                reason="free_plan",
            )
        return PermissionDeniedError(
            f"Access denied (403): {detail or 'forbidden'}. "
            "The user needs the 'Administer Jira' global permission to read the audit log.",
            status,
            reason="permission",
        )
    if status == 404:
        return NotFoundError(f"Not found (404) at {url.split('?')[0]}: is the site name right?", status)
    return JiraError(f"Unexpected HTTP {status} from Jira: {detail}", status)
