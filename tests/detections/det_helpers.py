"""Helpers for the detection tests: hand-made API-shaped audit records, loaded through the real Warehouse into a temp DuckDB."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pyarrow.parquet as pq
from jira_etl.detections import catalogue
from jira_etl.detections import runner
from jira_etl.detections import overrides
from jira_etl.storage import schema as storage_schema
from jira_etl.normalize import to_table
from jira_etl.storage.warehouse import Warehouse

UTC = dt.timezone.utc
CONNECTOR = "acme"
DAY = dt.date(2026, 3, 10)  # a Tuesday
ADMIN_IP = "203.0.113.10"

ALICE = "acct-alice"
BOB = "acct-bob"
MALLORY = "acct-mallory"
VICTIMS = [f"acct-victim-{i:02d}" for i in range(30)]


def at(day: dt.date, hh: int, mm: int = 0, ss: int = 0, ms: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, ms * 1000, tzinfo=UTC)


def jira_time(t: dt.datetime) -> str:
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"


def user_item(account_id: str) -> dict:
    return {"id": account_id, "name": account_id, "typeName": "USER", "parentId": "10000",
            "parentName": "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"}


def group_item(name: str) -> dict:
    return {"name": name, "typeName": "GROUP", "parentId": "10000",
            "parentName": "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"}


def project_item(name: str = "Website", pid: str = "10001") -> dict:
    return {"id": pid, "name": name, "typeName": "PROJECT"}


class AuditSite:
    """Records built like the API returns them; `load()` writes them day by day through
    Parquet and `Warehouse.load_partitions`, exactly as the load asset does."""

    def __init__(self, root: Path, connector: str = CONNECTOR):
        self.root = Path(root)
        self.connector = connector
        self.warehouse = Warehouse(self.root / "data")
        self.records: list[dict] = []
        self.collected_days: set[dt.date] = set()
        self._ids = itertools.count(1000)

    # --- building records -------------------------------------------------------------

    def add(self, when: dt.datetime, summary: str, category: str = "projects", *, actor: str | None = ALICE,
            ip: str | None = ADMIN_IP, obj: dict | None = None, assoc: list[dict] | None = None,
            changed: list[dict] | None = None) -> int:
        rid = next(self._ids)
        rec = {"id": rid, "summary": summary, "created": jira_time(when), "category": category,
               "eventSource": "", "objectItem": obj or project_item(), "associatedItems": assoc or [],
               "changedValues": changed or []}
        if ip is not None:
            rec["remoteAddress"] = ip
        if actor is not None:
            rec["authorAccountId"] = actor
            rec["authorKey"] = "ug:" + actor
        self.records.append(rec)
        return rid

    def add_to_group(self, when, target: str, group: str, actor: str = ALICE, ip: str = ADMIN_IP) -> int:
        return self.add(when, "User added to group", "group management", actor=actor, ip=ip,
                        obj=group_item(group), assoc=[user_item(target)])

    def remove_from_group(self, when, target: str, group: str = "developers", actor: str = ALICE,
                          ip: str = ADMIN_IP) -> int:
        return self.add(when, "User removed from group", "group management", actor=actor, ip=ip,
                        obj=group_item(group), assoc=[user_item(target)])

    def create_user(self, when, target: str, actor: str = ALICE, ip: str = ADMIN_IP) -> int:
        return self.add(when, "User created", "user management", actor=actor, ip=ip, obj=user_item(target))

    def password_changed(self, when, target: str, actor: str | None = None, ip: str = ADMIN_IP) -> int:
        return self.add(when, "User's password changed", "user management", actor=actor or target, ip=ip,
                        obj=user_item(target))

    def routine(self, days: list[dt.date], actor: str = ALICE, per_day: int = 4, hours=(9, 16),
                ip: str = ADMIN_IP, summary: str = "Project updated", category: str = "projects") -> None:
        """Quiet background: a few ordinary changes per day inside working hours."""
        lo, hi = hours
        for d in days:
            for i in range(per_day):
                hh = lo + (i * (hi - lo)) // max(per_day, 1)
                self.add(at(d, hh, (7 * i) % 60), summary, category, actor=actor, ip=ip)

    # --- loading and evaluating -------------------------------------------------------

    def load(self, extra_days: list[dt.date] | tuple = ()) -> None:
        by_day: dict[dt.date, list[dict]] = {d: [] for d in extra_days}
        for rec in self.records:
            t = dt.datetime.strptime(rec["created"], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
            by_day.setdefault(t.date(), []).append(rec)
        files = {}
        pq_dir = self.root / "parquet"
        pq_dir.mkdir(parents=True, exist_ok=True)
        for day, recs in by_day.items():
            path = pq_dir / f"{day.isoformat()}.parquet"
            pq.write_table(to_table(recs, self.connector), path)
            files[day] = path
        self.warehouse.load_partitions(self.connector, files)
        self.collected_days |= set(files)
        with self.warehouse.writer() as con:
            storage_schema.apply_schema(con)

    def run(self, detection_id: str, day: dt.date = DAY, **params) -> list[dict]:
        det = catalogue.catalogue_by_id()[detection_id]
        settings = overrides.Settings(parameters={detection_id: params} if params else {})
        with self.warehouse.reader() as con:
            return runner.run_detection(con, det, self.connector, day, settings)

    def run_all(self, day: dt.date = DAY) -> list[dict]:
        with self.warehouse.reader() as con:
            return runner.evaluate(con, self.connector, [day])


def days_before(day: dt.date, n: int) -> list[dt.date]:
    return [day - dt.timedelta(days=i) for i in range(n, 0, -1)]
