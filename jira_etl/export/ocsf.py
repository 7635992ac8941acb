"""Audit records and findings as OCSF 1.3.0 events (plain dicts, JSON-ready).

Every audit record lands in exactly one class (`classify`): Account Change 3001,
Authentication 3002, Entity Management 3004, User Access Management 3005 or Group
Management 3006; findings are Detection Finding 2004. What has no OCSF field (the
record's category, event source, description, its object and associated items as
Jira sent them, the changed values, the connector) goes to `unmapped`. OCSF up to 1.3
carries `actor` in IAM classes only through the `host` profile, so every event
declares it in `metadata.profiles`. Keys whose value is None are left out.
"""

from __future__ import annotations

import ipaddress
import re

from jira_etl.records import epoch_ms

OCSF_VERSION = "1.3.0"
PRODUCT = {"name": "Jira", "vendor_name": "Atlassian"}

CLASSES = {  # uid -> (name, category uid, category name, Security Lake source <= 20 chars)
    3001: ("Account Change", 3, "Identity & Access Management", "jira_account_change"),
    3002: ("Authentication", 3, "Identity & Access Management", "jira_authentication"),
    3004: ("Entity Management", 3, "Identity & Access Management", "jira_entity_mgmt"),
    3005: ("User Access Management", 3, "Identity & Access Management", "jira_user_access"),
    3006: ("Group Management", 3, "Identity & Access Management", "jira_group_mgmt"),
    2004: ("Detection Finding", 2, "Findings", "jira_findings"),
}
ACTIVITIES = {
    3001: {1: "Create", 2: "Enable", 3: "Password Change", 4: "Password Reset", 5: "Disable", 6: "Delete", 99: "Other"},
    3002: {1: "Logon", 2: "Logoff", 99: "Other"},
    3004: {1: "Create", 3: "Update", 4: "Delete", 99: "Other"},
    3005: {1: "Assign Privileges", 2: "Revoke Privileges", 99: "Other"},
    3006: {1: "Assign Privileges", 2: "Revoke Privileges", 3: "Add User", 4: "Remove User", 5: "Delete",
           6: "Create", 99: "Other"},
    2004: {1: "Create", 2: "Update", 3: "Close"},
}
FINDING_SEVERITY = {"low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"), "critical": (5, "Critical")}
_ACTIVE_FIELDS = {"active", "active status", "status", "account status"}
_ON = {"true", "active", "yes", "1", "enabled"}
_OFF = {"false", "inactive", "no", "0", "disabled", "deactivated"}


def source_name(class_uid: int) -> str:
    return CLASSES[class_uid][3]


def compact(value):
    """Drop None (and empty dicts) recursively: OCSF wants absent, not null."""
    if isinstance(value, dict):
        out = {k: compact(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def valid_ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip())) if value else None
    except ValueError:
        return None


def norm(text) -> str:
    return re.sub(r"\s+", " ", str(text or "").replace("\u2019", "'").strip().lower())


def items_of_type(rec: dict, type_name: str) -> list[dict]:
    return [i for i in (rec.get("associated_items") or []) if norm(i.get("type_name")) == type_name.lower()]


def _active_change(rec: dict) -> int | None:
    for c in rec.get("changed_values") or []:
        if norm(c.get("field_name")) in _ACTIVE_FIELDS:
            to = norm(c.get("changed_to"))
            if to in _ON:
                return 2
            if to in _OFF:
                return 5
    return None


def classify(rec: dict) -> tuple[int, int]:
    """(class_uid, activity_id) of an audit record; every record gets exactly one."""
    s, obj_type = norm(rec.get("summary")), norm(rec.get("object_item_type_name")).upper()
    if re.search(r"\blog(ged)? ?in\b|\blogin\b|\bauthenticat", s):
        return 3002, 1
    if re.search(r"\blog(ged)? ?out\b|\blogout\b", s):
        return 3002, 2
    if s.startswith("user added to group"):
        return 3006, 3
    if s.startswith("user removed from group"):
        return 3006, 4
    if s.startswith("group created"):
        return 3006, 6
    if s.startswith("group deleted") or s.startswith("group removed"):
        return 3006, 5
    if s.startswith("global permission"):
        grant = 1 if re.search(r"added|granted", s) else 2
        if items_of_type(rec, "group"):
            return 3006, grant
        if items_of_type(rec, "user"):
            return 3005, grant
        return 3004, 3
    if s.startswith("project roles changed") and _role_user(rec):
        return 3005, 2 if _role_user(rec)[1] else 1
    if s.startswith("user removed from project") and items_of_type(rec, "user"):
        return 3005, 2
    if s.startswith("user") and (obj_type == "USER" or norm(rec.get("category")) == "user management"):
        if "password" in s:
            return 3001, 4 if "reset" in s else 3
        for word, act in (("created", 1), ("deleted", 6), ("removed", 6), ("reactivated", 2), ("deactivated", 5),
                          ("activated", 2), ("enabled", 2), ("disabled", 5), ("suspended", 5)):
            if word in s:
                return 3001, act
        return 3001, _active_change(rec) or 99
    if re.search(r"\b(created|copied)\b", s):
        return 3004, 1
    if re.search(r"\bdeleted\b", s) or (s.endswith("removed") and "from" not in s):
        return 3004, 4
    return 3004, 3


