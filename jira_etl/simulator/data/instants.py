"""Instants of the simulated site: unix milliseconds, record ids and Jira ``created`` strings.

Ids
    ``id = (created_ms - 2000-01-01T00:00Z in ms) * 10_000 + seq``, where ``seq`` numbers
    the records that share one millisecond (0..9999).  Ids are therefore unique across
    days and strictly ordered with ``created`` (``a.created < b.created`` implies
    ``a.id < b.id``), also for records injected later with ``SiteData.add_record``.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_2000 = 946_684_800_000  # 2000-01-01T00:00:00Z in unix ms
ID_MULT = 10_000
DAY_MS = 86_400_000
_ONE_MS = timedelta(milliseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_ms_floor(dt: datetime) -> int:
    """Unix milliseconds of an aware datetime, rounded down (naive = UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - EPOCH) // _ONE_MS


def to_ms_ceil(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return -((EPOCH - dt) // _ONE_MS)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def parse_offset(tz: str) -> int:
    """'+0530' / '+05:30' / 'Z' -> minutes east of UTC."""
    if tz in ("Z", "z", ""):
        return 0
    m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", tz)
    if not m:
        raise ValueError(f"bad tz offset {tz!r}")
    mins = int(m.group(2)) * 60 + int(m.group(3))
    return -mins if m.group(1) == "-" else mins


def render_created(ms: int, offset_min: int = 0) -> str:
    """Jira style: 2022-01-24T08:48:05.645+0000 (local time of the given offset)."""
    # Integer arithmetic and a cached date: datetime's strftime took ~40% of the
    # simulator's CPU when serving the benchmark's pages.
    day, rest = divmod(int(ms) + offset_min * 60_000, DAY_MS)
    secs, milli = divmod(rest, 1000)
    hours, secs = divmod(secs, 3600)
    mins, secs = divmod(secs, 60)
    return f"{_iso_day(day)}T{hours:02d}:{mins:02d}:{secs:02d}.{milli:03d}{_offset_text(offset_min)}"


@lru_cache(maxsize=4096)
def _iso_day(days_since_epoch: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch).isoformat()


@lru_cache(maxsize=256)
def _offset_text(offset_min: int) -> str:
    a = abs(offset_min)
    return f"{'-' if offset_min < 0 else '+'}{a // 60:02d}{a % 60:02d}"


def parse_created(s: str) -> datetime:
    """Parse a Jira ``created`` string (any offset) to an aware UTC datetime."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)", s)
    if not m:
        raise ValueError(f"bad created {s!r}")
    base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    frac = (m.group(2) or "0").ljust(6, "0")
    off = parse_offset(m.group(3))
    return (base.replace(microsecond=int(frac), tzinfo=UTC) - timedelta(minutes=off))


def day_start_ms(d: date) -> int:
    return (d.toordinal() - _EPOCH_ORDINAL) * DAY_MS


def ms_day(ms: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + int(ms) // DAY_MS)


def id_for(ms: int, seq: int = 0) -> int:
    return (int(ms) - MS_2000) * ID_MULT + seq

