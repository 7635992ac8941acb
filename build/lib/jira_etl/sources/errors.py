"""Typed errors of the Jira client: each says what went wrong and what to do about it,
never with a token or a full URL with credentials in it."""

from __future__ import annotations


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
