"""The audit entities a simulated Jira Data Center server holds, with its hazards
(see ../shared/jira-dc-audit-api.md): identical twins in one millisecond (bulk group
changes), events without an author or with `{"type": "system"}`, comma-separated `source`
chains, missing `node`/`method`/lists, base-URL fields (`uri`, `avatarUri`, `system`).

Entities are stored with the server's internal id (never served: only the page cursor
carries it) and kept newest first by (epoch ms, internal id), the order the API serves.
"""
from __future__ import annotations

import bisect
import datetime as dt
import random
import threading

UTC = dt.timezone.utc

USERS = [("10002", "ada.admin"), ("10003", "bob"), ("10004", "carol.ops"), ("10005", "dave")]
GROUPS = [("10100", "jira-administrators"), ("10101", "jira-software-users"), ("10102", "developers")]
# (category, action, i18n key of the action)
ACTIONS = [
    ("user management", "User added to group", "jira.auditing.user.added.to.group"),
    ("user management", "User removed from group", "jira.auditing.user.removed.from.group"),
    ("user management", "User created", "jira.auditing.user.created"),
    ("permissions", "Permission scheme updated", "jira.auditing.permission.scheme.updated"),
    ("projects", "Project updated", "jira.auditing.project.updated"),
    ("system", "General configuration changed", "jira.auditing.general.configuration.changed"),
    ("auditing", "Audit log configuration changed", "atlassian.audit.event.action.audit.config.updated"),
]


def iso(ms: int) -> str:
    when = dt.datetime.fromtimestamp(ms // 1000, UTC).replace(microsecond=(ms % 1000) * 1000)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def to_ms(when: dt.datetime) -> int:
    return (when.astimezone(UTC) - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(milliseconds=1)


def entity(ms: int, base: str, *, action: tuple[str, str, str] = ACTIONS[0], author: tuple[str, str] | None = USERS[0],
           system_author: bool = False, objects: list[tuple[str, str, str]] | None = None, source: str = "",
           changes: list[tuple[str, str, str]] | None = None, node: str | None = "node-1",
           method: str | None = "Browser", extra: list[tuple[str, str]] | None = None) -> dict:
    """One entity as the API renders it; optional parts left out when not given."""
    category, act, key = action
    ent: dict = {"timestamp": iso(ms)}
    if system_author:
        ent["author"] = {"type": "system"}
    elif author is not None:
        ent["author"] = {"id": author[0], "name": author[1], "type": "ApplicationUser",
                         "uri": f"{base}/secure/ViewProfile.jspa?name={author[1]}", "avatarUri": ""}
    ent["type"] = {"category": category, "categoryI18nKey": "jira.auditing.category." + category.replace(" ", ""),
                   "action": act, "actionI18nKey": key}
    if objects is not None:
        ent["affectedObjects"] = [{"id": i, "name": n, "type": t, "uri": ""} for i, n, t in objects]
    if changes is not None:
        ent["changedValues"] = [{"key": k, "i18nKey": "", "from": f, "to": t} for k, f, t in changes]
    if extra is not None:
        ent["extraAttributes"] = [{"name": n, "nameI18nKey": "", "value": v} for n, v in extra]
    ent["source"] = source
    ent["system"] = base
    if node is not None:
        ent["node"] = node
    if method is not None:
        ent["method"] = method
    return ent


class DCLog:
    """The server's audit log: (ms, internal id, entity), newest first."""

    def __init__(self, base: str = "http://jira.example.com"):
        self.base = base
        self._rows: list[tuple[int, int, dict]] = []
        self._keys: list[tuple[int, int]] = []  # (-ms, -id), ascending = newest first
        self._next_id = 88000
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, ms: int, ent: dict) -> int:
        with self._lock:
            self._next_id += 1
            key = (-ms, -self._next_id)
            i = bisect.bisect_left(self._keys, key)
            self._keys.insert(i, key)
            self._rows.insert(i, (ms, self._next_id, ent))
            return self._next_id

    def add_twins(self, ms: int, n: int, ent: dict) -> None:
        """`n` entities identical in every field, in one millisecond (a bulk change)."""
        for _ in range(n):
            self.add(ms, dict(ent))

    def window(self, start_ms: int, end_ms: int, after: tuple[int, int] | None = None) -> list[tuple[int, int, dict]]:
        """Rows with start <= ms <= end, newest first, strictly after cursor `after`."""
        with self._lock:
            lo = bisect.bisect_left(self._keys, (-end_ms, -(1 << 62)))
            if after is not None:
                lo = max(lo, bisect.bisect_right(self._keys, (-after[0], -after[1])))
            hi = bisect.bisect_right(self._keys, (-start_ms, 0))
            return self._rows[lo:hi]

    def populate(self, days: list[dt.date], per_day: int = 200, seed: int = 7, twins: int = 0) -> None:
        """Deterministic busy days with every hazard; `twins` identical entities in one
        millisecond at noon of each day."""
        rng = random.Random(seed)
        for day in days:
            start = to_ms(dt.datetime.combine(day, dt.time(), UTC))
            for _ in range(per_day):
                ms = start + rng.randrange(86_400_000)
                roll = rng.random()
                action = rng.choice(ACTIONS)
                user_event = action[0] == "user management"  # these always name the group and the user
                src = rng.choice(["198.51.100.10", "203.0.113.9, 10.0.0.5", "", "192.0.2.44, 10.0.0.5, 10.0.0.6"])
                self.add(ms, entity(
                    ms, self.base, action=action,
                    author=None if roll < 0.05 else rng.choice(USERS), system_author=0.05 <= roll < 0.1,
                    objects=None if roll > 0.9 and not user_event else [rng.choice(GROUPS) + ("GROUP",), rng.choice(USERS) + ("USER",)],
                    source=src, changes=[("Email", "a@x", "b@x")] if roll < 0.3 else None,
                    node=None if roll > 0.8 else "node-1", method=None if roll > 0.85 else "Browser",
                    extra=[("Forwarder", "10.0.0.5")] if roll < 0.2 else None))
            if twins:
                ms = start + 12 * 3_600_000 + 271
                self.add_twins(ms, twins, entity(ms, self.base, objects=[GROUPS[1] + ("GROUP",), USERS[3] + ("USER",)],
                                                 source="198.51.100.10"))
