"""The detection catalogue: one SQL file per detection, loaded, validated and run.

Layout (the catalogue is the folder):

    detections/rules/<id>.sql      a leading `--` comment block in YAML (id, title,
                                   severity, rationale, attack, section, parameters with
                                   defaults), then one SELECT over the view `audit_events`

The tables the rules read and write (users, ip_info, findings, view audit_events) and
the analysts' hunting views are DDL, owned by `jira_etl/storage/` (schema.py).
Overrides from detections.yaml are `detections/overrides.py`; evaluation is
`detections/runner.py`, grouping rows into findings and their stable ids
`detections/grouping.py`, allow-lists `detections/suppression.py`.

Grouping is declared here: by section (`grouping.DEFAULT_WINDOW_BY_SECTION`), and per
rule with the optional header keys `group_by` (list of actor, object, object_name, remote_address,
target), `group_window_minutes` and `group_message` (a str.format template).

A rule is evaluated for one UTC day: it receives `$connector`, `$window_start` and
`$window_end` (the day, end exclusive) and its own parameters, all bound, never
formatted into the text. It may read as much history before the window as it needs,
and returns one row per triggering event (or burst) in the window, with the columns of
RULE_COLUMNS, optionally followed by OPTIONAL_RULE_COLUMNS; the runner groups the rows
into findings.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import duckdb
import yaml

from jira_etl.detections import grouping
from jira_etl.sqlfiles import split_header, sql_params
from jira_etl.storage.schema import apply_schema

HERE = Path(__file__).parent
RULES_DIR = HERE / "rules"

SEVERITIES = ("low", "medium", "high", "critical")
SECTIONS = ("baseline", "behavioural")
RUNTIME_PARAMS = ("connector", "window_start", "window_end")
RULE_COLUMNS = ("actor_account_id", "first_seen", "last_seen", "object", "remote_address", "message", "record_ids")
# Columns a rule may add after RULE_COLUMNS, in this order, for grouping: the user (or
# other item) a record acts on, sampled in a group's message, and the object's bare name.
OPTIONAL_RULE_COLUMNS = ("target", "object_name")
REQUIRED_KEYS = ("id", "title", "severity", "rationale", "section")
GROUPING_KEYS = ("group_by", "group_window_minutes", "group_message")
OPTIONAL_KEYS = ("attack", "parameters", "optional", "description", "history_days", *GROUPING_KEYS)
# History the runner makes available before a day (the rules need at most 30 days plus
# a day of look-back; an actor silent for longer is dormant whatever the horizon).
HISTORY_DAYS = 62
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """The catalogue (or an override file) is invalid; the message lists every problem."""


@dataclass(frozen=True)
class Detection:
    id: str
    title: str
    severity: str
    rationale: str
    section: str
    sql: str
    path: Path
    attack: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    optional: bool = False
    description: str = ""
    # Grouping (detections/grouping.py); None: the section's default.
    group_by: tuple[str, ...] | None = None
    group_window_minutes: int | None = None
    group_message: str | None = None

    def grouping(self, override: dict[str, Any] | None = None) -> grouping.GroupSpec:
        """How this detection's rows group into findings: detections.yaml's override
        (keys group_by, group_window_minutes, group_message), else the rule header's,
        else the section's default."""
        override = override or {}
        window = override.get("group_window_minutes", self.group_window_minutes)
        if window is None:
            window = grouping.DEFAULT_WINDOW_BY_SECTION.get(self.section, 0)
        return grouping.GroupSpec(
            group_by=tuple(override.get("group_by") or self.group_by or grouping.DEFAULT_GROUP_BY),
            window_minutes=int(window),
            message=override.get("group_message") or self.group_message or grouping.DEFAULT_MESSAGE,
        )

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        values = dict(self.parameters)
        values.update(overrides or {})
        return values


# --- parsing -------------------------------------------------------------------------


def parse_rule(path: Path) -> tuple[Detection, dict]:
    meta, body = split_header(path.read_text())
    params = meta.get("parameters") or {}
    return Detection(
        id=str(meta.get("id", "")),
        title=str(meta.get("title", "")),
        severity=str(meta.get("severity", "")),
        rationale=str(meta.get("rationale", "")),
        section=str(meta.get("section", "")),
        attack=meta.get("attack"),
        parameters=dict(params) if isinstance(params, dict) else {"<invalid>": params},
        optional=bool(meta.get("optional", False)),
        description=str(meta.get("description", "") or "").strip(),
        group_by=tuple(meta["group_by"]) if isinstance(meta.get("group_by"), list) else None,
        group_window_minutes=meta.get("group_window_minutes"),
        group_message=meta.get("group_message"),
        sql=body,
        path=path,
    ), meta


