"""The Jira Cloud REST API the simulator speaks (see jira-audit-api.md): routes, the OAuth
gateway form, the error bodies, and the audit-records endpoint.

Endpoints (all need Basic ``email:token``, or ``Bearer <oauth_token>`` when configured):

* ``GET /rest/api/3/auditing/record`` (offset, limit, filter, from, to)
* ``GET /rest/api/3/myself``
* ``GET /rest/api/3/user?accountId=...``
* ``GET /rest/api/3/user/bulk?accountId=a&accountId=b&startAt=&maxResults=``

The user endpoints are in cloud_users.py. The same endpoints are served under the OAuth
gateway prefix ``/ex/jira/{cloud_id}/rest/api/3/...``; through it a from/to without a
timezone answers 200 with ``records: []`` (the silent-loss trap) instead of 400.

A Jira Data Center API (``/rest/auditing/1.0/events``) would be a sibling module with
its own routes, bodies and paging; the HTTP plumbing (handler.py), the faults
(faults.py) and the site data are shared.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from . import cloud_users

UTC = timezone.utc

AUTH_401 = {"message": "Client must be authenticated to access this resource.",
            "status-code": 401}
FORBIDDEN_ADMIN = {"errorMessages": ["You are not authorized to perform this operation. "
                                     "Please contact your Jira administrators."],
                   "errors": {}, "status": 403}
FORBIDDEN_FREE = {"errorMessages": ["Audit log is not available for Free plans. "
                                    "Upgrade your plan to access the audit log."],
                  "errors": {}, "status": 403}
HTML_404 = ("<!DOCTYPE html><html><head><title>Atlassian Cloud</title></head><body>"
            "<h1>Your Atlassian Cloud site is currently unavailable.</h1></body></html>")

ROUTES = {"/rest/api/3/auditing/record": "audit", "/rest/api/3/myself": "myself",
          "/rest/api/3/user": "user", "/rest/api/3/user/bulk": "bulk"}

_DATE_RE = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d\d(?::?\d\d)?)?")


class BadDate(ValueError):
    pass


def parse_api_date(value: str) -> tuple[datetime, bool]:
    """Parse an ISO 8601 from/to value -> (aware UTC datetime, had_offset).

    Raises BadDate when unparseable. A ``+`` sent unencoded arrives as a space, so
    ``2026-01-01T00:00:00.000 0000`` fails to parse (as on the real API)."""
    m = _DATE_RE.fullmatch(value)
    if not m:
        raise BadDate(value)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0),
                      int((frac or "0")[:6].ljust(6, "0")))
    except ValueError as e:
        raise BadDate(value) from e
    if off is None:
        return dt.replace(tzinfo=UTC), False
    if off in ("Z", "z"):
        mins = 0
    else:
        digits = off[1:].replace(":", "")
        mins = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        if off[0] == "-":
            mins = -mins
    return (dt - timedelta(minutes=mins)).replace(tzinfo=UTC), True


def _matches(rec: dict, terms: list[str], case_sensitive: bool) -> bool:
    """The ``filter`` parameter: every term appears in one of the record's texts."""
    vals = [rec.get("summary"), rec.get("category"), rec.get("eventSource"),
            rec.get("remoteAddress")]
    oi = rec.get("objectItem") or {}
    vals += [oi.get("name"), oi.get("parentName"), oi.get("typeName")]
    for cv in rec.get("changedValues") or []:
        vals += [cv.get("changedFrom"), cv.get("changedTo")]
    vals = [v for v in vals if isinstance(v, str)]
    if not case_sensitive:
        vals = [v.lower() for v in vals]
        terms = [t.lower() for t in terms]
    return all(any(t in v for v in vals) for t in terms)


def resolve(path: str, cloud_id: str) -> tuple[str | None, bool]:
    """(route name or None for a 404, whether it came through the OAuth gateway)."""
    gateway = False
    prefix = f"/ex/jira/{cloud_id}"
    if path.startswith("/ex/jira/"):
        if not path.startswith(prefix + "/"):
            return None, False
        gateway = True
        path = path[len(prefix):]
    return ROUTES.get(path.rstrip("/") or "/"), gateway


def audit(sim, q: dict, gateway: bool) -> tuple[int, str, str]:
    """GET /rest/api/3/auditing/record -> (status, body, content type)."""
    f = sim.faults
    text = "text/plain"

    def one(name, default=None):
        v = q.get(name)
        return v[0] if v else default

    try:
        offset = int(one("offset", "0") or 0)
        limit = int(one("limit", "1000") or 1000)
    except ValueError:
        return 400, json.dumps({"errorMessages": ["Invalid integer parameter"],
                                "errors": {}}), "application/json"
    offset = max(0, offset)
    bounds = {}
    empty = False
    for name in ("from", "to"):
        v = one(name)
        if v is None or v == "":
            bounds[name] = None
            continue
        try:
            dt, had_off = parse_api_date(v)
        except BadDate:
            return 400, f'Invalid date "{v}"', text
        if not had_off:
            if gateway:
                empty = True
            else:
                return 400, f'Invalid date "{v}"', text
        bounds[name] = dt
    frm, to = bounds["from"], bounds["to"]
    if frm is not None and to is not None:
        if frm > to or (frm == to and f.equal_from_to_empty):
            empty = True
    if f.arrivals_per_request:
        sim._arrivals(f.arrivals_per_request, to if f.arrivals_in_window else None)
    eff = max(0, min(limit, 1000, f.limit_clamp))
    cap = f.offset_cap
    if cap is not None and offset >= cap:
        if f.offset_cap_mode == "error":
            return 400, json.dumps({"errorMessages": [
                f"The offset {offset} exceeds the maximum of {cap} records."],
                "errors": {}}), "application/json"
        eff = 0
    elif cap is not None:
        eff = min(eff, cap - offset)
    terms = (one("filter") or "").split()
    if empty:
        total, texts = 0, []
    elif terms:
        allrecs = [r for r in sim.data.query(frm, to)
                   if _matches(r, terms, f.filter_case_sensitive)]
        total, texts = len(allrecs), [json.dumps(r) for r in allrecs[offset:offset + eff]]
    else:
        total, texts = sim.data.page_texts(frm, to, offset, eff)
    if f.total_mode == "instance":
        total = max(total, sim.data.instance_total())
    elif f.total_mode == "short" and total:
        total = total - max(1, total // 10)
    # Byte for byte what json.dumps gives for the page object, from the records'
    # texts (held as text by the site data).
    body = (f'{{"offset": {json.dumps(offset)}, "limit": {json.dumps(limit)}, '
            f'"total": {json.dumps(total)}, "records": [{", ".join(texts)}]}}')
    return 200, body, "application/json"


# route name -> endpoint(sim, query, gateway) -> (status, body, content type)
ENDPOINTS = {"audit": audit, "myself": cloud_users.myself, "user": cloud_users.user,
             "bulk": cloud_users.bulk}
