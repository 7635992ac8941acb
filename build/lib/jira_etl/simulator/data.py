"""Deterministic synthetic Jira Cloud site: audit records and a user directory.

Records follow the exact shape of ``GET /rest/api/3/auditing/record`` (see
``/work/shared/jira-audit-api.md``).  Each UTC day is generated lazily on first use and
cached as sorted numpy columns; records are materialised into dicts only when read, so
an explicit ``daily_volume`` of 1_000_000 is cheap to hold and to page through.

Ids
    ``id = (created_ms - 2000-01-01T00:00Z in ms) * 10_000 + seq``, where ``seq`` numbers
    the records that share one millisecond (0..9999).  Ids are therefore unique across
    days and strictly ordered with ``created`` (``a.created < b.created`` implies
    ``a.id < b.id``), also for records injected later with :meth:`SiteData.add_record`.

Clean background
    The realistic generator (``daily_volume=None``) never emits an event that one of
    the detections in ``/work/shared/detections.md`` (sections A and B) should flag:
    no global permission / permission scheme / project role / security scheme events,
    no password changes, no user creation, no removals, no admin-group membership
    changes; every actor uses one fixed IP, works fixed hours inside 07:00-19:00 UTC,
    acts at least every few days and stays far below the burst thresholds (<= 1
    deletion per actor per day, well under 20 events per actor per rolling hour).
    The off-hours tail comes only from system events (no author) in non-admin
    categories.  The explicit-volume generator is for benchmarks and gives no such
    guarantee.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator

import numpy as np

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_2000 = 946_684_800_000  # 2000-01-01T00:00:00Z in unix ms
ID_MULT = 10_000
DAY_MS = 86_400_000
_ONE_MS = timedelta(milliseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Records held per day, as dicts (readers of the data) and as JSON texts (pages served).
CACHE_PER_DAY = 200_000

ADMIN_GROUPS = ("site-admins", "jira-administrators", "administrators", "org-admins")
NORMAL_GROUPS = ("jira-software-users", "developers", "qa-team", "support-agents",
                 "design", "data-platform", "contractors", "confluence-users")
DIRECTORY_PARENT = ("10000", "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory")
PROJECTS = tuple((str(10000 + i), key, name) for i, (key, name) in enumerate([
    ("ABC", "Alpha Billing Core"), ("WEB", "Website"), ("MOB", "Mobile App"),
    ("OPS", "Operations"), ("SEC", "Security Engineering"), ("DATA", "Data Platform"),
    ("HR", "People Team"), ("SUP", "Customer Support"), ("INF", "Infrastructure"),
    ("MKT", "Marketing"), ("PAY", "Payments"), ("QA", "Quality Assurance")]))
WORKFLOWS = ("Software Simplified Workflow", "Bug Workflow", "Support Workflow",
             "Change Management", "Incident Workflow", "Release Workflow", "Task Workflow")
WORKFLOW_SCHEMES = ("Default Workflow Scheme", "Software Workflow Scheme",
                    "Support Workflow Scheme", "Ops Workflow Scheme", "Data Workflow Scheme")
FIELD_SCHEMES = ("Default Field Configuration Scheme", "Software Field Scheme",
                 "Support Field Scheme", "Ops Field Scheme")
PERMISSION_SCHEMES = ("Default Permission Scheme", "Software Permission Scheme",
                      "Restricted Permission Scheme", "Contractor Permission Scheme")
SECURITY_SCHEMES = ("Default Issue Security Scheme", "Confidential Issues", "HR Restricted")
NOTIFICATION_SCHEMES = ("Default Notification Scheme", "Quiet Notifications", "Ops Paging")
CUSTOM_FIELDS = ("Story Points", "Team", "Customer Impact", "Root Cause", "Sprint Goal",
                 "Due Quarter", "Severity", "Environment", "Cost Center", "Region")
STATUSES = ("To Do", "In Progress", "In Review", "Blocked", "Done", "Won't Do", "Waiting",
            "Triaged", "Deployed")
TIMEZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
             "Asia/Kolkata", "Australia/Sydney", "Europe/Lisbon", "Asia/Singapore")

FIRST_NAMES = ("Maya", "Liam", "Sofia", "Noah", "Aisha", "Lucas", "Hana", "Mateo", "Zara",
               "Oliver", "Priya", "Jonas", "Lea", "Tomasz", "Ines", "Kofi", "Yuki", "Sven",
               "Amara", "Diego", "Nora", "Ravi", "Elif", "Marco", "Freya", "Omar")
LAST_NAMES = ("Patel", "Garcia", "Muller", "Smith", "Kim", "Rossi", "Okafor", "Larsen",
              "Costa", "Tanaka", "Novak", "Dubois", "Ahmed", "Jensen", "Silva", "Brown")

# (display name, hours [start, end) in UTC, does people/group admin work)
ADMINS = (("Alice Nguyen", (8, 17), True), ("Bruno Silva", (9, 18), True),
          ("Chen Wei", (7, 16), False), ("Dana Kowalski", (10, 19), False),
          ("Emeka Obi", (8, 16), False))


# --------------------------------------------------------------------------- time utils
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


def _hash(*parts: Any) -> int:
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(),
                                          digest_size=8).digest(), "big") >> 1


def _mix(x: int) -> int:
    x = (x * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return (x ^ (x >> 32)) >> 1


# --------------------------------------------------------------------------- users
@dataclass
class User:
    accountId: str
    displayName: str
    accountType: str = "atlassian"
    active: bool = True
    emailAddress: str | None = None
    timeZone: str = "Etc/UTC"
    authorKey: str = ""
    ip: str | None = None
    role: str = "user"            # admin | user | app | inactive | dormant | service | planted
    hours: tuple[int, int] = (8, 18)
    people_admin: bool = False

    def api(self) -> dict:
        d = {"accountId": self.accountId, "accountType": self.accountType,
             "active": self.active, "displayName": self.displayName,
             "emailAddress": self.emailAddress, "timeZone": self.timeZone}
        return d


def _account_id(seed: int, name: str) -> str:
    return hashlib.sha1(f"{seed}:{name}".encode()).hexdigest()[:24]


def _author_key(seed: int, name: str) -> str:
    h = hashlib.md5(f"key:{seed}:{name}".encode()).hexdigest()
    return f"ug:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def build_users(seed: int) -> list[User]:
    rnd = random.Random(f"users:{seed}")
    out: list[User] = []

    def mk(name, role, **kw):
        aid = _account_id(seed, name)
        email = kw.pop("email", f"{name.lower().replace(' ', '.')}@example.com")
        return User(accountId=aid, displayName=name, emailAddress=email,
                    timeZone=kw.pop("tz", rnd.choice(TIMEZONES)),
                    authorKey=_author_key(seed, name), role=role, **kw)

    for i, (name, hours, people) in enumerate(ADMINS):
        out.append(mk(name, "admin", ip=f"203.0.113.{10 + i}", hours=hours,
                      people_admin=people))
    # A real admin account that does nothing in the background (used by scenarios).
    out.append(mk("Farah Haddad", "dormant", ip="198.51.100.77", hours=(9, 17)))
    names: list[str] = []
    while len(names) < 26:
        n = f"{rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)}"
        if n not in names and n not in {a[0] for a in ADMINS} and n != "Farah Haddad":
            names.append(n)
    for i, n in enumerate(names[:22]):
        ip = f"10.20.{i // 10}.{30 + i}" if i % 3 == 0 else f"198.51.100.{100 + i}"
        email = None if i % 5 == 4 else f"{n.lower().replace(' ', '.')}@example.com"
        out.append(mk(n, "user", ip=ip, email=email, hours=(8, 18)))
    for n in names[22:]:
        out.append(mk(n, "inactive", active=False, ip=None))
    for name in ("Automation for Jira", "Slack", "Jira Service Management Widget"):
        u = mk(name, "app", accountType="app", email=None, tz="Etc/UTC",
               ip="10.99.0.5" if name == "Automation for Jira" else None)
        u.accountId = "557058:" + hashlib.sha1(f"{seed}:{name}".encode()).hexdigest()[:8] + \
            "-" + hashlib.sha1(f"{seed}:{name}".encode()).hexdigest()[8:12]
        u.authorKey = u.accountId
        out.append(u)
    return out


# --------------------------------------------------------------------------- templates
def _pick(seq, h: int, salt: int = 0):
    return seq[(_mix(h + salt * 7919)) % len(seq)]


def _user_item(u: User) -> dict:
    return {"id": u.accountId, "name": u.accountId, "typeName": "USER",
            "parentId": DIRECTORY_PARENT[0], "parentName": DIRECTORY_PARENT[1]}


def _group_item(name: str, h: int) -> dict:
    d = {"name": name, "typeName": "GROUP", "parentId": DIRECTORY_PARENT[0],
         "parentName": DIRECTORY_PARENT[1]}
    if h % 2:
        d = {"id": hashlib.md5(name.encode()).hexdigest()[:8] + "-grp", **d}
    return d


def _project_item(h: int, salt: int = 0) -> dict:
    pid, key, name = _pick(PROJECTS, h, salt)
    return {"id": pid, "name": name, "typeName": "PROJECT"}


class _Ctx:
    """What a template builder may use: the site's users, grouped."""

    def __init__(self, users: list[User]):
        self.users = users
        self.regular = [u for u in users if u.role == "user"]


