"""The site's user directory: who exists, their roles, IPs and working hours."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

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


def account_id(seed: int, name: str) -> str:
    return hashlib.sha1(f"{seed}:{name}".encode()).hexdigest()[:24]


def author_key(seed: int, name: str) -> str:
    h = hashlib.md5(f"key:{seed}:{name}".encode()).hexdigest()
    return f"ug:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def build_users(seed: int) -> list[User]:
    rnd = random.Random(f"users:{seed}")
    out: list[User] = []

    def mk(name, role, **kw):
        aid = account_id(seed, name)
        email = kw.pop("email", f"{name.lower().replace(' ', '.')}@example.com")
        return User(accountId=aid, displayName=name, emailAddress=email,
                    timeZone=kw.pop("tz", rnd.choice(TIMEZONES)),
                    authorKey=author_key(seed, name), role=role, **kw)

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

