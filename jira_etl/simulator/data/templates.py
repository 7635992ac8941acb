"""Record rendering: the background's record templates and how one stored row becomes
the API's record dict.

A generated row is (template index, actor index, h): ``h`` is a 62-bit draw from which
every detail of the record (which project, which group, which field) is picked, so the
same row always renders the same record. Only background-safe summaries live here; the
attack-looking ones are planted explicitly by ``scenarios``.
"""
from __future__ import annotations

import hashlib
from typing import Callable

from .catalogue import (CUSTOM_FIELDS, DIRECTORY_PARENT, FIELD_SCHEMES, NORMAL_GROUPS,
                        NOTIFICATION_SCHEMES, PROJECTS, STATUSES, WORKFLOW_SCHEMES, WORKFLOWS)
from .directory import User
from .instants import render_created


def _mix(x: int) -> int:
    x = (x * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return (x ^ (x >> 32)) >> 1



def _pick(seq, h: int, salt: int = 0):
    return seq[(_mix(h + salt * 7919)) % len(seq)]


def user_item(u: User) -> dict:
    return {"id": u.accountId, "name": u.accountId, "typeName": "USER",
            "parentId": DIRECTORY_PARENT[0], "parentName": DIRECTORY_PARENT[1]}


def _group_item(name: str, h: int) -> dict:
    d = {"name": name, "typeName": "GROUP", "parentId": DIRECTORY_PARENT[0],
         "parentName": DIRECTORY_PARENT[1]}
    if h % 2:
        d = {"id": hashlib.md5(name.encode()).hexdigest()[:8] + "-grp", **d}
    return d


def _project_item(h: int, salt: int = 0) -> dict:
    pid, key, name = _pick(PROJECTS, h, salt)
    return {"id": pid, "name": name, "typeName": "PROJECT"}


class TemplateContext:
    """What a template builder may use: the site's users, grouped."""

    def __init__(self, users: list[User]):
        self.users = users
        self.regular = [u for u in users if u.role == "user"]


def _t_user_updated(h, ctx):
    u = _pick(ctx.regular, h, 1)
    fld = _pick(("Full name", "Email", "Time zone"), h, 2)
    if fld == "Full name":
        cv = {"fieldName": "Full name", "changedFrom": u.displayName.lower(),
              "changedTo": u.displayName}
    elif fld == "Email":
        cv = {"fieldName": "Email", "changedFrom": f"old{h % 97}@example.com",
              "changedTo": u.emailAddress or "hidden@example.com"}
    else:
        cv = {"fieldName": "Time zone", "changedTo": u.timeZone}
    return {"objectItem": user_item(u), "changedValues": [cv], "associatedItems": []}


def _t_added_to_group(h, ctx):
    g = _pick(NORMAL_GROUPS, h, 3)
    u = _pick(ctx.regular, h, 4)
    return {"objectItem": _group_item(g, h), "changedValues": [],
            "associatedItems": [user_item(u)]}


def _t_group_created(h, ctx):
    name = f"team-{_pick(('alpha', 'bravo', 'delta', 'omega', 'nova', 'atlas'), h, 5)}-{h % 1000}"
    return {"objectItem": _group_item(name, h), "changedValues": [], "associatedItems": []}


def _t_project_created(h, ctx):
    p = _project_item(h, 6)
    return {"objectItem": p, "associatedItems": [], "changedValues": [
        {"fieldName": "Name", "changedTo": p["name"]},
        {"fieldName": "Key", "changedTo": _pick(PROJECTS, h, 6)[1]},
        {"fieldName": "Project type", "changedTo": "software"}]}


def _t_project_updated(h, ctx):
    return {"objectItem": _project_item(h, 7), "associatedItems": [], "changedValues": [
        {"fieldName": "Description", "changedFrom": f"rev {h % 50}",
         "changedTo": f"rev {h % 50 + 1}"}]}


def _t_version(h, ctx):
    pid, key, name = _pick(PROJECTS, h, 8)
    v = f"{h % 5}.{h % 13}.{h % 7}"
    return {"objectItem": {"id": str(20000 + h % 5000), "name": v, "typeName": "VERSION",
                           "parentId": pid, "parentName": name},
            "changedValues": [{"fieldName": "Name", "changedTo": v}],
            "associatedItems": [{"id": pid, "name": name, "typeName": "PROJECT"}]}


def _t_component(h, ctx):
    pid, key, name = _pick(PROJECTS, h, 9)
    c = _pick(("backend", "frontend", "api", "docs", "infra"), h, 10)
    return {"objectItem": {"id": str(30000 + h % 3000), "name": c,
                           "typeName": "PROJECT_COMPONENT", "parentId": pid,
                           "parentName": name},
            "changedValues": [{"fieldName": "Name", "changedTo": c}], "associatedItems": []}


def _t_workflow(h, ctx):
    w = _pick(WORKFLOWS, h, 11)
    return {"objectItem": {"name": w, "typeName": "WORKFLOW"}, "associatedItems": [],
            "changedValues": [] if h % 3 else [
                {"fieldName": "Status", "changedFrom": _pick(STATUSES, h, 12),
                 "changedTo": _pick(STATUSES, h, 13)}]}


def _t_scheme(pool, salt, with_project=False):
    def build(h, ctx):
        s = _pick(pool, h, salt)
        d = {"objectItem": {"id": str(10100 + pool.index(s)), "name": s, "typeName": "SCHEME"},
             "changedValues": [], "associatedItems": []}
        if with_project:
            d["associatedItems"] = [_project_item(h, salt + 1)]
        return d
    return build


def _t_custom_field(h, ctx):
    f = _pick(CUSTOM_FIELDS, h, 14)
    return {"objectItem": {"id": f"customfield_{10010 + CUSTOM_FIELDS.index(f)}", "name": f,
                           "typeName": "CUSTOM_FIELD"},
            "changedValues": [{"fieldName": "Name", "changedTo": f},
                              {"fieldName": "Type", "changedTo": "Number Field"}],
            "associatedItems": []}


def _t_status(h, ctx):
    s = _pick(STATUSES, h, 15)
    return {"objectItem": {"id": str(1 + STATUSES.index(s)), "name": s, "typeName": "STATUS"},
            "changedValues": [{"fieldName": "Name", "changedTo": s}], "associatedItems": []}




# name -> (summary, category, builder). Only background-safe summaries live here; the
# attack-looking ones are planted explicitly by scenarios.py.
TEMPLATES: list[tuple[str, str, Callable]] = [
    ("User updated", "user management", _t_user_updated),                      # 0
    ("User added to group", "group management", _t_added_to_group),            # 1
    ("Group created", "group management", _t_group_created),                   # 2
    ("Project created", "projects", _t_project_created),                       # 3
    ("Project updated", "projects", _t_project_updated),                       # 4
    ("Project version created", "projects", _t_version),                       # 5
    ("Project version released", "projects", _t_version),                      # 6
    ("Project component created", "projects", _t_component),                   # 7
    ("Workflow created", "workflows", _t_workflow),                            # 8
    ("Workflow updated", "workflows", _t_workflow),                            # 9
    ("Workflow scheme created", "workflows", _t_scheme(WORKFLOW_SCHEMES, 20)),  # 10
    ("Workflow scheme updated", "workflows", _t_scheme(WORKFLOW_SCHEMES, 21)),  # 11
    ("Workflow scheme added to project", "workflows",
     _t_scheme(WORKFLOW_SCHEMES, 22, True)),                                   # 12
    ("Field Configuration scheme created", "fields", _t_scheme(FIELD_SCHEMES, 23)),  # 13
    ("Field Configuration scheme updated", "fields", _t_scheme(FIELD_SCHEMES, 24)),  # 14
    ("Custom field created", "fields", _t_custom_field),                       # 15
    ("Status created", "workflows", _t_status),                                # 16
    ("Status updated", "workflows", _t_status),                                # 17
    ("Workflow deleted", "workflows", _t_workflow),                            # 18
    ("Field Configuration scheme deleted", "fields", _t_scheme(FIELD_SCHEMES, 25)),  # 19
    ("Notification scheme deleted", "notifications",
     _t_scheme(NOTIFICATION_SCHEMES, 26)),                                     # 20
]
DESCRIPTIONS = ("Changed via REST API", "Bulk change", "Imported from CSV",
                "Updated by site import")



def build_record(day, pos: int, rid: int, users: list[User], ctx: TemplateContext,
                 off: int, unknown_fields: bool) -> dict:
    """Row ``pos`` of a stored day (see day_store) as the API's record dict: an injected
    record as it was given, a generated one rendered from its template."""
    ms = int(day.ms[pos])
    t = int(day.tmpl[pos])
    if t < 0:
        src = day.explicit[int(day.h[pos])]
        rec = {k: v for k, v in src.items() if not k.startswith("_")}
        rec["id"] = rid
        rec["created"] = render_created(ms, src.get("_off", off))
        rec = {"id": rid, **{k: v for k, v in rec.items() if k != "id"}}
    else:
        h = int(day.h[pos])
        summary, category, build = TEMPLATES[t]
        rec = {"id": rid, "summary": summary}
        a = int(day.actor[pos])
        if a >= 0:
            u = users[a]
            if u.ip:
                rec["remoteAddress"] = u.ip
            rec["authorKey"] = u.authorKey
            rec["authorAccountId"] = u.accountId
        rec["created"] = render_created(ms, off)
        rec["category"] = category
        rec["eventSource"] = "" if h % 29 else "jira-automation"
        if h % 37 == 0:
            rec["description"] = _pick(DESCRIPTIONS, h, 30)
        rec.update(build(h, ctx))
        if unknown_fields and h % 101 == 0:
            rec["extraInfo"] = {"source": "sim", "note": "undocumented field"}
    return rec