def _t_user_updated(h, ctx):
    u = _pick(ctx.regular, h, 1)
    fld = _pick(("Full name", "Email", "Time zone"), h, 2)
    if fld == "Full name":
        cv = {"fieldName": "Full name", "changedFrom": u.displayName.lower(),
              "changedTo": u.displayName}
    elif fld == "Email":
        cv = {"fieldName": "Email", "changedFrom": f"old{h % 97}@example.com",
              "changedTo": u.emailAddress or "hidden@example.com"}
    else:
        cv = {"fieldName": "Time zone", "changedTo": u.timeZone}
    return {"objectItem": _user_item(u), "changedValues": [cv], "associatedItems": []}


def _t_added_to_group(h, ctx):
    g = _pick(NORMAL_GROUPS, h, 3)
    u = _pick(ctx.regular, h, 4)
    return {"objectItem": _group_item(g, h), "changedValues": [],
            "associatedItems": [_user_item(u)]}


def _t_group_created(h, ctx):
    name = f"team-{_pick(('alpha', 'bravo', 'delta', 'omega', 'nova', 'atlas'), h, 5)}-{h % 1000}"
    return {"objectItem": _group_item(name, h), "changedValues": [], "associatedItems": []}


def _t_project_created(h, ctx):
    p = _project_item(h, 6)
    return {"objectItem": p, "associatedItems": [], "changedValues": [
        {"fieldName": "Name", "changedTo": p["name"]},
        {"fieldName": "Key", "changedTo": _pick(PROJECTS, h, 6)[1]},
        {"fieldName": "Project type", "changedTo": "software"}]}


