"""SiteData: the simulated site as a whole, and the windows the API pages through.

Each UTC day is generated lazily on first use (habits.py for the realistic background,
bulk.py for an explicit ``daily_volume``) and held as sorted columns (day_store.py);
records are rendered (templates.py) only when read, and a bounded number of them is kept
per day, as dicts for the site's readers and as JSON texts for the pages served.
"""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .bulk import bulk_day
from .day_store import DayColumns
from .directory import User, account_id, author_key, build_users
from .habits import realistic_day
from .instants import (ID_MULT, MS_2000, UTC, day_start_ms, ms_day, parse_created,
                       parse_offset, to_ms_ceil, to_ms_floor)
from .templates import TemplateContext, build_record

# Records held per day, as dicts (readers of the data) and as JSON texts (pages served).
CACHE_PER_DAY = 200_000


class SiteData:
    """A deterministic synthetic Jira site.

    Parameters
    ----------
    seed: everything (users, records) derives from it.
    daily_volume: None = realistic (150-400 records on weekdays, 10-40 on weekends, a
        clean background for the detections); an int = exactly that many records per
        day, vectorised (benchmarks; not detection-clean).
    tz_offset: offset ``created`` strings are rendered in (``"+0530"``); the UTC
        instant is unchanged.
    clock: ``() -> aware datetime``, "now" (default real UTC now). Records created
        after it are hidden from :meth:`query` (today's partition fills up).
    start: first UTC day holding records (default: 365 days before the clock's date at
        construction). Earlier days are empty.
    generated: False = hold only explicitly added records (see :meth:`empty`).
    silent_days: UTC days that hold no generated records (the audit_gap scenario).
    unknown_fields: roughly 1 record in 100 carries an undocumented extra field.
    """

    def __init__(self, seed: int = 7, daily_volume: int | None = None,
                 tz_offset: str = "+0000", clock: Callable[[], datetime] | None = None,
                 start: date | datetime | None = None, *, generated: bool = True,
                 silent_days: Iterable[date] | None = None, unknown_fields: bool = True):
        self.seed = seed
        self.daily_volume = daily_volume
        self.tz_offset = tz_offset
        self._off = parse_offset(tz_offset)
        self.clock = clock or (lambda: datetime.now(UTC))
        if isinstance(start, datetime):
            start = start.astimezone(UTC).date()
        self.start: date = start or (self.now().date() - timedelta(days=365))
        self.generated = generated
        self.silent_days: set[date] = set(silent_days or ())
        self.unknown_fields = unknown_fields
        self._users: list[User] = build_users(seed)
        self._user_by_id = {u.accountId: u for u in self._users}
        self._ctx = TemplateContext(self._users)
        self._days: dict[date, DayColumns] = {}
        self._lock = threading.RLock()
        self.explicit_ids: set[int] = set()

    @classmethod
    def empty(cls, **kw) -> "SiteData":
        """A site holding only records added with :meth:`add_record` (any day)."""
        kw.setdefault("start", date(2000, 1, 2))
        return cls(generated=False, **kw)

    # ---------------------------------------------------------------- basics
    def now(self) -> datetime:
        n = self.clock()
        return n if n.tzinfo else n.replace(tzinfo=UTC)

    def users(self) -> dict[str, dict]:
        """accountId -> {accountId, accountType, active, displayName, emailAddress,
        timeZone}. Every authorAccountId of every record is in it."""
        return {u.accountId: u.api() for u in self._users}

    def user_objects(self) -> list[User]:
        return list(self._users)

    def user(self, account_id: str) -> User | None:
        return self._user_by_id.get(account_id)

    def admins(self) -> list[User]:
        return [u for u in self._users if u.role == "admin"]

    def regular_users(self) -> list[User]:
        return [u for u in self._users if u.role == "user"]

    def add_user(self, display_name: str, *, ip: str | None = None, role: str = "planted",
                 account_type: str = "atlassian", active: bool = True,
                 email: str | None = "", time_zone: str = "Etc/UTC") -> User:
        """Add an account to the directory (returns the existing one if present)."""
        aid = account_id(self.seed, "planted:" + display_name)
        if aid in self._user_by_id:
            return self._user_by_id[aid]
        if email == "":
            email = display_name.lower().replace(" ", ".") + "@example.com"
        u = User(accountId=aid, displayName=display_name, accountType=account_type,
                 active=active, emailAddress=email, timeZone=time_zone,
                 authorKey=author_key(self.seed, "planted:" + display_name), ip=ip,
                 role=role)
        with self._lock:
            self._users.append(u)
            self._user_by_id[aid] = u
            self._ctx = TemplateContext(self._users)
        return u

    # ---------------------------------------------------------------- generation
    def _day(self, d: date) -> DayColumns:
        with self._lock:
            got = self._days.get(d)
            if got is None:
                got = self._generate(d)
                self._days[d] = got
            return got

    def _generate(self, d: date) -> DayColumns:
        if not self.generated or d < self.start or d in self.silent_days:
            return DayColumns(d, [], [], [], [])
        if self.daily_volume is not None:
            return bulk_day(self.seed, self._users, d, int(self.daily_volume))
        return realistic_day(self.seed, self._users, d)

    # ---------------------------------------------------------------- materialise
    def _record(self, day: DayColumns, pos: int) -> dict:
        rid = int(day.ids[pos])
        got = day.cache.get(rid)
        if got is not None:
            return got
        rec = self._build(day, pos, rid)
        if len(day.cache) < CACHE_PER_DAY:
            day.cache[rid] = rec
        return rec

    def _text(self, day: DayColumns, pos: int) -> str:
        """The record as the API's JSON text (`json.dumps` of `_record`), kept as text:
        serving pages from held dicts made the cyclic GC walk every record of the day
        again and again (~40% of the simulator's CPU at 100k records a day)."""
        rid = int(day.ids[pos])
        got = day.texts.get(rid)
        if got is not None:
            return got
        held = day.cache.get(rid)  # a record already handed out as a dict wins
        text = json.dumps(held if held is not None else self._build(day, pos, rid))
        if held is None and len(day.texts) < CACHE_PER_DAY:
            day.texts[rid] = text
        return text

    def _build(self, day: DayColumns, pos: int, rid: int) -> dict:
        return build_record(day, pos, rid, self._users, self._ctx, self._off,
                            self.unknown_fields)

    def generate_day(self, day: date) -> list[dict]:
        """All records of one UTC day, oldest first (ignores the clock)."""
        d = self._day(day)
        with self._lock:
            return [self._record(d, i) for i in range(len(d.ms))]

    # ---------------------------------------------------------------- windows
    def _bounds(self, frm: datetime | None, to: datetime | None,
                respect_clock: bool) -> tuple[int, int]:
        lo = to_ms_ceil(frm) if frm is not None else day_start_ms(self.start)
        hi = to_ms_floor(to) if to is not None else to_ms_floor(self.now())
        if respect_clock:
            hi = min(hi, to_ms_floor(self.now()))
        return lo, hi

    def _slices(self, lo: int, hi: int) -> list[tuple[DayColumns, int, int]]:
        """Newest day first: (day, lo_pos, hi_pos) with ms in [lo, hi]."""
        out = []
        if hi < lo:
            return out
        first = max(ms_day(lo), self.start) if self.generated else ms_day(lo)
        last = ms_day(hi)
        with self._lock:
            if not self.generated:
                days = sorted((d for d in self._days if first <= d <= last), reverse=True)
            else:
                days = [last - timedelta(days=i) for i in range((last - first).days + 1)]
            for dd in days:
                d = self._day(dd)
                a = int(np.searchsorted(d.ms, lo, side="left"))
                b = int(np.searchsorted(d.ms, hi, side="right"))
                if b > a:
                    out.append((d, a, b))
        return out

    def count(self, frm: datetime | None, to: datetime | None,
              respect_clock: bool = True) -> int:
        lo, hi = self._bounds(frm, to, respect_clock)
        return sum(b - a for _, a, b in self._slices(lo, hi))

    def page(self, frm: datetime | None, to: datetime | None, offset: int = 0,
             limit: int | None = None, respect_clock: bool = True) -> tuple[int, list[dict]]:
        """(number of records in the window, the records [offset:offset+limit] newest
        first). Inclusive at both ends, millisecond precision."""
        return self._page(frm, to, offset, limit, respect_clock, self._record)

    def page_texts(self, frm: datetime | None, to: datetime | None, offset: int = 0,
                   limit: int | None = None, respect_clock: bool = True) -> tuple[int, list[str]]:
        """`page` with each record as its JSON text (`json.dumps` of the record)."""
        return self._page(frm, to, offset, limit, respect_clock, self._text)

    def _page(self, frm, to, offset, limit, respect_clock, materialize):
        lo, hi = self._bounds(frm, to, respect_clock)
        with self._lock:
            slices = self._slices(lo, hi)
            total = sum(b - a for _, a, b in slices)
            out: list[dict] = []
            skip = max(0, offset)
            want = total if limit is None else max(0, limit)
            for d, a, b in slices:
                if len(out) >= want:
                    break
                n = b - a
                if skip >= n:
                    skip -= n
                    continue
                top = b - 1 - skip
                skip = 0
                p = top
                while p >= a and len(out) < want:
                    out.append(materialize(d, p))
                    p -= 1
            return total, out

    def query(self, frm: datetime | None, to: datetime | None) -> list[dict]:
        """All records with frm <= created <= to and created <= now, newest first."""
        return self.page(frm, to)[1]

    def iter_ids(self, frm, to, respect_clock: bool = False) -> Iterator[int]:
        lo, hi = self._bounds(frm, to, respect_clock)
        for d, a, b in self._slices(lo, hi):
            yield from (int(x) for x in d.ids[a:b])

    def truth_ids(self, frm: datetime | None, to: datetime | None,
                  respect_clock: bool = False) -> set[int]:
        """Ids of every record with frm <= created <= to. By default ignores the clock
        (a past window is what matters); pass respect_clock=True to match query()."""
        return set(self.iter_ids(frm, to, respect_clock))

    def instance_total(self) -> int:
        """Site-wide record count up to now: exact for days already generated, the
        expected volume for the others (so no huge generation is forced)."""
        today = self.now().date()
        now_ms = to_ms_floor(self.now())
        total = 0
        with self._lock:
            known = dict(self._days)
        if not self.generated:
            return sum(int(np.searchsorted(d.ms, now_ms, side="right"))
                       for d in known.values())
        ndays = (today - self.start).days + 1
        for i in range(max(ndays, 0)):
            dd = self.start + timedelta(days=i)
            d = known.get(dd)
            if d is not None:
                total += int(np.searchsorted(d.ms, now_ms, side="right"))
            elif self.generated and dd not in self.silent_days:
                total += self.daily_volume if self.daily_volume is not None else (
                    25 if dd.weekday() >= 5 else 275)
        return total

    def silence_day(self, d: date) -> None:
        """Make a UTC day hold no generated records (audit_gap). Raises if records were
        already injected into it."""
        with self._lock:
            got = self._days.get(d)
            if got is not None and got.explicit:
                raise ValueError(f"{d} already holds injected records")
            self.silent_days.add(d)
            self._days.pop(d, None)

    # ---------------------------------------------------------------- injection
    def add_record(self, created: datetime | str, *, actor: str | User | None = None,
                   tz_offset: str | None = None, **fields) -> dict:
        """Inject one record created at ``created`` (aware datetime; naive = UTC; or a
        Jira/ISO string with offset). ``fields`` are API fields that override the
        defaults (a value of None removes the field). ``actor`` (account id or User)
        fills authorAccountId, authorKey and remoteAddress from the directory.
        ``tz_offset`` renders this record's ``created`` in another offset. The id is
        assigned so that id order agrees with created order. Returns the record."""
        if isinstance(created, str):
            created = parse_created(created)
        ms = to_ms_floor(created)
        rec: dict[str, Any] = {"summary": "User updated"}
        if actor is not None:
            u = actor if isinstance(actor, User) else self._user_by_id[actor]
            if u.ip:
                rec["remoteAddress"] = u.ip
            rec["authorKey"] = u.authorKey
            rec["authorAccountId"] = u.accountId
        rec.update({"category": "user management", "eventSource": "",
                    "objectItem": {"name": "sim-object", "typeName": "USER"},
                    "changedValues": [], "associatedItems": []})
        for k, v in fields.items():
            if v is None:
                rec.pop(k, None)
            else:
                rec[k] = v
        rec.pop("id", None)
        rec.pop("created", None)
        if tz_offset is not None:
            rec["_off"] = parse_offset(tz_offset)
        with self._lock:
            day = self._day(ms_day(ms))
            rid = day.insert(ms, rec)
            self.explicit_ids.add(rid)
            return self._record(day, int(np.searchsorted(day.ids, rid)))

    def add_records(self, items: Iterable[dict]) -> list[dict]:
        """Inject many: each item is a dict with a ``created`` key plus add_record
        keyword arguments/fields."""
        out = []
        for it in items:
            it = dict(it)
            out.append(self.add_record(it.pop("created"), **it))
        return out

    def records_by_ids(self, ids: Iterable[int]) -> list[dict]:
        out = []
        for rid in sorted(ids):
            ms = rid // ID_MULT + MS_2000
            d = self._day(ms_day(ms))
            p = int(np.searchsorted(d.ids, rid))
            if p < len(d.ids) and int(d.ids[p]) == rid:
                out.append(self._record(d, p))
        return out
