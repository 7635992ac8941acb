"""Every detection on Jira Data Center records: the rule tests of tests/detections run
again, unchanged, with a `site` whose records are Data Center entities (author/type/
affectedObjects/changedValues, a comma-separated `source` chain, base-URL fields, every
other entity's action and category written as the i18n key as untranslated DC servers
do), keyed and normalized by normalize_dc exactly as collection does, loaded through
Parquet and the real Warehouse."""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "detections"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "detections" / "rules"))

import det_helpers  # noqa: E402
from test_baseline_rules import *  # noqa: E402,F401,F403 - the rule tests, collected here against DCSite
from test_behavioural_rules import *  # noqa: E402,F401,F403

# Every rule's own module (tests/detections/rules/test_<rule>.py): its tests collected here
# as test_<rule>__<case>, so each rule's fire / near-miss / clean cases run on DC records too.
RULE_MODULES = []
for _path in sorted((Path(__file__).resolve().parent.parent / "detections" / "rules").glob("test_*.py")):
    _mod = importlib.import_module(_path.stem)
    RULE_MODULES.append(_mod)
    for _name, _fn in vars(_mod).items():
        if _name.startswith("test_") and callable(_fn):
            globals()[f"test_{_path.stem[5:]}__{_name[5:]}"] = _fn

from jira_etl import normalize_dc  # noqa: E402
from jira_etl.storage import schema as storage_schema  # noqa: E402

UTC = dt.timezone.utc
BASE = "https://jira.example.com/jira"


def i18n_action(summary: str) -> str:
    text = summary.lower().replace("user's password", "user password")
    return "jira.auditing." + text.replace(" ", ".")


def i18n_category(category: str) -> str:
    return "jira.auditing.category." + category.lower().replace(" ", "")


def to_entity(rec: dict, as_keys: bool) -> dict:
    """A Cloud-shaped test record as Jira Data Center serves it."""
    t = dt.datetime.strptime(rec["created"], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    ent: dict = {"timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"}
    if rec.get("authorAccountId"):
        ent["author"] = {"id": rec["authorAccountId"], "name": rec.get("authorKey"), "type": "ApplicationUser",
                         "uri": f"{BASE}/secure/ViewProfile.jspa?name={rec['authorAccountId']}", "avatarUri": ""}
    else:
        ent["author"] = {"type": "system"}
    summary, category = rec["summary"], rec.get("category") or ""
    ent["type"] = {"category": i18n_category(category) if as_keys else category,
                   "categoryI18nKey": i18n_category(category),
                   "action": i18n_action(summary) if as_keys else summary, "actionI18nKey": i18n_action(summary)}
    objects = [rec["objectItem"]] if rec.get("objectItem") else []
    objects += rec.get("associatedItems") or []
    ent["affectedObjects"] = [{k: v for k, v in (("id", o.get("id")), ("name", o.get("name")),
                                                  ("type", o.get("typeName")), ("uri", "")) if v is not None}
                              for o in objects]
    if rec.get("changedValues"):
        ent["changedValues"] = [{"key": c.get("fieldName"), "i18nKey": "", "from": c.get("changedFrom"),
                                 "to": c.get("changedTo")} for c in rec["changedValues"]]
    ip = rec.get("remoteAddress")
    ent["source"] = f"{ip}, 10.0.0.5" if ip else ""
    ent["system"] = BASE
    ent["node"] = "node-1"
    ent["method"] = "Browser"
    return ent


class DCSite(det_helpers.AuditSite):
    """AuditSite whose records are Data Center entities; `add` returns the DC key."""

    def __init__(self, root, connector=det_helpers.CONNECTOR):
        super().__init__(root, connector)
        self.entities: list[tuple[dt.datetime, int, dict]] = []
        self._twins: Counter = Counter()
        self.keys: list[int] = []

    def add(self, when, summary, category="projects", **kw) -> int:
        super().add(when, summary, category, **kw)
        ent = to_entity(self.records[-1], as_keys=len(self.entities) % 2 == 1)
        content = normalize_dc.canonical(ent)
        key = normalize_dc.entity_key(content, self._twins[content])  # twins ranked from the oldest
        self._twins[content] += 1
        self.entities.append((when.astimezone(UTC), len(self.entities), ent))
        self.keys.append(key)
        return key

    def load(self, extra_days=()) -> None:
        by_day: dict[dt.date, list] = {d: [] for d in extra_days}
        for row in self.entities:
            by_day.setdefault(row[0].date(), []).append(row)
        files = {}
        pq_dir = self.root / "parquet"
        pq_dir.mkdir(parents=True, exist_ok=True)
        for day, rows in by_day.items():
            served = [e for *_, e in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]  # newest first
            table = normalize_dc.to_table(served, self.connector)
            assert set(table.column("id").to_pylist()) <= set(self.keys)
            path = pq_dir / f"{day.isoformat()}.parquet"
            pq.write_table(table, path)
            files[day] = path
        self.warehouse.load_partitions(self.connector, files)
        self.collected_days |= set(files)
        with self.warehouse.writer() as con:
            storage_schema.apply_schema(con)


@pytest.fixture
def site(tmp_path) -> DCSite:
    return DCSite(tmp_path)


class SameRecords(list):
    """A finding's record ids, equal to the same ids in any order: the rules list them by
    id, which follows time on Cloud and is a hash on Data Center (same records, other order)."""

    def __eq__(self, other):
        return isinstance(other, list) and sorted(self) == sorted(other)

    __hash__ = None


@pytest.fixture(autouse=True)
def _record_ids_in_any_order(monkeypatch):
    for mod in RULE_MODULES:
        if hasattr(mod, "ids"):
            monkeypatch.setattr(mod, "ids", lambda findings: [SameRecords(f["record_ids"]) for f in findings])


def test_dc_site_really_loads_data_center_rows(site):
    rid = site.add_to_group(det_helpers.at(det_helpers.DAY, 10), det_helpers.BOB, "jira-administrators")
    site.password_changed(det_helpers.at(det_helpers.DAY, 11), det_helpers.BOB)
    site.load()
    with site.warehouse.reader() as con:
        rows = con.execute("SELECT id, action, category, remote_address, target_account_id, object_item_name "
                           "FROM audit_events ORDER BY created").fetchall()
        raws = [r[0] for r in con.execute("SELECT raw FROM audit_records ORDER BY created").fetchall()]
    assert rows[0] == (rid, "user added to group", "group management", det_helpers.ADMIN_IP, det_helpers.BOB,
                       "jira-administrators")
    assert rows[1][1:3] == ("user's password changed", "user management")  # from jira.auditing.* keys
    assert '"affectedObjects"' in raws[0] and '"jira.auditing.user.password.changed"' in raws[1]