def _role_user(rec: dict) -> tuple[str, bool] | None:
    """The user a project-role change is about, and whether it was a removal."""
    for c in rec.get("changed_values") or []:
        if norm(c.get("field_name")) in ("users", "user", "members"):
            to, frm = (c.get("changed_to") or "").strip(), (c.get("changed_from") or "").strip()
            if to and to not in frm:
                return to.split(",")[0].strip(), False
            if frm:
                return frm.split(",")[0].strip(), True
    users = items_of_type(rec, "user")
    if users:
        return users[0].get("id") or users[0].get("name"), False
    return None


def _user(uid, name=None) -> dict | None:
    return {"uid": uid, "name": name} if (uid or name) else None


def _item(i: dict) -> dict:
    return {k: i.get(k) for k in ("id", "name", "type_name", "parent_id", "parent_name")}


def _unmapped(rec: dict) -> dict:
    return {
        "connector": rec.get("connector"),
        "category": rec.get("category"),
        "event_source": rec.get("event_source") or None,
        "description": rec.get("description"),
        "author_key": rec.get("author_key"),
        "object_item": {"id": rec.get("object_item_id"), "name": rec.get("object_item_name"),
                        "type_name": rec.get("object_item_type_name"), "parent_id": rec.get("object_item_parent_id"),
                        "parent_name": rec.get("object_item_parent_name")},
        "associated_items": [_item(i) for i in rec.get("associated_items") or []],
        "changed_values": [{k: c.get(k) for k in ("field_name", "changed_from", "changed_to")}
                           for c in rec.get("changed_values") or []],
    }


def _base(class_uid: int, activity_id: int, time_ms: int, uid: str, tenant: str) -> dict:
    name, cat_uid, cat_name, _ = CLASSES[class_uid]
    return {
        "activity_id": activity_id, "activity_name": ACTIVITIES[class_uid].get(activity_id, "Other"),
        "category_uid": cat_uid, "category_name": cat_name,
        "class_uid": class_uid, "class_name": name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{name}: {ACTIVITIES[class_uid].get(activity_id, 'Other')}",
        "time": time_ms,
        "metadata": {"version": OCSF_VERSION, "product": dict(PRODUCT, feature={"name": "Audit log"}),
                     "uid": uid, "profiles": ["host"], "log_name": "audit", "tenant_uid": tenant},
    }


