"""Jira Data Center audit entities -> the rows of `audit_records` (the same schema as Cloud).

Mapping (../shared/jira-dc-audit-api.md): `type.action` -> summary, `type.category` ->
category, `author.id` -> author_account_id, `author.name` -> author_key, `source` ->
remote_address (the first address of a comma-separated chain: the client's), `timestamp`
-> created, `method` -> event_source, `affectedObjects` -> object item (the first) and
associated items (the others; `type` -> type_name), `changedValues` key/from/to ->
field_name/changed_from/changed_to. `raw` is the entity as received (compact JSON), so
what has no Cloud column (`system`, `node`, `extraAttributes`, the whole `source` chain,
the i18n keys) is kept there.

The record key. Entities carry no id, and several can be identical in every field within
one millisecond (a bulk group change), so a content hash alone would merge them. The key is

    id = BLAKE2b-64( canonical JSON of the entity without its volatile fields
                     + "\\x00" + twin ordinal ) & (2**63 - 1)

a positive int64. Canonical JSON: keys sorted, compact separators, ASCII. Volatile fields,
dropped before hashing: every `uri` and `avatarUri` (at any depth) and the top-level
`system`, which all spell the server's base URL and change when it moves, not the event.
The twin ordinal is the entity's rank among the identical entities of its millisecond,
counted from the oldest in the served order (the server serves a millisecond's entities in
a stable order), so 1,500 identical twins get ordinals 0..1499 and 1,500 keys, and a
re-run of the day gives every entity the same key again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pyarrow as pa

from jira_etl import normalize
from jira_etl.records import SCHEMA, raw_text

VOLATILE_ANYWHERE = frozenset({"uri", "avatarUri"})
VOLATILE_TOP = frozenset({"system"})
_MASK = (1 << 63) - 1


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_ANYWHERE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def canonical(entity: dict) -> bytes:
    """The entity's identity as bytes: volatile fields dropped, keys sorted."""
    kept = {k: v for k, v in entity.items() if k not in VOLATILE_TOP}
    return json.dumps(_strip(kept), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=str).encode("ascii")


def entity_key(content: bytes, ordinal: int) -> int:
    digest = hashlib.blake2b(content + b"\x00" + str(ordinal).encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _MASK


def keys_for(entities: list[dict]) -> list[int]:
    """Keys of a window's entities in served order (newest first); twins are ranked from
    the oldest of their millisecond, so a twin served later in a re-run of a running day
    does not shift the others' keys."""
    ranks: dict[bytes, int] = {}
    keys = [0] * len(entities)
    for i in range(len(entities) - 1, -1, -1):
        ent = entities[i]
        content = canonical(ent)
        rank = ranks.get(content, 0)
        ranks[content] = rank + 1
        keys[i] = entity_key(content, rank)
    return keys


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else normalize._text(value)


def first_address(source: Any) -> str | None:
    """The client's address: the first of a comma-separated `source` chain."""
    if not isinstance(source, str):
        return _text(source)
    first = source.split(",")[0].strip()
    return first or None


def _item(obj: dict) -> dict:
    return {"id": obj.get("id"), "name": obj.get("name"), "typeName": obj.get("type")}


def cloud_shape(entity: dict) -> dict:
    """The entity under Cloud's field names, for the shared column rules of normalize.py."""
    typ = entity.get("type") if isinstance(entity.get("type"), dict) else {}
    author = entity.get("author") if isinstance(entity.get("author"), dict) else {}
    objects = [o for o in entity.get("affectedObjects") or [] if isinstance(o, dict)] \
        if isinstance(entity.get("affectedObjects"), list) else []
    changes = entity.get("changedValues") if isinstance(entity.get("changedValues"), list) else []
    return {
        "created": entity.get("timestamp"),
        "summary": typ.get("action"),
        "category": typ.get("category"),
        "eventSource": entity.get("method"),
        "remoteAddress": first_address(entity.get("source")),
        "authorAccountId": author.get("id"),
        "authorKey": author.get("name"),
        "objectItem": _item(objects[0]) if objects else None,
        "associatedItems": [_item(o) for o in objects[1:]],
        "changedValues": [{"fieldName": c.get("key"), "changedFrom": c.get("from"), "changedTo": c.get("to")}
                          for c in changes if isinstance(c, dict)],
    }


def to_table(entities: list[dict], connector: str, ingested_at: dt.datetime | None = None) -> pa.Table:
    """A window's entities (served order) as a table of SCHEMA, one row per entity."""
    ingested = ingested_at or dt.datetime.now(dt.timezone.utc)
    if not entities:
        return SCHEMA.empty_table()
    keys = keys_for(entities)
    table = normalize._careful_table([cloud_shape(e) for e in entities], keys, connector, ingested)
    raw = pa.array([raw_text(e) for e in entities], type=pa.string())
    return table.set_column(SCHEMA.get_field_index("raw"), SCHEMA.field("raw"), raw)
