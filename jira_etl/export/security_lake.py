"""OCSF events as Parquet in the Amazon Security Lake custom-source layout.

    <root>/ext/<source>/region=<region>/accountId=external/eventDay=<YYYYMMDD>/<connector>.parquet

One source per OCSF class (names of 20 characters or fewer), one file per connector
and day, so a connector's re-run of a day replaces exactly its own file: written under
a temporary name beside it, fsynced, then renamed over the old one (readers see the
old file or the new one, never half of either). zstd, rows sorted by `time`, data
pages of about 1 MiB and row groups far under Security Lake's 256 MB.

Each class has a fixed Arrow schema (the same columns every day, as Glue/Athena
tables want); a field an event carries that its schema lacks is an error, not a loss.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jira_etl.export import ocsf
from jira_etl.settings import ConfigError

ACCOUNT = "external"
DEFAULT_REGION = "us-east-1"
ROW_GROUP_ROWS = 50_000  # ~1-2 KB an event before compression: row groups of tens of MB
DATA_PAGE_BYTES = 1 << 20

S, I = pa.string(), pa.int64()


def struct(**fields) -> pa.DataType:
    return pa.struct([pa.field(k, v) for k, v in fields.items()])


USER = struct(uid=S, name=S)
ITEM = struct(id=S, name=S, type_name=S, parent_id=S, parent_name=S)
CHANGED = struct(field_name=S, changed_from=S, changed_to=S)
RESOURCE = struct(uid=S, name=S, type=S)
BASE = [
    ("activity_id", I), ("activity_name", S), ("category_uid", I), ("category_name", S), ("class_uid", I),
    ("class_name", S), ("type_uid", I), ("type_name", S), ("time", I), ("severity_id", I), ("severity", S),
    ("status_id", I), ("status", S), ("message", S),
    ("metadata", struct(version=S, uid=S, profiles=pa.list_(S), log_name=S, tenant_uid=S,
                        product=struct(name=S, vendor_name=S, feature=struct(name=S)))),
    ("actor", struct(user=USER, app_name=S)),
]
RECORD_UNMAPPED = struct(connector=S, category=S, event_source=S, description=S, author_key=S, object_item=ITEM,
                         associated_items=pa.list_(ITEM), changed_values=pa.list_(CHANGED))
EXTRA = {
    3001: [("src_endpoint", struct(ip=S)), ("user", USER), ("unmapped", RECORD_UNMAPPED)],
    3002: [("src_endpoint", struct(ip=S)), ("user", USER), ("unmapped", RECORD_UNMAPPED)],
    3004: [("src_endpoint", struct(ip=S)), ("entity", RESOURCE), ("unmapped", RECORD_UNMAPPED)],
    3005: [("src_endpoint", struct(ip=S)), ("user", USER), ("privileges", pa.list_(S)), ("resource", RESOURCE),
           ("unmapped", RECORD_UNMAPPED)],
    3006: [("src_endpoint", struct(ip=S)), ("group", struct(uid=S, name=S)), ("user", USER),
           ("privileges", pa.list_(S)), ("unmapped", RECORD_UNMAPPED)],
    2004: [("count", I), ("start_time", I), ("end_time", I),
           ("finding_info", struct(
               uid=S, title=S, desc=S, types=pa.list_(S), first_seen_time=I, last_seen_time=I, created_time=I,
               analytic=struct(uid=S, name=S, type_id=I, type=S),
               related_events=pa.list_(struct(uid=S, product_uid=S)),
               attacks=pa.list_(struct(technique=struct(uid=S, name=S), version=S)))),
           ("evidences", pa.list_(struct(src_endpoint=struct(ip=S)))),
           ("unmapped", struct(connector=S, object=S, group_key=S, day=S, remote_address=S))],
}


def schema(class_uid: int) -> pa.Schema:
    return pa.schema([pa.field(k, t) for k, t in BASE + EXTRA[class_uid]])


def _check_fits(value, typ: pa.DataType, path: str) -> None:
    """Fail on a key the schema would silently drop."""
    if isinstance(value, dict) and pa.types.is_struct(typ):
        names = {typ.field(i).name: typ.field(i).type for i in range(typ.num_fields)}
        for k, v in value.items():
            if k not in names:
                raise ValueError(f"OCSF field {path}.{k} has no column in the Parquet schema")
            _check_fits(v, names[k], f"{path}.{k}")
    elif isinstance(value, list) and pa.types.is_list(typ):
        for v in value:
            _check_fits(v, typ.value_type, path + "[]")


def to_table(events: list[dict], class_uid: int) -> pa.Table:
    sch = schema(class_uid)
    struct_type = pa.struct(list(sch))
    for ev in events:
        _check_fits(ev, struct_type, ocsf.CLASSES[class_uid][3])
    events = sorted(events, key=lambda e: (e["time"], e["metadata"]["uid"]))
    return pa.Table.from_pylist(events, schema=sch)


def from_table(table: pa.Table) -> list[dict]:
    """Rows back as OCSF dicts (nulls left out), e.g. to validate written files."""
    return [ocsf.compact(row) for row in table.to_pylist()]


def day_dir(root: Path, source: str, region: str, day: dt.date) -> Path:
    return Path(root) / "ext" / source / f"region={region}" / f"accountId={ACCOUNT}" / f"eventDay={day:%Y%m%d}"


def write_file(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS,
                       data_page_size=DATA_PAGE_BYTES, write_statistics=True)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_day(root: Path, region: str, connector: str, day: dt.date,
              events_by_class: dict[int, list[dict]], classes: tuple[int, ...]) -> dict[str, int]:
    """Replace the connector's files of `day` for each class in `classes`: a class with
    events gets its file (re)written; one without loses a file left by an earlier run.
    Returns rows written per source."""
    written = {}
    for class_uid in classes:
        source = ocsf.source_name(class_uid)
        path = day_dir(root, source, region, day) / f"{connector}.parquet"
        events = events_by_class.get(class_uid) or []
        if events:
            write_file(to_table(events, class_uid), path)
            written[source] = len(events)
        elif path.exists():
            path.unlink()
    return written


RECORD_CLASSES = (3001, 3002, 3004, 3005, 3006)


def region() -> str:
    """$JIRA_ETL_LAKE_REGION (default us-east-1): it becomes a path segment, so only an
    AWS region's shape is accepted."""
    value = (os.environ.get("JIRA_ETL_LAKE_REGION") or DEFAULT_REGION).strip()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d{1,2}", value):
        raise ConfigError(f"JIRA_ETL_LAKE_REGION: {value!r} is not an AWS region such as us-east-1")
    return value


def lake_root(data_dir: Path) -> Path:
    return Path(data_dir) / "security_lake"
