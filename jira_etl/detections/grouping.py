"""Grouping a rule's rows into findings, and the findings' stable ids.

A finding is one thing for an analyst to look at. A rule returns rows (one per record
for a single-event rule, one per burst for a behavioural one); the rows of one
detection and connector that share a group key (by default the actor and the object,
e.g. the group users were removed from) are cut into gap sessions: consecutive rows at
most `window_minutes` apart belong to one session, and a session is one finding, with
every record id, the count, first and last seen and a sample of its targets in the
message ("Ada removed 2,500 users from group jira-users (sample: a, b, c, ...)").
A window of 0 leaves each row its own finding (behavioural rules: one burst is
already one row).

The finding id hashes the detection, the connector, the group key and the session's
lowest record id, so a re-run, a backfill over the same days and the refresh of the
running day give the same id, and a session that grows keeps it (its count,
last_seen and record_ids change; the delivery ledger then sends it once more as an
update). Sessions are cut within the evaluated UTC day (the day is the unit of
evaluation and of replacement in table `findings`).

Nothing here imports the rest of the package: the catalogue declares the defaults,
the runner applies them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from dataclasses import dataclass
from typing import Any, Iterable

# What a group key can be made of: a rule row's column for each name.
GROUP_FIELDS = {"actor": "actor_account_id", "object": "object", "object_name": "object_name",
                "remote_address": "remote_address",
                "target": "target"}
DEFAULT_GROUP_BY = ("actor", "object")
# Default window by catalogue section: single-event rules group an hour of the same
# work; behavioural rules already return one row per burst.
DEFAULT_WINDOW_BY_SECTION = {"baseline": 60, "behavioural": 0}
# The placeholders of a group message (str.format syntax, e.g. "{count:,}").
MESSAGE_FIELDS = ("actor", "count", "object", "object_name", "sample", "first", "last", "title",
                  "targets", "remote_address", "detection_id")
DEFAULT_MESSAGE = "{title}: {count:,} records by {actor} on {object} between {first} and {last} UTC (sample: {sample})"
SAMPLE_SIZE = 5
MAX_ADDRESSES = 10


@dataclass(frozen=True)
class GroupSpec:
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    window_minutes: int = 60
    message: str = DEFAULT_MESSAGE


def message_problems(template: str) -> list[str]:
    """Why a group message template is unusable (unknown or dotted placeholders, bad
    format syntax); empty when it formats."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return [f"group_message is not a valid format string ({exc})"]
    problems = [f"group_message: unknown placeholder '{{{f}}}' (known: {', '.join(MESSAGE_FIELDS)})"
                for f in fields if f not in MESSAGE_FIELDS]
    if not problems:
        try:
            template.format_map(_dummy_values())
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            problems.append(f"group_message does not format ({exc})")
    return problems


def group_by_problems(group_by: Any) -> list[str]:
    if not isinstance(group_by, (list, tuple)) or not group_by or not all(isinstance(g, str) for g in group_by):
        return [f"group_by must be a non-empty list of {sorted(GROUP_FIELDS)}"]
    unknown = [g for g in group_by if g not in GROUP_FIELDS]
    return [f"group_by: unknown field(s) {unknown} (known: {sorted(GROUP_FIELDS)})"] if unknown else []


def _dummy_values() -> dict[str, Any]:
    return {k: ("x" if k != "count" and k != "targets" else 2) for k in MESSAGE_FIELDS}


def group_key(row: dict, group_by: Iterable[str] = DEFAULT_GROUP_BY) -> str:
    """What a finding groups its records by, besides detection and connector."""
    return "|".join(str(row.get(GROUP_FIELDS[g]) or "") for g in group_by)


def finding_id(detection_id: str, connector: str, key: str, record_ids: list[int],
               first_seen: dt.datetime | None = None) -> str:
    """Deterministic id of a finding: the same group with the same first record always
    gets the same id, so re-runs and refreshes update a finding instead of adding one.
    A finding without records (audit_gap) is known by its first instant instead."""
    if record_ids:
        first = str(min(record_ids))
    else:
        first = first_seen.astimezone(dt.timezone.utc).isoformat() if isinstance(first_seen, dt.datetime) else ""
    digest = hashlib.sha256(f"{detection_id}\x1f{connector}\x1f{key}\x1f{first}".encode()).hexdigest()
    return digest[:24]


def _ids(row: dict) -> list[int]:
    return sorted({int(i) for i in (row.get("record_ids") or []) if i is not None})


def _first_id(row: dict) -> int:
    # rows here carry their ids normalized once (group_rows): sorted, unique, no None
    ids = row["record_ids"]
    return ids[0] if ids else 0


