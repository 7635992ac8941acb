"""Audit records (and findings, as alerts) as ECS documents for Elastic, one JSON per line.

Field names follow Elastic's own atlassian_jira integration: `id` -> `event.id`,
`created` -> `@timestamp`, `remoteAddress` -> `source.ip`, `authorAccountId` ->
`user.id`, `summary` -> `event.action` and `jira.audit.type.action`, `category` ->
`jira.audit.type.category`, `objectItem` + `associatedItems` ->
`jira.audit.affected_objects`, `changedValues` -> `jira.audit.changed_values`
(`key`, `from`, `to`); `related.user` and `related.ip` filled.
"""

from __future__ import annotations

from jira_etl.export import ocsf
from jira_etl.records import iso_ms as iso

ECS_VERSION = "8.11.0"
_TYPE_BY_ACTIVITY = {
    3001: {1: "creation", 6: "deletion"},
    3004: {1: "creation", 4: "deletion"},
    3006: {6: "creation", 5: "deletion"},
}


def _categories(rec: dict, class_uid: int, activity_id: int) -> tuple[list[str], list[str]]:
    if class_uid == 3002:
        return ["authentication"], ["start" if activity_id == 1 else "end"]
    if class_uid == 3004:
        return ["configuration"], [_TYPE_BY_ACTIVITY[3004].get(activity_id, "change")]
    kind = "group" if class_uid == 3006 else "user"
    cats = ["iam"]
    if ocsf.norm(rec.get("summary")).startswith("global permission"):
        cats.append("configuration")
    return cats, [kind, _TYPE_BY_ACTIVITY.get(class_uid, {}).get(activity_id, "change")]


def _affected(rec: dict) -> list[dict]:
    out = []
    obj = {"id": rec.get("object_item_id"), "name": rec.get("object_item_name"),
           "type": rec.get("object_item_type_name"), "parent_id": rec.get("object_item_parent_id"),
           "parent_name": rec.get("object_item_parent_name")}
    if any(obj.values()):
        out.append(obj)
    for i in rec.get("associated_items") or []:
        out.append({"id": i.get("id"), "name": i.get("name"), "type": i.get("type_name"),
                    "parent_id": i.get("parent_id"), "parent_name": i.get("parent_name")})
    return out


def record_document(rec: dict) -> dict:
    class_uid, activity_id = ocsf.classify(rec)
    cats, types = _categories(rec, class_uid, activity_id)
    ip = ocsf.valid_ip(rec.get("remote_address"))
    users = ocsf.items_of_type(rec, "user")
    target = None
    if ocsf.norm(rec.get("object_item_type_name")) == "user":
        target = {"id": rec.get("object_item_id") or rec.get("object_item_name"), "name": rec.get("object_item_name")}
    elif users:
        target = {"id": users[0].get("id") or users[0].get("name"), "name": users[0].get("name")}
    groups = ocsf.items_of_type(rec, "group")
    group = None
    if ocsf.norm(rec.get("object_item_type_name")) == "group":
        group = {"name": rec.get("object_item_name"), "id": rec.get("object_item_id")}
    elif groups:
        group = {"name": groups[0].get("name"), "id": groups[0].get("id")}
    actor = rec.get("author_account_id")
    related_users = [u for u in dict.fromkeys([actor, rec.get("actor_name"), (target or {}).get("id")]) if u]
    doc = {
        "@timestamp": iso(rec.get("created")),
        "ecs": {"version": ECS_VERSION},
        "message": rec.get("description") or rec.get("summary"),
        "event": {"kind": "event", "id": str(rec["id"]), "action": rec.get("summary"), "category": cats,
                  "type": types, "dataset": "atlassian_jira.audit", "module": "atlassian_jira",
                  "provider": rec.get("event_source") or None, "ingested": iso(rec.get("ingested_at"))},
        "user": {"id": actor, "name": rec.get("actor_name"), "target": target} if (actor or target) else None,
        "group": group if group and class_uid in (3006,) else None,
        "source": {"ip": ip} if ip else None,
        "related": {"user": related_users or None, "ip": [ip] if ip else None},
        "labels": {"connector": rec.get("connector")},
        "jira": {"audit": {
            "type": {"action": rec.get("summary"), "category": rec.get("category")},
            "affected_objects": _affected(rec) or None,
            "changed_values": [{"key": c.get("field_name"), "from": c.get("changed_from"), "to": c.get("changed_to")}
                               for c in rec.get("changed_values") or []] or None,
            "description": rec.get("description"),
            "author_key": rec.get("author_key"),
        }},
    }
    return ocsf.compact(doc)


def finding_document(f: dict, attack: str | None = None) -> dict:
    """A finding as an ECS alert (`event.kind: alert`, `rule.*`)."""
    ip = ocsf.valid_ip(f.get("remote_address"))
    ids = [int(i) for i in f.get("record_ids") or []]
    risk = {"low": 21, "medium": 47, "high": 73, "critical": 99}.get(str(f.get("severity")).lower())
    technique = ocsf.attack_techniques(attack)
    doc = {
        "@timestamp": iso(f.get("first_seen") or f.get("evaluated_at")),
        "ecs": {"version": ECS_VERSION},
        "message": f.get("message"),
        "event": {"kind": "alert", "id": f["finding_id"], "action": f["detection_id"], "category": ["iam"],
                  "type": ["info"], "severity": risk, "dataset": "jira_etl.findings",
                  "start": iso(f.get("first_seen")), "end": iso(f.get("last_seen"))},
        "rule": {"id": f["detection_id"], "name": f.get("title"), "ruleset": "jira_etl"},
        "threat": {"framework": "MITRE ATT&CK",
                   "technique": [{"id": t["technique"]["uid"], "name": t["technique"].get("name")} for t in technique]}
        if technique else None,
        "user": {"id": f.get("actor_account_id"), "name": f.get("actor_name")} if f.get("actor_account_id") else None,
        "source": {"ip": ip} if ip else None,
        "related": {"user": [u for u in (f.get("actor_account_id"), f.get("actor_name")) if u] or None,
                    "ip": [ip] if ip else None},
        "labels": {"connector": f.get("connector"), "severity": f.get("severity")},
        "jira_etl": {"finding": {"id": f["finding_id"], "object": f.get("object"), "record_ids": ids,
                                 "count": int(f.get("count") or len(ids)), "group_key": f.get("group_key")}},
    }
    return ocsf.compact(doc)
