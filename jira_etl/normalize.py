"""API records -> one typed Arrow schema -> pandas with Arrow-backed dtypes.

Jira adds fields, drops optional ones and occasionally sends odd types. Nothing here
may crash on that: each typed column takes what it can, and `raw` keeps the record
exactly as received (as JSON text) so nothing Jira sends is ever lost.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from jira_etl.records import ASSOCIATED_ITEM, CHANGED_VALUE, SCHEMA, TS, created_ms, raw_text, record_id  # noqa: F401 - re-exported

if TYPE_CHECKING:
    # pandas is imported by the functions that build frames: at start-up it cost every
    # command ~0.4 s (a backfill's, before its first request).
    import pandas as pd


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


_raw = raw_text


def to_table(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pa.Table:
    """Normalize API records into a table of SCHEMA. Records without a usable id are skipped.

    Well-formed records (every value of the type the API documents) are converted by
    Arrow in one C++ pass; a batch with anything odd takes the careful column-wise path,
    which gives the same table for well-formed records and never crashes on odd ones.
    """
    ingested = ingested_at or dt.datetime.now(dt.timezone.utc)
    recs: list[dict] = []
    ids: list[int] = []
    plain = True  # every id a plain int (Arrow would also take 5.0 or True for int64)
    for rec in records:
        if not isinstance(rec, dict):
            continue
        rid = rec.get("id")
        if type(rid) is not int or not -(2**63) <= rid < 2**63:
            plain = False
            rid = _record_id(rid)
            if rid is None:
                continue
        ids.append(rid)
        recs.append(rec)
    table = _fast_table(recs, ids, connector, ingested) if plain and recs else None
    return table if table is not None else _careful_table(recs, ids, connector, ingested)


def _careful_table(recs: list[dict], ids: list[int], connector: str, ingested: dt.datetime) -> pa.Table:
    """Column-wise: each column is gathered with one pass over the records and handed to
    Arrow whole; only odd values take the per-value path."""
    n = len(recs)
    cols: dict[str, pa.Array] = {
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
    return _assemble(cols, n, connector, ingested)


def _assemble(cols: dict[str, pa.Array], n: int, connector: str, ingested: dt.datetime) -> pa.Table:
    cols["connector"] = pa.array([connector] * n, type=pa.string())
    cols["ingested_at"] = pa.array([int(ingested.timestamp() * 1000)] * n, type=pa.int64()).cast(TS)
    return pa.Table.from_arrays([cols[f.name] for f in SCHEMA], schema=SCHEMA)


# The records as the API documents them, for Arrow's own converter (unknown keys are
# ignored by it; `raw` keeps them).
_API_ITEM = pa.struct([(api, pa.string()) for _, api in _ITEM_KEYS])
_API_CHANGE = pa.struct([(api, pa.string()) for _, api in _CHANGE_KEYS])
_API_RECORD = pa.struct(
    [("created", pa.string())] + [(api, pa.string()) for _, api in _TOP_TEXT]
    + [("objectItem", _API_ITEM), ("changedValues", pa.list_(_API_CHANGE)), ("associatedItems", pa.list_(_API_ITEM))]
)
# What Arrow's cast reads exactly as `created_ms` does (three fraction digits, an offset).
_PLAIN_CREATED = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(Z|[+-]\d{2}:?\d{2})$"


def _fast_table(recs: list[dict], ids: list[int], connector: str, ingested: dt.datetime) -> pa.Table | None:
    """The table in a few C++ passes, or None when the batch holds anything the careful
    path would treat differently (a number where text belongs, a list item that is not
    an object, a lone surrogate, an unusual `created`...)."""
    try:
        arr = pa.array(recs, type=_API_RECORD)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None
    cols = _typed_columns(arr.field, lambda: pa.array([created_ms(r) for r in recs], type=pa.int64()).cast(TS))
    if cols is None:
        return None
    cols["id"] = pa.array(ids, type=pa.int64())
    cols["raw"] = _raw_column(recs)
    return _assemble(cols, len(recs), connector, ingested)


def _typed_columns(field: Callable[[str], pa.Array], careful_created: Callable[[], pa.Array] | None) -> dict | None:
    """The typed columns from Arrow columns named as the API names them, or None when the
    careful path would read them differently."""
    cols: dict[str, pa.Array] = {}
    created = field("created")
    plain = pc.match_substring_regex(created, _PLAIN_CREATED)
    if created.null_count == len(created) or pc.all(pc.fill_null(plain, True)).as_py():
        try:
            cols["created"] = created.cast(TS)
        except pa.ArrowException:
            return None
    elif careful_created is not None:
        cols["created"] = careful_created()
    else:
        return None
    for col, api in _TOP_TEXT:
        cols[col] = field(api)
    for (col, _), child in zip(_ITEM_KEYS, field("objectItem").flatten()):
        cols["object_item_" + col] = child
    for col, api, item_type in (("changed_values", "changedValues", CHANGED_VALUE),
                                ("associated_items", "associatedItems", ASSOCIATED_ITEM)):
        lists = field(api)
        items = lists.values
        if items.null_count:  # a null item is skipped by the careful path
            return None
        struct = pa.StructArray.from_arrays([items.field(i) for i in range(item_type.num_fields)],
                                            fields=list(item_type))
        # Offsets without validity: a missing list becomes an empty one, as in the careful path.
        cols[col] = pa.ListArray.from_arrays(lists.offsets, struct, type=pa.list_(item_type))
    return cols


# Records as received, one JSON text each, parsed by Arrow's JSON reader (C++, without
# the GIL, no Python object per value). Unknown fields are ignored here; `raw` keeps them.
_RAW_SCHEMA = pa.schema([("id", pa.int64())] + list(_API_RECORD))
_RAW_PARSE = pajson.ParseOptions(explicit_schema=_RAW_SCHEMA, unexpected_field_behavior="ignore",
                                 newlines_in_values=False)
_RAW_READ = pajson.ReadOptions(use_threads=False, block_size=1 << 26)


def from_raw(raws: list[bytes], connector: str, ingested_at: dt.datetime | None = None) -> pa.Table:
    """Records as their JSON texts (as received) -> a table of SCHEMA whose `raw` is that
    text. Records without a usable id are skipped. A batch Arrow's reader cannot take as
    is (odd types, lone surrogates, NaN...) is decoded and normalized the careful way."""
    ingested = ingested_at or dt.datetime.now(dt.timezone.utc)
    if not raws:
        return SCHEMA.empty_table()
    table = _fast_from_raw(raws, connector, ingested)
    if table is not None:
        return table
    recs, texts, ids = [], [], []
    for text in raws:
        rec = _loads(text)
        if not isinstance(rec, dict):
            continue
        rid = _record_id(rec.get("id"))
        if rid is None:
            continue
        recs.append(rec)
        ids.append(rid)
        try:
            texts.append(text.decode("utf-8"))
        except UnicodeDecodeError:
            texts.append(_raw(rec))
    table = _careful_table(recs, ids, connector, ingested)
    return table.set_column(SCHEMA.get_field_index("raw"), SCHEMA.field("raw"), pa.array(texts, type=pa.string()))


def _fast_from_raw(raws: list[bytes], connector: str, ingested: dt.datetime) -> pa.Table | None:
    lines = b"\n".join(raws)
    if lines.count(b"\n") != len(raws) - 1 or b"\r" in lines:  # one record per line for the reader
        return None
    try:
        parsed = pajson.read_json(io.BytesIO(lines), read_options=_RAW_READ,
                                  parse_options=_RAW_PARSE).combine_chunks()
        raw = pa.array(raws, type=pa.string())  # refuses invalid UTF-8
    except (pa.ArrowException, ValueError, UnicodeError):
        return None
    if parsed.num_rows != len(raws) or parsed.column("id").null_count:
        return None
    cols = _typed_columns(lambda name: parsed.column(name).chunk(0) if parsed.num_rows else pa.array([], _RAW_SCHEMA.field(name).type), None)
    if cols is None:
        return None
    cols["id"] = parsed.column("id").chunk(0)
    cols["raw"] = raw
    return _assemble(cols, len(raws), connector, ingested)


def _loads(text: bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except ValueError:
        return None


def _raw_column(recs: list[dict]) -> pa.Array:
    """`_raw` of every record, with its checks done on the whole column at once."""
    try:
        dumped = [orjson.dumps(r) for r in recs]
    except (TypeError, orjson.JSONEncodeError):
        return pa.array([_raw(r) for r in recs], type=pa.string())
    column = pa.array(dumped, type=pa.string())
    odd = pc.or_(pc.invert(pc.string_is_ascii(column)), pc.match_substring(column, "null"))
    if pc.any(odd).as_py():
        values = column.to_pylist()
        for i in pc.indices_nonzero(odd).to_pylist():
            values[i] = _raw(recs[i])
        column = pa.array(values, type=pa.string())
    return column


def to_dataframe(table: pa.Table) -> pd.DataFrame:
    """The pandas stage, in Arrow-backed dtypes so nested lists of structs survive intact.
    The columns are wrapped as they are (what `to_pandas(types_mapper=pd.ArrowDtype)`
    gives, at a third of its cost: a backfill builds one frame per 5,000 rows)."""
    import pandas as pd

    return pd.DataFrame({name: pd.arrays.ArrowExtensionArray(table.column(i))
                         for i, name in enumerate(table.schema.names)}, copy=False)


def from_dataframe(df: pd.DataFrame) -> pa.Table:
    """Back to the Arrow schema. Columns still in Arrow dtypes hand their arrays over as
    they are (pandas' general conversion took ~3x longer on every slice of a backfill);
    anything else, a column a user's pandas code replaced say, goes through pandas."""
    import pandas as pd

    if list(df.columns) == SCHEMA.names:
        arrays = []
        for name, fld in zip(SCHEMA.names, SCHEMA):
            values = df[name].array
            if not isinstance(values, pd.arrays.ArrowExtensionArray):
                break
            column = values.__arrow_array__()
            arrays.append(column if column.type.equals(fld.type) else column.cast(fld.type))
        else:
            return pa.Table.from_arrays(arrays, schema=SCHEMA)
    return pa.Table.from_pandas(df, schema=SCHEMA, preserve_index=False)


def normalize(records: Iterable[dict], connector: str, ingested_at: dt.datetime | None = None) -> pd.DataFrame:
    return to_dataframe(to_table(records, connector, ingested_at))


def empty_frame() -> pd.DataFrame:
    return to_dataframe(SCHEMA.empty_table())