def _t_project_updated(h, ctx):
    return {"objectItem": _project_item(h, 7), "associatedItems": [], "changedValues": [
        {"fieldName": "Description", "changedFrom": f"rev {h % 50}",
         "changedTo": f"rev {h % 50 + 1}"}]}


def _t_version(h, ctx):
    pid, key, name = _pick(PROJECTS, h, 8)
    v = f"{h % 5}.{h % 13}.{h % 7}"
    return {"objectItem": {"id": str(20000 + h % 5000), "name": v, "typeName": "VERSION",
                           "parentId": pid, "parentName": name},
            "changedValues": [{"fieldName": "Name", "changedTo": v}],
            "associatedItems": [{"id": pid, "name": name, "typeName": "PROJECT"}]}


def _t_component(h, ctx):
    pid, key, name = _pick(PROJECTS, h, 9)
    c = _pick(("backend", "frontend", "api", "docs", "infra"), h, 10)
    return {"objectItem": {"id": str(30000 + h % 3000), "name": c,
                           "typeName": "PROJECT_COMPONENT", "parentId": pid,
                           "parentName": name},
            "changedValues": [{"fieldName": "Name", "changedTo": c}], "associatedItems": []}


def _t_workflow(h, ctx):
    w = _pick(WORKFLOWS, h, 11)
    return {"objectItem": {"name": w, "typeName": "WORKFLOW"}, "associatedItems": [],
            "changedValues": [] if h % 3 else [
                {"fieldName": "Status", "changedFrom": _pick(STATUSES, h, 12),
                 "changedTo": _pick(STATUSES, h, 13)}]}


def _t_scheme(pool, salt, with_project=False):
    def build(h, ctx):
        s = _pick(pool, h, salt)
        d = {"objectItem": {"id": str(10100 + pool.index(s)), "name": s, "typeName": "SCHEME"},
             "changedValues": [], "associatedItems": []}
        if with_project:
            d["associatedItems"] = [_project_item(h, salt + 1)]
        return d
    return build


