"""Allow-lists of detections.yaml: findings an analyst has judged benign, kept but marked.

    detections:
      user_removed_from_group:
        suppress:
          - actors: [svc-directory-sync]      # account id or display name
            groups: [jira-users]
            reason: nightly directory sync removes leavers
            expires: 2026-12-31               # optional; the last day the entry applies

An entry matches a finding when every criterion it names matches (a criterion is a
list: any item matches):
- `actors`: the finding's actor account id or display name (case-insensitive);
- `networks`: CIDRs; every source address of the finding lies in one of them (a
  finding without an address never matches);
- `groups`: the finding's object is a group of that name (case-insensitive);
- `objects`: the finding's object, e.g. "PROJECT Website", or its bare name.
`expires` is compared with the finding's day (the day it was evaluated for), so a
re-run of old days suppresses what the entry covered then, and days after the expiry
are no longer suppressed. A suppressed finding is stored with suppressed = true and
the entry's reason; it is counted, never dropped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Suppression:
    reason: str
    actors: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()
    groups: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    expires: dt.date | None = None

    def applies_on(self, day: dt.date | None) -> bool:
        return self.expires is None or day is None or day <= self.expires

    def matches(self, finding: dict) -> bool:
        if not self.applies_on(_day(finding)):
            return False
        if self.actors:
            names = {str(finding.get(k) or "").lower() for k in ("actor_account_id", "actor_name")} - {""}
            if not names & {a.lower() for a in self.actors}:
                return False
        if self.networks:
            addresses = _addresses(finding)
            if not addresses or not all(any(a in n for n in self.networks if a.version == n.version)
                                        for a in addresses):
                return False
        obj = str(finding.get("object") or "")
        if self.groups:
            kind, _, name = obj.partition(" ")
            names = {name.lower(), str(finding.get("object_name") or "").lower()} - {""}
            if kind.upper() != "GROUP" or not names & {g.lower() for g in self.groups}:
                return False
        if self.objects:
            candidates = {obj.lower(), str(finding.get("object_name") or "").lower(), obj.partition(" ")[2].lower()}
            if not (candidates - {""}) & {o.lower() for o in self.objects}:
                return False
        return True


def _day(finding: dict) -> dt.date | None:
    day = finding.get("day")
    if isinstance(day, dt.date):
        return day
    seen = finding.get("last_seen") or finding.get("first_seen")
    return seen.astimezone(dt.timezone.utc).date() if isinstance(seen, dt.datetime) else None


def _addresses(finding: dict) -> list:
    raw = finding.get("addresses")
    if raw is None:
        raw = str(finding.get("remote_address") or "").split(",")
    out = []
    for a in raw:
        try:
            out.append(ipaddress.ip_address(str(a).strip()))
        except ValueError:
            return []  # an address we cannot read is not allow-listed
    return out


def apply(findings: Iterable[dict], entries: Iterable[Suppression]) -> int:
    """Mark the findings the entries match (first matching entry's reason); returns how
    many were suppressed."""
    entries = list(entries)
    n = 0
    for f in findings:
        f.setdefault("suppressed", False)
        f.setdefault("suppression_reason", None)
        for entry in entries:
            if entry.matches(f):
                f["suppressed"], f["suppression_reason"] = True, entry.reason
                n += 1
                break
    return n