def record_event(rec: dict) -> dict:
    """One audit record (a row of `audit_records`, with `actor_name` if resolved)."""
    class_uid, activity_id = classify(rec)
    ev = _base(class_uid, activity_id, epoch_ms(rec.get("created")) or 0, str(rec["id"]), rec.get("connector"))
    ev.update(severity_id=1, severity="Informational", message=rec.get("summary"),
              status_id=1, status="Success")
    actor = _user(rec.get("author_account_id"), rec.get("actor_name"))
    ev["actor"] = {"user": actor} if actor else {"app_name": "Jira"}
    ip = valid_ip(rec.get("remote_address"))
    ev["src_endpoint"] = {"ip": ip} if ip else None
    obj_id, obj_name, obj_type = rec.get("object_item_id"), rec.get("object_item_name"), rec.get("object_item_type_name")
    groups, users = items_of_type(rec, "group"), items_of_type(rec, "user")
    if class_uid in (3001, 3002):
        target = _user(obj_id or obj_name, obj_name) if norm(obj_type) == "user" else None
        if target is None and users:
            target = _user(users[0].get("id") or users[0].get("name"), users[0].get("name"))
        ev["user"] = target or actor or {"name": "unknown"}
    elif class_uid == 3006:
        if norm(obj_type) == "group":
            ev["group"] = {"uid": obj_id, "name": obj_name or obj_id}
        else:
            g = groups[0] if groups else {}
            ev["group"] = {"uid": g.get("id"), "name": g.get("name") or g.get("id") or "unknown"}
        if users:
            ev["user"] = _user(users[0].get("id") or users[0].get("name"), users[0].get("name"))
        if activity_id in (1, 2):
            ev["privileges"] = [obj_name or obj_id or "global permission"]
        elif "user" not in ev:
            ev["privileges"] = []  # group created/deleted: no user, no privilege changed
    elif class_uid == 3005:
        if norm(rec.get("summary")).startswith("project roles changed"):
            uid, _removed = _role_user(rec)
            ev["user"] = {"uid": uid}
            ev["privileges"] = [f"project role: {obj_name or obj_id}"]
            project = (items_of_type(rec, "project") or [{}])[0]
            ev["resource"] = {"uid": project.get("id"), "name": project.get("name"), "type": "PROJECT"} \
                if project else None
        elif norm(rec.get("summary")).startswith("global permission"):
            u = users[0]
            ev["user"] = _user(u.get("id") or u.get("name"), u.get("name"))
            ev["privileges"] = [obj_name or obj_id or "global permission"]
        else:
            u = users[0]
            ev["user"] = _user(u.get("id") or u.get("name"), u.get("name"))
            roles = [c.get("changed_from") for c in rec.get("changed_values") or []
                     if norm(c.get("field_name")) == "role" and c.get("changed_from")]
            ev["privileges"] = [f"project role: {r}" for r in roles] or ["project member"]
            ev["resource"] = {"uid": obj_id, "name": obj_name, "type": obj_type} if (obj_id or obj_name) else None
    else:
        ev["entity"] = {"uid": obj_id, "name": obj_name or (None if obj_id else (obj_type or "unknown")),
                        "type": obj_type}
    ev["unmapped"] = _unmapped(rec)
    return compact(ev)


def attack_techniques(attack: str | None) -> list[dict] | None:
    m = re.match(r"\s*(T\d{4}(?:\.\d{3})?)\s*(.*)", attack or "")
    if not m:
        return None
    return [{"technique": {"uid": m.group(1), "name": m.group(2) or None}, "version": "v15"}]


def finding_event(f: dict, attack: str | None = None) -> dict:
    """One finding (a row of `findings`) as Detection Finding 2004."""
    sev_id, sev = FINDING_SEVERITY.get(str(f.get("severity")).lower(), (0, "Unknown"))
    first, last = epoch_ms(f.get("first_seen")), epoch_ms(f.get("last_seen"))
    ev = _base(2004, 1, first or last or epoch_ms(f.get("evaluated_at")) or 0, f["finding_id"], f.get("connector"))
    ids = [int(i) for i in f.get("record_ids") or []]
    ev.update(severity_id=sev_id, severity=sev, message=f.get("message"), status_id=1, status="New",
              count=int(f.get("count") or len(ids)), start_time=first, end_time=last)
    ev["finding_info"] = {
        "uid": f["finding_id"], "title": f.get("title") or f["detection_id"], "desc": f.get("message"),
        "types": [f["detection_id"]], "first_seen_time": first, "last_seen_time": last,
        "created_time": epoch_ms(f.get("evaluated_at")),
        "analytic": {"uid": f["detection_id"], "name": f.get("title") or f["detection_id"], "type_id": 1,
                     "type": "Rule"},
        "related_events": [{"uid": str(i), "product_uid": "jira"} for i in ids],
        "attacks": attack_techniques(attack),
    }
    actor = _user(f.get("actor_account_id"), f.get("actor_name"))
    ev["actor"] = {"user": actor} if actor else None
    ip = valid_ip(f.get("remote_address"))
    ev["evidences"] = [{"src_endpoint": {"ip": ip}}] if ip else None
    ev["unmapped"] = {"connector": f.get("connector"), "object": f.get("object"), "group_key": f.get("group_key"),
                      "day": str(f["day"]) if f.get("day") else None, "remote_address": f.get("remote_address")}
    return compact(ev)


CLASSES_BY_SOURCE = {v[3]: k for k, v in CLASSES.items()}