def _t_custom_field(h, ctx):
    f = _pick(CUSTOM_FIELDS, h, 14)
    return {"objectItem": {"id": f"customfield_{10010 + CUSTOM_FIELDS.index(f)}", "name": f,
                           "typeName": "CUSTOM_FIELD"},
            "changedValues": [{"fieldName": "Name", "changedTo": f},
                              {"fieldName": "Type", "changedTo": "Number Field"}],
            "associatedItems": []}


def _t_status(h, ctx):
    s = _pick(STATUSES, h, 15)
    return {"objectItem": {"id": str(1 + STATUSES.index(s)), "name": s, "typeName": "STATUS"},
            "changedValues": [{"fieldName": "Name", "changedTo": s}], "associatedItems": []}


# name -> (summary, category, builder). Only background-safe summaries live here; the
# attack-looking ones are planted explicitly by scenarios.py.
TEMPLATES: list[tuple[str, str, Callable]] = [
    ("User updated", "user management", _t_user_updated),                      # 0
    ("User added to group", "group management", _t_added_to_group),            # 1
    ("Group created", "group management", _t_group_created),                   # 2
    ("Project created", "projects", _t_project_created),                       # 3
    ("Project updated", "projects", _t_project_updated),                       # 4
    ("Project version created", "projects", _t_version),                       # 5
    ("Project version released", "projects", _t_version),                      # 6
    ("Project component created", "projects", _t_component),                   # 7
    ("Workflow created", "workflows", _t_workflow),                            # 8
    ("Workflow updated", "workflows", _t_workflow),                            # 9
    ("Workflow scheme created", "workflows", _t_scheme(WORKFLOW_SCHEMES, 20)),  # 10
    ("Workflow scheme updated", "workflows", _t_scheme(WORKFLOW_SCHEMES, 21)),  # 11
    ("Workflow scheme added to project", "workflows",
     _t_scheme(WORKFLOW_SCHEMES, 22, True)),                                   # 12
    ("Field Configuration scheme created", "fields", _t_scheme(FIELD_SCHEMES, 23)),  # 13
    ("Field Configuration scheme updated", "fields", _t_scheme(FIELD_SCHEMES, 24)),  # 14
    ("Custom field created", "fields", _t_custom_field),                       # 15
    ("Status created", "workflows", _t_status),                                # 16
    ("Status updated", "workflows", _t_status),                                # 17
    ("Workflow deleted", "workflows", _t_workflow),                            # 18
    ("Field Configuration scheme deleted", "fields", _t_scheme(FIELD_SCHEMES, 25)),  # 19
    ("Notification scheme deleted", "notifications",
     _t_scheme(NOTIFICATION_SCHEMES, 26)),                                     # 20
]
T_ADDED_TO_GROUP = 1
DELETION_TEMPLATES = (18, 19, 20)
PEOPLE_TEMPLATES = ((0, 5), (1, 5), (2, 1))                      # (template, weight)
CONFIG_TEMPLATES = ((3, 1), (4, 6), (5, 3), (8, 1), (9, 6), (10, 1), (11, 3), (12, 3),
                    (13, 1), (14, 3), (15, 2), (16, 1), (17, 3), (18, 1), (19, 1), (20, 1))
USER_TEMPLATES = ((4, 3), (5, 4), (6, 3), (7, 2))
SYSTEM_TEMPLATES = ((6, 4), (9, 2), (17, 1))                      # no admin categories
SYSTEM_DAYTIME_TEMPLATES = ((0, 1),)                              # "User updated" by sync
DESCRIPTIONS = ("Changed via REST API", "Bulk change", "Imported from CSV",
                "Updated by site import")


def _weighted(rnd: random.Random, table) -> int:
    items, weights = zip(*table)
    return rnd.choices(items, weights)[0]


