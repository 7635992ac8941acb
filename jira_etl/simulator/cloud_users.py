"""User look-ups of the Jira Cloud API: ``/myself``, ``/user`` and ``/user/bulk``, and
how a directory entry (or the collector's own service account) is shown in them."""
from __future__ import annotations

import json

SERVICE_ACCOUNT_ID = "sim-etl-service-account"


def service_account(sim) -> dict:
    """The account the collector authenticates as (its email is the simulator's)."""
    return {"self": f"{sim.url}/rest/api/3/user?accountId={SERVICE_ACCOUNT_ID}",
            "accountId": SERVICE_ACCOUNT_ID, "accountType": "atlassian",
            "emailAddress": sim.email, "displayName": "Audit ETL Service",
            "active": True, "timeZone": "Etc/UTC", "locale": "en_US",
            "avatarUrls": {}}


def user_json(sim, aid: str) -> dict | None:
    """``GET /user`` body of an account id, None when the site has no such account."""
    u = sim.data.user(aid)
    if u is None and aid == service_account(sim)["accountId"]:
        return service_account(sim)
    if u is None:
        return None
    d = {"self": f"{sim.url}/rest/api/3/user?accountId={u.accountId}",
         "accountId": u.accountId, "accountType": u.accountType}
    if u.accountType == "app":
        pass  # apps never expose an email: the field is absent
    else:
        d["emailAddress"] = u.emailAddress
    d.update({"avatarUrls": {"48x48": f"https://avatar.example/{u.accountId}.png"},
              "displayName": u.displayName, "active": u.active,
              "timeZone": u.timeZone, "locale": "en_US"})
    return d


def myself(sim, q: dict, gateway: bool) -> tuple[int, str, str]:
    """GET /rest/api/3/myself -> (status, body, content type)."""
    d = service_account(sim)
    d["groups"] = {"size": 2, "items": []}
    return 200, json.dumps(d), "application/json"


def user(sim, q: dict, gateway: bool) -> tuple[int, str, str]:
    """GET /rest/api/3/user?accountId= -> (status, body, content type)."""
    aid = (q.get("accountId") or [""])[0]
    if not aid:
        return 400, json.dumps({"errorMessages": ["The query parameter 'accountId' is "
                                                  "required."], "errors": {}}), \
            "application/json"
    u = user_json(sim, aid)
    if u is None:
        return 404, json.dumps({"errorMessages": [
            "Specified user does not exist or you do not have required permissions"],
            "errors": {}}), "application/json"
    return 200, json.dumps(u), "application/json"


def bulk(sim, q: dict, gateway: bool) -> tuple[int, str, str]:
    """GET /rest/api/3/user/bulk (repeated accountId, startAt, maxResults)."""
    ids = []
    for a in q.get("accountId", []):
        if a and a not in ids:
            ids.append(a)
    try:
        start = max(0, int((q.get("startAt") or ["0"])[0] or 0))
        mx = int((q.get("maxResults") or ["10"])[0] or 10)
    except ValueError:
        return 400, json.dumps({"errorMessages": ["Invalid integer parameter"],
                                "errors": {}}), "application/json"
    mx = max(1, min(mx, sim.faults.bulk_max))
    found = [u for u in (user_json(sim, a) for a in ids) if u is not None]
    page = found[start:start + mx]
    return 200, json.dumps({"self": f"{sim.url}/rest/api/3/user/bulk", "maxResults": mx,
                            "startAt": start, "total": len(found),
                            "isLast": start + len(page) >= len(found),
                            "values": page}), "application/json"
