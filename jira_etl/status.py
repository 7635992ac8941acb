"""Collection status per connector: Active, Failing, Incomplete (records may be missing
where an instant held more than the offset cap), Stale or Never collected."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import duckdb

from jira_etl.connectors import Connector
from jira_etl.storage.warehouse import Warehouse

UTC = dt.timezone.utc


def stale_after() -> dt.timedelta:
    """How old the newest collected data may be before a connector counts as Stale."""
    return dt.timedelta(hours=float(os.environ.get("JIRA_ETL_STALE_HOURS") or 36))


@dataclass
class ConnectorStatus:
    connector: str
    state: str
    last_partition: dt.date | None
    records_1d: int
    records_7d: int
    lag: dt.timedelta | None
    last_error: str

    def row(self) -> list[str]:
        return [
            self.connector,
            self.state,
            self.last_partition.isoformat() if self.last_partition else "-",
            str(self.records_1d),
            str(self.records_7d),
            format_lag(self.lag),
            self.last_error or "-",
        ]


HEADERS = ["connector", "state", "last partition", "records 1d", "records 7d", "lag", "last error"]


def format_lag(lag: dt.timedelta | None) -> str:
    if lag is None:
        return "-"
    minutes = int(lag.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 72 else f"{hours // 24} d"


def connector_status(con, name: str, now: dt.datetime) -> ConnectorStatus:
    last_day, last_loaded = con.execute(
        "SELECT max(day), max(loaded_at) FROM collected_partitions WHERE connector = ?", [name]
    ).fetchone()
    r1, r7 = con.execute(
        "SELECT count(*) FILTER (WHERE created > ?), count(*) FILTER (WHERE created > ?) "
        "FROM audit_records WHERE connector = ?",
        [now - dt.timedelta(days=1), now - dt.timedelta(days=7), name],
    ).fetchone()
    last = con.execute(
        "SELECT ok, message, attempted_at FROM collection_attempts WHERE connector = ? "
        "ORDER BY attempted_at DESC LIMIT 1",
        [name],
    ).fetchone()
    lag = None
    if last_day is not None:
        # Data is current up to the end of the newest collected day, or up to the load
        # time when that day was still running.
        day_end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), UTC)
        covered = min(day_end, last_loaded.astimezone(UTC)) if last_loaded else day_end
        lag = max(dt.timedelta(0), now - covered)
    failing = last is not None and not last[0]
    capped = _capped_days(con, name)
    if last_day is None:
        state = "Failing" if failing else "Never collected"
    elif failing:
        state = "Failing"
    elif capped:
        state = "Incomplete"
    elif lag is not None and lag > stale_after():
        state = "Stale"
    else:
        state = "Active"
    error = last[1] if failing else ""
    if capped and not failing:
        n = sum(capped.values())
        error = (f"{n} instant(s) beyond Jira's offset cap, records may be missing on "
                 + ", ".join(d.isoformat() for d in sorted(capped)[:3]) + (" ..." if len(capped) > 3 else ""))
    return ConnectorStatus(name, state, last_day, int(r1), int(r7), lag, error)


def _capped_days(con, name: str) -> dict[dt.date, int]:
    """Days with instants the offset cap cut short (table capped_instants)."""
    try:
        rows = con.execute("SELECT day, count(*) FROM capped_instants WHERE connector = ? GROUP BY day",
                           [name]).fetchall()
    except duckdb.CatalogException:  # a warehouse written before the table existed
        return {}
    return {d: int(n) for d, n in rows}


def collection_status(connectors: list[Connector], warehouse: Warehouse,
                      now: dt.datetime | None = None) -> list[ConnectorStatus]:
    now = now or dt.datetime.now(UTC)
    if not warehouse.path.exists():
        return [ConnectorStatus(c.name, "Never collected", None, 0, 0, None, "") for c in connectors]
    with warehouse.reader() as con:
        return [connector_status(con, c.name, now) for c in connectors]