# --------------------------------------------------------------------------- storage
class _Day:
    """Sorted columns of one UTC day. tmpl >= 0: generated (template index, actor
    index, h); tmpl == -1: explicit record, h is the index into ``explicit``."""

    __slots__ = ("day", "ms", "ids", "tmpl", "actor", "h", "explicit", "cache", "texts")

    def __init__(self, day, ms, tmpl, actor, h):
        self.day = day
        order = np.argsort(ms, kind="stable")
        self.ms = np.asarray(ms, dtype=np.int64)[order]
        self.tmpl = np.asarray(tmpl, dtype=np.int16)[order]
        self.actor = np.asarray(actor, dtype=np.int32)[order]
        self.h = np.asarray(h, dtype=np.int64)[order]
        n = len(self.ms)
        if n:
            first = np.searchsorted(self.ms, self.ms, side="left")
            seq = np.arange(n, dtype=np.int64) - first
            if seq.max(initial=0) >= ID_MULT:
                raise ValueError("more than 10000 records in one millisecond")
            self.ids = (self.ms - MS_2000) * ID_MULT + seq
        else:
            self.ids = np.zeros(0, dtype=np.int64)
        self.explicit: list[dict] = []
        self.cache: dict[int, dict] = {}
        self.texts: dict[int, str] = {}  # str: never traversed by the cyclic GC

    def insert(self, ms: int, rec: dict) -> int:
        lo = int(np.searchsorted(self.ms, ms, side="left"))
        hi = int(np.searchsorted(self.ms, ms, side="right"))
        seq = int(self.ids[hi - 1] - id_for(ms) + 1) if hi > lo else 0
        if seq >= ID_MULT:
            raise ValueError("more than 10000 records in one millisecond")
        rid = id_for(ms, seq)
        self.explicit.append(rec)
        self.ms = np.insert(self.ms, hi, ms)
        self.ids = np.insert(self.ids, hi, rid)
        self.tmpl = np.insert(self.tmpl, hi, -1)
        self.actor = np.insert(self.actor, hi, -1)
        self.h = np.insert(self.h, hi, len(self.explicit) - 1)
        return rid


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
        self._ctx = _Ctx(self._users)
        self._days: dict[date, _Day] = {}
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
        aid = _account_id(self.seed, "planted:" + display_name)
        if aid in self._user_by_id:
            return self._user_by_id[aid]
        if email == "":
            email = display_name.lower().replace(" ", ".") + "@example.com"
        u = User(accountId=aid, displayName=display_name, accountType=account_type,
                 active=active, emailAddress=email, timeZone=time_zone,
                 authorKey=_author_key(self.seed, "planted:" + display_name), ip=ip,
                 role=role)
        with self._lock:
            self._users.append(u)
            self._user_by_id[aid] = u
            self._ctx = _Ctx(self._users)
        return u

    # ---------------------------------------------------------------- generation
    def _day(self, d: date) -> _Day:
        with self._lock:
            got = self._days.get(d)
            if got is None:
                got = self._generate(d)
                self._days[d] = got
            return got

    def _generate(self, d: date) -> _Day:
        if not self.generated or d < self.start or d in self.silent_days:
            return _Day(d, [], [], [], [])
        if self.daily_volume is not None:
            return self._generate_bulk(d, int(self.daily_volume))
        return self._generate_realistic(d)

    def _generate_bulk(self, d: date, n: int) -> _Day:
        rng = np.random.default_rng([self.seed, d.toordinal(), n])
        base = day_start_ms(d)
        work = rng.random(n) < 0.85
        ms = np.where(work, rng.integers(7 * 3_600_000, 19 * 3_600_000, n),
                      rng.integers(0, DAY_MS, n)) + base
        # bulk operations: ~1% of records share the millisecond of another record
        dup = rng.random(n) < 0.01
        ms = np.sort(ms)
        idx = np.nonzero(dup[1:])[0] + 1
        ms[idx] = ms[idx - 1]
        ms = np.maximum.accumulate(ms)  # keep sorted after copying
        actors = [i for i, u in enumerate(self._users) if u.role in ("admin", "user", "app")]
        actor = np.asarray(actors, dtype=np.int32)[rng.integers(0, len(actors), n)]
        actor[rng.random(n) < 0.15] = -1
        tmpl = rng.integers(0, len(TEMPLATES), n).astype(np.int16)
        h = rng.integers(0, 2 ** 62, n, dtype=np.int64)
        return _Day(d, ms, tmpl, actor, h)

    def _generate_realistic(self, d: date) -> _Day:
        rnd = random.Random(f"day:{self.seed}:{d.isoformat()}")
        base = day_start_ms(d)
        weekend = d.weekday() >= 5
        n = rnd.randint(10, 40) if weekend else rnd.randint(150, 400)
        n_sys = max(1, round(n * rnd.uniform(0.12, 0.2)))
        n_usr = round(n * rnd.uniform(0.2, 0.3)) if not weekend else rnd.randint(0, 4)
        n_adm = max(0, n - n_sys - n_usr)
        ms_l: list[int] = []
        tm_l: list[int] = []
        ac_l: list[int] = []
        h_l: list[int] = []

        def add(ms, t, a):
            ms_l.append(ms)
            tm_l.append(t)
            ac_l.append(a)
            h_l.append(rnd.getrandbits(62))

        idx = {u.accountId: i for i, u in enumerate(self._users)}
        admins = self.admins()
        if weekend:  # one or two on-call admins
            admins = rnd.sample(admins, rnd.randint(1, 2))
        weights = [1.3 if a.people_admin else 1.0 for a in admins]
        per = [0] * len(admins)
        for _ in range(n_adm):
            per[rnd.choices(range(len(admins)), weights)[0]] += 1
        for a, k in zip(admins, per):
            h0, h1 = a.hours
            span = (h1 - h0) * 3_600_000
            table = PEOPLE_TEMPLATES + CONFIG_TEMPLATES if a.people_admin else CONFIG_TEMPLATES
            deletions = 0
            i = 0
            slot = span / max(k, 1)
            while i < k:
                # stratified times: at most ~2 events per slot, far from any burst
                t = base + h0 * 3_600_000 + int(i * slot + rnd.random() * slot)
                tpl = _weighted(rnd, table)
                if tpl in DELETION_TEMPLATES:
                    if deletions >= 1:
                        tpl = 9
                    deletions += 1
                add(t, tpl, idx[a.accountId])
                i += 1
                if tpl == T_ADDED_TO_GROUP and rnd.random() < 0.3 and i < k:
                    for _ in range(min(rnd.randint(1, 3), k - i)):  # bulk add, same ms
                        add(t, tpl, idx[a.accountId])
                        i += 1
        users = self.regular_users()
        for _ in range(n_usr):
            u = rnd.choice(users)
            t = base + rnd.randint(u.hours[0] * 3_600_000, u.hours[1] * 3_600_000 - 1)
            add(t, _weighted(rnd, USER_TEMPLATES), idx[u.accountId])
        auto = [i for i, u in enumerate(self._users) if u.displayName == "Automation for Jira"]
        for _ in range(n_sys):
            r = rnd.random()
            if r < 0.2:
                t = base + rnd.randint(8 * 3_600_000, 18 * 3_600_000)
                add(t, _weighted(rnd, SYSTEM_DAYTIME_TEMPLATES), -1)
            elif r < 0.35 and auto:
                t = base + rnd.randint(0, DAY_MS - 1)
                add(t, 6, auto[0])  # automation releases versions around the clock
            else:
                t = base + rnd.randint(0, DAY_MS - 1)
                add(t, _weighted(rnd, SYSTEM_TEMPLATES), -1)
        return _Day(d, ms_l, tm_l, ac_l, h_l)

    # ---------------------------------------------------------------- materialise
    def _record(self, day: _Day, pos: int) -> dict:
        rid = int(day.ids[pos])
        got = day.cache.get(rid)
        if got is not None:
            return got
        rec = self._build(day, pos, rid)
        if len(day.cache) < CACHE_PER_DAY:
            day.cache[rid] = rec
        return rec

    def _text(self, day: _Day, pos: int) -> str:
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

    def _build(self, day: _Day, pos: int, rid: int) -> dict:
        ms = int(day.ms[pos])
        t = int(day.tmpl[pos])
        if t < 0:
            src = day.explicit[int(day.h[pos])]
            rec = {k: v for k, v in src.items() if not k.startswith("_")}
            rec["id"] = rid
            rec["created"] = render_created(ms, src.get("_off", self._off))
            rec = {"id": rid, **{k: v for k, v in rec.items() if k != "id"}}
        else:
            h = int(day.h[pos])
            summary, category, build = TEMPLATES[t]
            rec = {"id": rid, "summary": summary}
            a = int(day.actor[pos])
            if a >= 0:
                u = self._users[a]
                if u.ip:
                    rec["remoteAddress"] = u.ip
                rec["authorKey"] = u.authorKey
                rec["authorAccountId"] = u.accountId
            rec["created"] = render_created(ms, self._off)
            rec["category"] = category
            rec["eventSource"] = "" if h % 29 else "jira-automation"
            if h % 37 == 0:
                rec["description"] = _pick(DESCRIPTIONS, h, 30)
            rec.update(build(h, self._ctx))
            if self.unknown_fields and h % 101 == 0:
                rec["extraInfo"] = {"source": "sim", "note": "undocumented field"}
        return rec

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

    def _slices(self, lo: int, hi: int) -> list[tuple[_Day, int, int]]:
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