def static_problems(det: Detection, meta: dict) -> list[str]:
    where = det.path.name
    problems = []
    for key in REQUIRED_KEYS:
        if not meta.get(key):
            problems.append(f"{where}: missing '{key}'")
    unknown = set(meta) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        problems.append(f"{where}: unknown header keys {sorted(unknown)}")
    if det.id and det.path.stem != det.id:
        problems.append(f"{where}: id '{det.id}' differs from the file name")
    if det.id and not _ID.match(det.id):
        problems.append(f"{where}: id '{det.id}' is not lower_snake_case")
    if det.severity not in SEVERITIES:
        problems.append(f"{where}: severity '{det.severity}' is not one of {SEVERITIES}")
    if det.section not in SECTIONS:
        problems.append(f"{where}: section '{det.section}' is not one of {SECTIONS}")
    if "group_by" in meta:
        problems += [f"{where}: {p}" for p in grouping.group_by_problems(meta["group_by"])]
    window = meta.get("group_window_minutes")
    if "group_window_minutes" in meta and (type(window) is not int or window < 0):
        problems.append(f"{where}: group_window_minutes must be a whole number of minutes >= 0")
    if "group_message" in meta:
        if not isinstance(meta["group_message"], str):
            problems.append(f"{where}: group_message must be a string")
        else:
            problems += [f"{where}: {p}" for p in grouping.message_problems(meta["group_message"])]
    if "<invalid>" in det.parameters:
        problems.append(f"{where}: 'parameters' must be a mapping of name to default")
        return problems
    used = sql_params(det.sql)
    declared = set(det.parameters)
    clash = declared & set(RUNTIME_PARAMS)
    if clash:
        problems.append(f"{where}: parameters {sorted(clash)} are supplied by the runner")
    undeclared = used - declared - set(RUNTIME_PARAMS)
    if undeclared:
        problems.append(f"{where}: SQL uses undeclared parameters {sorted(undeclared)}")
    unused = declared - used
    if unused:
        problems.append(f"{where}: declared parameters {sorted(unused)} are not used in the SQL")
    for name, value in det.parameters.items():
        if value is None:
            problems.append(f"{where}: parameter '{name}' has no default")
    if not re.match(r"^\s*(WITH|SELECT)\b", det.sql, re.IGNORECASE):
        problems.append(f"{where}: the body must be one SELECT (or WITH ... SELECT)")
    if ";" in re.sub(r"'(?:[^']|'')*'", "''", det.sql):
        problems.append(f"{where}: the body must be a single statement")
    return problems


_LOAD_LOCK = threading.Lock()


def load_catalogue(rules_dir: Path = RULES_DIR) -> tuple[Detection, ...]:
    """Every rule, validated statically and against an empty warehouse (loaded once per
    process; a failure is not kept, so the next call reports it again). Raises
    CatalogueError."""
    with _LOAD_LOCK:  # one load when a thread started it early and the caller asks too
        return _load_catalogue(Path(rules_dir))


def load_catalogue_in_background() -> threading.Thread:
    """Start loading the catalogue on a thread (for a command about to spend its first
    second importing Dagster: the dry run executes in DuckDB, without the GIL, so both
    go on side by side). Errors are left for the caller's own `load_catalogue`."""

    def load() -> None:
        try:
            load_catalogue()
        except Exception:  # noqa: BLE001 - reported by the caller's load
            pass

    thread = threading.Thread(target=load, name="catalogue-load", daemon=True)
    thread.start()
    return thread


@cache
def _load_catalogue(rules_dir: Path) -> tuple[Detection, ...]:
    detections, problems, seen = [], [], set()
    for path in sorted(Path(rules_dir).glob("*.sql")):
        try:
            det, meta = parse_rule(path)
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: header is not valid YAML ({exc})")
            continue
        problems.extend(static_problems(det, meta))
        if det.id in seen:
            problems.append(f"{path.name}: duplicate id '{det.id}'")
        seen.add(det.id)
        detections.append(det)
    if not detections:
        problems.append(f"no rules in {rules_dir}")
    if not problems:
        problems.extend(_dry_run_problems(detections))
    if problems:
        raise CatalogueError("invalid detection catalogue:\n  " + "\n  ".join(problems))
    return tuple(detections)


def bind(det: Detection, connector: str, start: dt.datetime, end: dt.datetime,
         overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    values = det.params(overrides) | {"connector": connector, "window_start": start, "window_end": end}
    used = sql_params(det.sql)
    return {k: v for k, v in values.items() if k in used}


def columns_ok(cols: tuple[str, ...]) -> bool:
    """RULE_COLUMNS, then any of OPTIONAL_RULE_COLUMNS in their order."""
    extra = list(cols[len(RULE_COLUMNS):])
    return cols[:len(RULE_COLUMNS)] == RULE_COLUMNS and extra == [c for c in OPTIONAL_RULE_COLUMNS if c in extra]


def catalogue_by_id() -> dict[str, Detection]:
    return {d.id: d for d in load_catalogue()}


def _dry_run_problems(detections: Iterable[Detection]) -> list[str]:
    """Bind and run every rule once on an empty in-memory warehouse (catches SQL errors)."""
    problems = []
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        try:
            apply_schema(con)
        except duckdb.Error as exc:
            return [f"schema.sql or a hunting view failed: {exc}"]
        start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        for det in detections:
            try:
                cur = con.execute(det.sql, bind(det, "x", start, start + dt.timedelta(days=1)))
                cols = tuple(d[0] for d in cur.description)
                if not columns_ok(cols):
                    problems.append(f"{det.path.name}: returns columns {cols}, expected {RULE_COLUMNS} "
                                    f"then optionally any of {OPTIONAL_RULE_COLUMNS} in that order")
            except duckdb.Error as exc:
                problems.append(f"{det.path.name}: SQL does not run: {str(exc).splitlines()[0]}")
    finally:
        con.close()
    return problems


