"""What every layer shares about an audit record: its id, its `created` instant, its
compact JSON text, and the Arrow schema of table `audit_records`. Nothing here imports
from the rest of the package."""

from __future__ import annotations

import datetime as dt
import json

import orjson
import pyarrow as pa

UTC = dt.timezone.utc
_MS = dt.timedelta(milliseconds=1)

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


def created_ms(record: dict) -> int | None:
    """Epoch milliseconds of `created`, whatever offset it was written in; None if unusable."""
    raw = record.get("created")
    if not isinstance(raw, str):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000 + (0.5 if value.timestamp() >= 0 else -0.5))


def record_id(value: object) -> int | None:
    """The record's id as a signed 64-bit integer, or None when it has none usable: one
    rule for the walk and the table. Digit strings are accepted (ASCII digits, an optional
    leading '-'); anything else ('--5', '²', floats, booleans, 40 digits) is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if not (0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()):
            return None
        value = int(text)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None


def ms_to_dt(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=(ms % 1000) * 1000)


def dt_to_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    delta = value.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return delta // _MS



def raw_text(rec: dict) -> str:
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
