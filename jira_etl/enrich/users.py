"""Resolve account ids to users through /rest/api/3/user/bulk, cached in table `users`.

Ids are looked up in batches, only when unknown or older than `max_age` (never once per
record), with no DuckDB connection open during the HTTP calls. Any failure is reported
and swallowed: enrichment never fails a load.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable

from jira_etl.storage.warehouse import Warehouse

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
DEFAULT_MAX_AGE = dt.timedelta(days=7)
MAX_IDS_PER_RUN = 2000

# Account ids of users named in the records of [start, end): authors and USER items.
_IDS_SQL = """
WITH r AS (
    SELECT author_account_id, object_item_type_name, object_item_id, associated_items
    FROM audit_records WHERE connector = $connector AND created >= $start AND created < $end
)
SELECT DISTINCT account_id FROM (
    SELECT author_account_id AS account_id FROM r
    UNION ALL
    SELECT object_item_id FROM r WHERE upper(object_item_type_name) = 'USER'
    UNION ALL
    SELECT unnest(list_transform(list_filter(associated_items, lambda x: upper(x.type_name) = 'USER'),
                                 lambda x: coalesce(x.id, x.name))) FROM r
) WHERE account_id IS NOT NULL AND account_id <> ''
"""


@dataclass
class EnrichResult:
    wanted: int = 0
    looked_up: int = 0
    found: int = 0
    not_found: int = 0
    error: str | None = None
    skipped: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        return {"users_wanted": self.wanted, "users_looked_up": self.looked_up, "users_found": self.found,
                "users_not_found": self.not_found, "users_error": self.error or ""}


def ids_to_refresh(warehouse: Warehouse, connector: str, start: dt.datetime, end: dt.datetime,
                   max_age: dt.timedelta = DEFAULT_MAX_AGE, now: dt.datetime | None = None) -> tuple[int, list[str]]:
    with warehouse.reader() as con:
        return ids_to_refresh_on(con, connector, start, end, max_age, now)


def ids_to_refresh_on(con, connector: str, start: dt.datetime, end: dt.datetime,
                      max_age: dt.timedelta = DEFAULT_MAX_AGE, now: dt.datetime | None = None) -> tuple[int, list[str]]:
    """(ids of the window, those unknown or older than `max_age`) on an open connection."""
    now = now or dt.datetime.now(UTC)
    wanted = [r[0] for r in con.execute(_IDS_SQL, {"connector": connector, "start": start, "end": end}).fetchall()]
    if not wanted:
        return 0, []
    fresh = {r[0] for r in con.execute(
        "SELECT account_id FROM users WHERE list_contains(?, account_id) AND fetched_at >= ?",
        [wanted, now - max_age]).fetchall()}
    return len(wanted), sorted(set(wanted) - fresh)


def upsert_users(warehouse: Warehouse, looked_up: list[str], users: list[dict], now: dt.datetime | None = None) -> None:
    """Store what the API returned; ids it did not return are remembered as not found."""
    now = now or dt.datetime.now(UTC)
    by_id = {u.get("accountId"): u for u in users if isinstance(u, dict) and u.get("accountId")}
    rows = []
    for aid in sorted(set(looked_up) | set(by_id)):
        u = by_id.get(aid)
        if u is None:
            rows.append([aid, None, None, None, None, None, False, now])
        else:
            rows.append([aid, _s(u.get("displayName")), _s(u.get("accountType")),
                         u.get("active") if isinstance(u.get("active"), bool) else None,
                         _s(u.get("emailAddress")), _s(u.get("timeZone")), True, now])
    if not rows:
        return
    import pyarrow as pa

    # One columnar insert: executemany runs a statement per row (~2.5 ms each).
    names = ("account_id", "display_name", "account_type", "active", "email_address", "time_zone", "found",
             "fetched_at")
    types = (pa.string(),) * 3 + (pa.bool_(),) + (pa.string(),) * 2 + (pa.bool_(), pa.timestamp("us", UTC))
    new_rows = pa.table({n: pa.array([r[i] for r in rows], t)  # noqa: F841 - read by DuckDB
                         for i, (n, t) in enumerate(zip(names, types))})
    with warehouse.writer() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            # A failed look-up never erases a name found earlier.
            con.execute(
                f"INSERT INTO users SELECT {', '.join(names)} FROM new_rows ON CONFLICT (account_id) DO UPDATE SET "
                "display_name = CASE WHEN excluded.found THEN excluded.display_name ELSE users.display_name END, "
                "account_type = CASE WHEN excluded.found THEN excluded.account_type ELSE users.account_type END, "
                "active = CASE WHEN excluded.found THEN excluded.active ELSE users.active END, "
                "email_address = CASE WHEN excluded.found THEN excluded.email_address ELSE users.email_address END, "
                "time_zone = CASE WHEN excluded.found THEN excluded.time_zone ELSE users.time_zone END, "
                "found = excluded.found OR users.found, fetched_at = excluded.fetched_at"
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _s(value) -> str | None:
    return value if isinstance(value, str) else None


def refresh_users(warehouse: Warehouse, client_factory: Callable[[], object], connector: str,
                  start: dt.datetime, end: dt.datetime, max_age: dt.timedelta = DEFAULT_MAX_AGE,
                  limit: int = MAX_IDS_PER_RUN, to_refresh: tuple[int, list[str]] | None = None) -> EnrichResult:
    """Look up the unknown or stale account ids of the window (`to_refresh`: what
    ids_to_refresh_on found already). Never raises."""
    result = EnrichResult()
    try:
        result.wanted, todo = to_refresh if to_refresh is not None else ids_to_refresh(warehouse, connector, start,
                                                                                         end, max_age)
        todo = todo[:limit]
        if not todo:
            return result
        client = client_factory()
        users = client.users_bulk(todo)
        result.looked_up = len(todo)
        result.found = len({u.get("accountId") for u in users if isinstance(u, dict)} & set(todo))
        result.not_found = result.looked_up - result.found
        upsert_users(warehouse, todo, users)
    except Exception as exc:  # noqa: BLE001 - enrichment must never fail the load
        result.error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("user enrichment for %s skipped: %s", connector, result.error)
    return result
