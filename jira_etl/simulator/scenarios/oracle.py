"""The ground truth's collateral: which other detections the planted records trip
(:func:`annotate`), and what a run over planted scenarios must report
(:func:`expected_findings`)."""
from __future__ import annotations

from datetime import date, timedelta

from ..data import ADMIN_GROUPS, SiteData, ms_day, parse_created, to_ms_floor
from .planted import SECURITY_REMOVAL, SENSITIVE_SUMMARIES, SUMMARY_RULES, Planted


def _sensitive_key(rec: dict) -> str | None:
    s = rec.get("summary", "")
    if s in SENSITIVE_SUMMARIES:
        return s
    # (an addition to an admin group is new_site_admin's finding, not repeated by the rule)
    if s == "User removed from group" and (rec.get("objectItem") or {}).get("name") in ADMIN_GROUPS:
        return s
    return None


# Active days of history before an actor has a baseline (the rules' learning_days).
LEARNING_DAYS = 7


class _History:
    """Per-actor facts of a 30-day look-back: any event, IPs, summaries."""

    def __init__(self, data: SiteData):
        self.data = data
        self._days: dict[date, dict[str, tuple[set, set, list]]] = {}

    def _day(self, d: date):
        got = self._days.get(d)
        if got is None:
            got = {}
            for r in self.data.generate_day(d):
                a = r.get("authorAccountId")
                if a is None:
                    continue
                ips, sums, mss = got.setdefault(a, (set(), set(), []))
                if r.get("remoteAddress"):
                    ips.add(r["remoteAddress"])
                sums.add(r["summary"])
                mss.append(to_ms_floor(parse_created(r["created"])))
            self._days[d] = got
        return got

    def look_back(self, actor: str, ms: int, days: int = 30):
        """(active days, IPs, summaries) of actor in [ms - days, ms)."""
        lo = ms - days * 86_400_000
        active_days, ips, sums = 0, set(), set()
        d = ms_day(lo)
        while d <= ms_day(ms):
            info = self._day(d).get(actor)
            if info:
                # per-record precision only matters on the two edge days
                if d == ms_day(lo) or d == ms_day(ms):
                    recs = [r for r in self.data.generate_day(d)
                            if r.get("authorAccountId") == actor and
                            lo <= to_ms_floor(parse_created(r["created"])) < ms]
                    active_days += bool(recs)
                    for r in recs:
                        if r.get("remoteAddress"):
                            ips.add(r["remoteAddress"])
                        sums.add(r["summary"])
                else:
                    active_days += 1
                    ips |= info[0]
                    sums |= info[1]
            d += timedelta(days=1)
        return active_days, ips, sums


def annotate(data: SiteData, planted: list[Planted]) -> None:
    """Fill ``Planted.also`` with the other detections the planted records should trip
    (single-event summary rules, rare_action_for_actor, new_ip_for_actor), looking at
    every record of the site (background and injected)."""
    hist = _History(data)
    for p in planted:
        also: dict[str, set[int]] = {}
        recs = data.records_by_ids(p.record_ids | p.setup_ids)
        for r in recs:
            hits = set()
            s = r.get("summary", "")
            if s in SUMMARY_RULES:
                hits.add(SUMMARY_RULES[s])
            if s in SECURITY_REMOVAL:
                hits.add("security_scheme_removed")
            if s == "User added to group" and (r.get("objectItem") or {}).get("name") in ADMIN_GROUPS:
                hits.add("new_site_admin")
            if s == "Global permission added":
                hits.add("global_permission_added")
            actor = r.get("authorAccountId")
            if actor:
                ms = to_ms_floor(parse_created(r["created"]))
                active_days, ips, sums = hist.look_back(actor, ms)
                # the rules skip actors in their learning period (fewer active days)
                has = active_days >= LEARNING_DAYS
                key = _sensitive_key(r)
                if has and key is not None and key not in sums:
                    hits.add("rare_action_for_actor")
                ip = r.get("remoteAddress")
                if has and ip and ip not in ips:
                    hits.add("new_ip_for_actor")
            for h in hits:
                if h == p.detection_id and r["id"] in p.record_ids and not p.negative:
                    continue
                also.setdefault(h, set()).add(r["id"])
        p.also = also


def expected_findings(planted: list[Planted]) -> dict[str, list[set[int]]]:
    """detection id -> list of record-id sets it must report (primary truth of the
    positive scenarios plus their collateral ``also``). audit_gap entries are empty
    sets (the finding is the day: see ``Planted.day``)."""
    out: dict[str, list[set[int]]] = {}
    for p in planted:
        if not p.negative:
            out.setdefault(p.detection_id, []).append(set(p.record_ids))
        for det, ids in p.also.items():
            out.setdefault(det, []).append(set(ids))
    return out
