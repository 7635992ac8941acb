"""Score findings against planted ground truth: per detection, true positives, false
positives and misses.

- A planted scenario names the detections it must fire, the audit record ids it planted
  and the days it covers (for record-less detections such as audit_gap).
- True positive: a finding of an expected detection that shares a record with the
  scenario (or, for a finding without records, falls on one of its days). Each
  (scenario, detection) pair counts once; extra findings on the same scenario are
  `duplicates`, not errors.
- Miss: an expected (scenario, detection) pair with no such finding.
- False positive: a finding that touches no planted record (and, without records, no
  planted day of a scenario expecting it): it fired on the clean background.
- Incidental: a finding on planted records of a scenario that does not list its
  detection (an attack often trips neighbouring rules); reported, not an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Planted:
    name: str
    detections: frozenset[str]
    record_ids: frozenset[int]
    days: frozenset[dt.date] = frozenset()


@dataclass
class DetectionScore:
    detection_id: str
    planted: int = 0
    tp: int = 0
    fp: int = 0
    missed: int = 0
    duplicates: int = 0
    incidental: int = 0
    missed_scenarios: list[str] = field(default_factory=list)
    fp_messages: list[str] = field(default_factory=list)


def _touches(finding: dict, scenario: Planted) -> bool:
    ids = set(finding.get("record_ids") or [])
    if ids:
        return bool(ids & scenario.record_ids)
    return finding.get("day") in scenario.days


def score(findings: Iterable[dict], planted: Iterable[Planted], detection_ids: Iterable[str]) -> dict[str, DetectionScore]:
    findings = list(findings)
    planted = list(planted)
    scores = {d: DetectionScore(d) for d in detection_ids}
    for f in findings:
        scores.setdefault(f["detection_id"], DetectionScore(f["detection_id"]))
    for s in planted:
        for d in s.detections:
            scores.setdefault(d, DetectionScore(d)).planted += 1
    # expected pairs
    for s in planted:
        for d in sorted(s.detections):
            hits = [f for f in findings if f["detection_id"] == d and _touches(f, s)]
            if hits:
                scores[d].tp += 1
                scores[d].duplicates += len(hits) - 1
            else:
                scores[d].missed += 1
                scores[d].missed_scenarios.append(s.name)
    # findings outside every expectation
    for f in findings:
        d = f["detection_id"]
        touched = [s for s in planted if _touches(f, s)]
        if not touched:
            scores[d].fp += 1
            scores[d].fp_messages.append(f"{f.get('day')}: {f.get('message')}")
        elif not any(d in s.detections for s in touched):
            scores[d].incidental += 1
    return scores


def table(scores: dict[str, DetectionScore]) -> str:
    from tabulate import tabulate

    rows = [[s.detection_id, s.planted, s.tp, s.fp, s.missed, s.incidental]
            for s in sorted(scores.values(), key=lambda s: s.detection_id)]
    total = [sum(r[i] for r in rows) for i in range(1, 6)]
    rows.append(["**total**", *total])
    return tabulate(rows, headers=["detection", "planted", "TP", "FP", "missed", "incidental"], tablefmt="github")


def failures(scores: dict[str, DetectionScore]) -> list[str]:
    out = []
    for s in scores.values():
        out += [f"{s.detection_id}: missed scenario {n}" for n in s.missed_scenarios]
        out += [f"{s.detection_id}: false positive {m}" for m in s.fp_messages]
    return out
