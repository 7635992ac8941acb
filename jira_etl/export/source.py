"""What the exports read: audit records and findings of a connector's days, from DuckDB.

Records come with the actor's display name where `users` knows it; findings with
their detection's ATT&CK technique from the catalogue.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

from jira_etl.detections import catalogue
from jira_etl.export import ocsf, security_lake

UTC = dt.timezone.utc
RECORD_COLUMNS = ("connector", "id", "created", "summary", "category", "event_source", "description",
                  "remote_address", "author_account_id", "author_key", "object_item_id", "object_item_name",
                  "object_item_type_name", "object_item_parent_id", "object_item_parent_name", "changed_values",
                  "associated_items", "ingested_at")
BATCH = 5_000


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time(), UTC),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC))


def records(con, start: dt.date, end: dt.date, connector: str | None = None) -> Iterator[dict]:
    lo, hi = _bounds(start, end)
    cols = ", ".join(f"r.{c}" for c in RECORD_COLUMNS)
    cur = con.execute(
        f"SELECT {cols}, u.display_name AS actor_name FROM audit_records r "
        "LEFT JOIN users u ON u.account_id = r.author_account_id "
        "WHERE r.created >= ? AND r.created < ? AND (? IS NULL OR r.connector = ?) "
        "ORDER BY r.created, r.connector, r.id", [lo, hi, connector, connector])
    names = [d[0] for d in cur.description]
    while True:
        rows = cur.fetchmany(BATCH)
        if not rows:
            return
        for row in rows:
            yield dict(zip(names, row))


def findings(con, start: dt.date, end: dt.date, connector: str | None = None) -> list[dict]:
    cur = con.execute(
        "SELECT * FROM findings WHERE day BETWEEN ? AND ? AND (? IS NULL OR connector = ?) "
        "AND finding_id IS NOT NULL AND suppressed IS NOT TRUE ORDER BY first_seen, finding_id",
        [start, end, connector, connector])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def attack_by_detection() -> dict[str, str | None]:
    return {d.id: d.attack for d in catalogue.load_catalogue()}


def export_ocsf_days(warehouse, data_dir: Path, connector: str, days: list[dt.date],
                     region: str | None = None) -> dict[dt.date, dict[str, int]]:
    """Write the Security Lake files of each day (records by class, findings as 2004);
    returns rows per source per day. Reads each day, then writes with no connection open."""
    region = region or security_lake.region()
    root = security_lake.lake_root(data_dir)
    attack = attack_by_detection()
    out = {}
    for day in sorted(days):
        by_class: dict[int, list[dict]] = {}
        with warehouse.reader() as con:
            for rec in records(con, day, day, connector):
                ev = ocsf.record_event(rec)
                by_class.setdefault(ev["class_uid"], []).append(ev)
            by_class[2004] = [ocsf.finding_event(f, attack.get(f["detection_id"]))
                              for f in findings(con, day, day, connector)]
        out[day] = security_lake.write_day(root, region, connector, day, by_class,
                                           security_lake.RECORD_CLASSES + (2004,))
    return out
