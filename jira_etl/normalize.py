"""API records -> one typed Arrow schema -> pandas with Arrow-backed dtypes.

Jira adds fields, drops optional ones and occasionally sends odd types. Nothing here
may crash on that: each typed column takes what it can, and `raw` keeps the record
exactly as received (as JSON text) so nothing Jira sends is ever lost.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa

from jira_etl.jira.paging import created_ms

CHANGED_VALUE = pa.struct([("field_name", pa.string()), ("changed_from", pa.string()), ("changed_to", pa.string())])
ASSOCIATED_ITEM = pa.struct(
    [("id", pa.string()), ("name", pa.string()), ("type_name", pa.string()),
     ("parent_id", pa.string()), ("parent_name", pa.string())]
)
TS = pa.timestamp("ms", tz="UTC")

SCHEMA = pa.schema(
    [
        pa.field("connector", pa.string(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("created", TS),
        pa.field("summary", pa.string()),
        pa.field("category", pa.string()),
        pa.field("event_source", pa.string()),
        pa.field("description", pa.string()),
        pa.field("remote_address", pa.string()),
        pa.field("author_account_id", pa.string()),
        pa.field("author_key", pa.string()),
        pa.field("object_item_id", pa.string()),
        pa.field("object_item_name", pa.string()),
        pa.field("object_item_type_name", pa.string()),
        pa.field("object_item_parent_id", pa.string()),
        pa.field("object_item_parent_name", pa.string()),
        pa.field("changed_values", pa.list_(CHANGED_VALUE)),
        pa.field("associated_items", pa.list_(ASSOCIATED_ITEM)),
        pa.field("raw", pa.string(), nullable=False),
        pa.field("ingested_at", TS, nullable=False),
    ]
)

# (column, API key) for the flat text columns.
_TOP_TEXT = [
    ("summary", "summary"), ("category", "category"), ("event_source", "eventSource"),
    ("description", "description"), ("remote_address", "remoteAddress"),
    ("author_account_id", "authorAccountId"), ("author_key", "authorKey"),
]
_ITEM_KEYS = [("id", "id"), ("name", "name"), ("type_name", "typeName"),
              ("parent_id", "parentId"), ("parent_name", "parentName")]
_CHANGE_KEYS = [("field_name", "fieldName"), ("changed_from", "changedFrom"), ("changed_to", "changedTo")]


def _text(value: Any) -> str | None:
    """Any JSON value as text: strings as they are (made valid UTF-8), others as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        # Lone surrogates (from "\ud800" escapes) cannot be stored as UTF-8; `raw` keeps
        # the original escape exactly.
        return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=True, sort_keys=True, default=str)


def _record_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return _record_id(int(value.strip()))
    return None


def _items(value: Any, keys: list[tuple[str, str]]) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [{col: _text(v.get(api)) for col, api in keys} for v in value if isinstance(v, dict)]


def to_table(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pa.Table:
    """Normalize API records into a table of SCHEMA. Records without a usable id are skipped."""
    ingested = ingested_at or dt.datetime.now(dt.timezone.utc)
    cols: dict[str, list] = {f.name: [] for f in SCHEMA}
    for rec in records:
        if not isinstance(rec, dict):
            continue
        rid = _record_id(rec.get("id"))
        if rid is None:
            continue
        cols["id"].append(rid)
        cols["created"].append(created_ms(rec))
        for col, api in _TOP_TEXT:
            cols[col].append(_text(rec.get(api)))
        obj = rec.get("objectItem")
        obj = obj if isinstance(obj, dict) else {}
        for col, api in _ITEM_KEYS:
            cols["object_item_" + col].append(_text(obj.get(api)))
        cols["changed_values"].append(_items(rec.get("changedValues"), _CHANGE_KEYS))
        cols["associated_items"].append(_items(rec.get("associatedItems"), _ITEM_KEYS))
        cols["raw"].append(json.dumps(rec, ensure_ascii=True, separators=(",", ":"), default=str))
    n = len(cols["id"])
    cols["connector"] = [connector] * n
    cols["ingested_at"] = [int(ingested.timestamp() * 1000)] * n
    arrays = []
    for f in SCHEMA:
        if f.type == TS:
            arrays.append(pa.array(cols[f.name], type=pa.int64()).cast(TS))
        else:
            arrays.append(pa.array(cols[f.name], type=f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def to_dataframe(table: pa.Table) -> pd.DataFrame:
    """The pandas stage, in Arrow-backed dtypes so nested lists of structs survive intact."""
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def from_dataframe(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)


def normalize(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pd.DataFrame:
    return to_dataframe(to_table(records, connector, ingested_at))


def empty_frame() -> pd.DataFrame:
    return to_dataframe(SCHEMA.empty_table())
