"""API records -> one typed Arrow schema -> pandas with Arrow-backed dtypes.

Jira adds fields, drops optional ones and occasionally sends odd types. Nothing here
may crash on that: each typed column takes what it can, and `raw` keeps the record
exactly as received (as JSON text) so nothing Jira sends is ever lost.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

import orjson
import pandas as pd
import pyarrow as pa

from jira_etl.jira.paging import created_ms, record_id

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
_EMPTY: dict = {}


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


# The walk's rule, so a record the walk counted is a row here and the reverse.
_record_id = record_id


def _items(value: Any, keys: list[tuple[str, str]]) -> list[dict]:
    if not isinstance(value, list):
        return []
    return [{col: _text(v.get(api)) for col, api in keys} for v in value if isinstance(v, dict)]


def _text_column(values: list) -> pa.Array:
    """A string column; the common case (only str and None) goes to Arrow in one call."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid, UnicodeEncodeError):
        # Numbers, booleans, objects or lone surrogates somewhere: the careful path.
        return pa.array([_text(v) for v in values], type=pa.string())


def _list_column(recs: list[dict], api_key: str, keys: list[tuple[str, str]], item_type: pa.StructType) -> pa.Array:
    """A list<struct> column built from flat child columns and offsets (no per-item dicts)."""
    offsets = [0]
    children: list[list] = [[] for _ in keys]
    apis = [api for _, api in keys]
    n = 0
    for rec in recs:
        value = rec.get(api_key)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    for child, api in zip(children, apis):
                        child.append(item.get(api))
                    n += 1
        offsets.append(n)
    struct = pa.StructArray.from_arrays([_text_column(c) for c in children], fields=list(item_type))
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), struct, type=pa.list_(item_type))


def _raw(rec: dict) -> str:
    """The record as compact JSON text, byte-identical to `json.dumps(ensure_ascii=True)`.

    orjson does the common case about ten times faster; anything where the two could
    differ (non-ASCII text, a null that might have been NaN, huge integers, lone
    surrogates, odd types) goes through the standard library as before.
    """
    try:
        out = orjson.dumps(rec)
    except (TypeError, orjson.JSONEncodeError):
        out = None
    if out is not None and out.isascii() and b"null" not in out:
        return out.decode("ascii")
    return json.dumps(rec, ensure_ascii=True, separators=(",", ":"), default=str)


def to_table(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pa.Table:
    """Normalize API records into a table of SCHEMA. Records without a usable id are skipped.

    Column-wise: each column is gathered with one pass over the records and handed to
    Arrow whole; only odd values take the per-value path.
    """
    ingested = ingested_at or dt.datetime.now(dt.timezone.utc)
    recs: list[dict] = []
    ids: list[int] = []
    for rec in records:
        if not isinstance(rec, dict):
            continue
        rid = rec.get("id")
        if type(rid) is not int or not -(2**63) <= rid < 2**63:
            rid = _record_id(rid)
            if rid is None:
                continue
        ids.append(rid)
        recs.append(rec)
    n = len(recs)
    cols: dict[str, pa.Array] = {
        "connector": pa.array([connector] * n, type=pa.string()),
        "id": pa.array(ids, type=pa.int64()),
        "created": pa.array([created_ms(r) for r in recs], type=pa.int64()).cast(TS),
    }
    for col, api in _TOP_TEXT:
        cols[col] = _text_column([r.get(api) for r in recs])
    objs = [o if isinstance(o, dict) else _EMPTY for o in [r.get("objectItem") for r in recs]]
    for col, api in _ITEM_KEYS:
        cols["object_item_" + col] = _text_column([o.get(api) for o in objs])
    cols["changed_values"] = _list_column(recs, "changedValues", _CHANGE_KEYS, CHANGED_VALUE)
    cols["associated_items"] = _list_column(recs, "associatedItems", _ITEM_KEYS, ASSOCIATED_ITEM)
    cols["raw"] = pa.array([_raw(r) for r in recs], type=pa.string())
    cols["ingested_at"] = pa.array([int(ingested.timestamp() * 1000)] * n, type=pa.int64()).cast(TS)
    return pa.Table.from_arrays([cols[f.name] for f in SCHEMA], schema=SCHEMA)


def to_dataframe(table: pa.Table) -> pd.DataFrame:
    """The pandas stage, in Arrow-backed dtypes so nested lists of structs survive intact."""
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def from_dataframe(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)


def normalize(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pd.DataFrame:
    return to_dataframe(to_table(records, connector, ingested_at))


def empty_frame() -> pd.DataFrame:
    return to_dataframe(SCHEMA.empty_table())
