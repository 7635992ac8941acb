"""IP context: private / public / missing (or invalid), and the country where it can be
placed offline.

The country comes from `iptocc` (RIR allocation data embedded in the wheel, refreshed
by its maintainers; no file or network access at run time). It reports the country an
address block is *assigned* to; there is no offline network/ASN source here, so
`network` stays empty. Documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24)
count as public: they stand in for public addresses in examples and simulations.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from functools import lru_cache

from jira_etl.storage.warehouse import Warehouse

log = logging.getLogger(__name__)
UTC = dt.timezone.utc

_PRIVATE_NETS = [ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "::1/128", "fc00::/7", "fe80::/10",
)]

try:  # optional at import time so a broken wheel never breaks the pipeline
    from iptocc import country_code as _country_code
except Exception:  # noqa: BLE001
    _country_code = None


def classify(value: str | None) -> str:
    """'missing', 'invalid', 'private' or 'public'."""
    text = (value or "").strip()
    if not text:
        return "missing"
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return "invalid"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if any(addr in net for net in _PRIVATE_NETS if net.version == addr.version):
        return "private"
    return "public"


@lru_cache(maxsize=65536)
def country(value: str | None) -> str | None:
    if _country_code is None or classify(value) != "public":
        return None
    try:
        cc = _country_code(value.strip())
    except Exception:  # noqa: BLE001
        return None
    return cc if isinstance(cc, str) and cc else None


def refresh_ip_info(warehouse: Warehouse, connector: str, start: dt.datetime, end: dt.datetime) -> int:
    """Classify the addresses of the window not classified yet. Returns how many were added."""
    with warehouse.reader() as con:
        todo = addresses_to_classify(con, connector, start, end)
    return store_ip_info(warehouse, todo)


def addresses_to_classify(con, connector: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """The addresses of the window not classified yet, on an open connection."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT trim(remote_address) FROM audit_records r "
        "WHERE connector = ? AND created >= ? AND created < ? AND nullif(trim(remote_address), '') IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM ip_info i WHERE i.ip = trim(r.remote_address))",
        [connector, start, end]).fetchall()]


def store_ip_info(warehouse: Warehouse, todo: list[str]) -> int:
    """Classify `todo` and store it in ip_info; how many."""
    if not todo:
        return 0
    import pyarrow as pa

    now = dt.datetime.now(UTC)
    # One columnar insert: executemany runs a statement per row (28 addresses: 77 ms).
    new_rows = pa.table({"ip": todo, "kind": [classify(ip) for ip in todo],  # noqa: F841 - read by DuckDB
                         "country": pa.array([country(ip) for ip in todo], pa.string()),
                         "network": pa.nulls(len(todo), pa.string()), "resolved_at": [now] * len(todo)})
    with warehouse.writer() as con:
        con.execute("INSERT OR REPLACE INTO ip_info SELECT ip, kind, country, network, resolved_at FROM new_rows")
    return len(todo)