def sessions(rows: list[dict], spec: GroupSpec) -> list[list[dict]]:
    """The rows cut into gap sessions per group key, in order of first record. A window
    of 0 keeps every row alone (rows naming the same first record still merge: they
    are the same finding)."""
    by_key: dict[str, list[dict]] = {}
    for row in rows:
        by_key.setdefault(group_key(row, spec.group_by), []).append(row)
    out: list[list[dict]] = []
    gap = dt.timedelta(minutes=spec.window_minutes)
    for key_rows in by_key.values():
        key_rows.sort(key=lambda r: (_when(r, "first_seen"), _first_id(r)))
        current: list[dict] = []
        end: dt.datetime | None = None
        for row in key_rows:
            start = _when(row, "first_seen")
            if current and spec.window_minutes > 0 and start - end <= gap:
                current.append(row)
            else:
                if current:
                    out.append(current)
                current = [row]
                end = None
            last = _when(row, "last_seen")
            end = last if end is None or last > end else end
        if current:
            out.append(current)
    if spec.window_minutes == 0:
        out = _merge_same_first_record(out, spec.group_by)
    return out


def _merge_same_first_record(groups: list[list[dict]], group_by: tuple[str, ...]) -> list[list[dict]]:
    merged: dict[tuple, list[dict]] = {}
    for g in groups:
        ids = g[0]["record_ids"]
        tag = (group_key(g[0], group_by), ids[0]) if ids else (id(g),)
        merged.setdefault(tag, []).extend(g)
    return list(merged.values())


_MIN = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _when(row: dict, key: str) -> dt.datetime:
    value = row.get(key) or row.get("first_seen") or row.get("last_seen")
    return value if isinstance(value, dt.datetime) else _MIN


def _distinct(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v is not None and str(v) != "":
            seen.setdefault(str(v), None)
    return list(seen)


def sample_text(values: list[str], size: int = SAMPLE_SIZE) -> str:
    return ", ".join(values[:size]) + (", ..." if len(values) > size else "")


def combine(rows: list[dict], spec: GroupSpec, title: str, detection_id: str) -> dict:
    """One finding (rule columns plus count and the session's addresses) from a session."""
    rows = sorted(rows, key=lambda r: (_when(r, "first_seen"), _first_id(r)))
    ids = list(rows[0]["record_ids"]) if len(rows) == 1 else sorted({i for r in rows for i in r["record_ids"]})
    first = min(_when(r, "first_seen") for r in rows)
    last = max(_when(r, "last_seen") for r in rows)
    head = rows[0]
    addresses = _distinct(a.strip() for r in rows for a in str(r.get("remote_address") or "").split(","))
    found = dict(head)
    found.update(
        first_seen=head.get("first_seen") if len(rows) == 1 else first,
        last_seen=head.get("last_seen") if len(rows) == 1 else last,
        record_ids=ids,
        count=len(ids) if ids else len(rows),
        rule_rows=len(rows),
        addresses=addresses,
    )
    if len(rows) == 1:
        return found
    objects = _distinct(r.get("object") for r in rows)
    found["object"] = objects[0] if len(objects) == 1 else f"{len(objects)} objects"
    found["remote_address"] = (", ".join(addresses[:MAX_ADDRESSES])
                               + (f" (+{len(addresses) - MAX_ADDRESSES} more)" if len(addresses) > MAX_ADDRESSES else "")
                               ) or None
    targets = _distinct(r.get("target") for r in rows)
    sample = targets or _distinct(r.get("message") for r in rows)
    names = _distinct(r.get("object_name") for r in rows)
    values = {
        "actor": head.get("actor_name") or head.get("actor_label") or head.get("actor_account_id") or "system",
        "count": found["count"], "object": found["object"] or "(no object)",
        "object_name": names[0] if len(names) == 1 else (found["object"] or "(no object)"),
        "sample": sample_text(sample, SAMPLE_SIZE if targets else 2), "first": first.strftime("%H:%M"),
        "last": last.strftime("%H:%M"), "title": title, "targets": len(targets),
        "remote_address": found["remote_address"] or "no address", "detection_id": detection_id,
    }
    found["message"] = spec.message.format_map(values)
    return found


def group_rows(rows: list[dict], spec: GroupSpec, title: str, detection_id: str) -> list[dict]:
    """The findings of a rule's rows: one per session, in order of first seen."""
    # Each row's ids normalized once (sorted, unique, ints): the sorts and merges below
    # read them many times, and a heavy day's burst rows hold thousands of ids each
    # (normalizing them on every read was ~15% of evaluating the skewed window's last days).
    rows = [dict(r, record_ids=_ids(r)) for r in rows]
    out = []
    for session in sessions(rows, spec):
        key = group_key(session[0], spec.group_by)
        out.append(combine(session, spec, title, detection_id) | {"group_key": key})
    out.sort(key=lambda f: (_when(f, "first_seen"), str(f.get("actor_account_id") or ""), f["record_ids"][:1]))
    return out
