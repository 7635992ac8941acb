"""The detection evaluation: `python -m jira_etl.detections.evaluation_run`.

Runs the whole pipeline (extract over real HTTP from the simulator on loopback -> load
into DuckDB -> findings) in one Dagster range run, on

(a) the planted month (simulator/scenarios.plant_month: every scenario with its ground
    truth over the simulator's clean background, 30 days of history before it, plus the
    optional new-country scenario), scored per detection: planted / found / missed / FP;
(b) a realistic background (simulator/scenarios/realistic.py: time zones, a night shift,
    the nightly directory sync, a service account, bulk operations, maintenance window,
    new admins, the 09:00 routine), nothing planted: findings per day and per detection.

and prints both as markdown tables. Exit status 1 when a target is missed: anything
planted missed, or on (b) more than 1 behavioural finding or more than 3 findings a
day on average. `--seed`, `--days`, `--history-days`, `--sync-size`, `--base-fraction` change the
data, `--only planted|background` what runs, `--list` lists every background finding.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

UTC = dt.timezone.utc
MONTH_START = dt.date(2026, 3, 2)
MONTH_DAYS = 30
MAX_BEHAVIOURAL = 1
MAX_PER_DAY = 3.0


def run_pipeline(site, first: dt.date, last: dt.date, workdir: Path, connector: str = "acme",
                 quiet: bool = False) -> list[dict]:
    """Every finding of ``connector`` after one dg.materialize range run over [first, last]
    against ``site`` served by the simulator over real HTTP (``quiet``: the run's console
    log at WARNING)."""
    import dagster as dg
    import duckdb

    from jira_etl.defs.definitions import connector_assets
    from jira_etl.defs.resources import JiraResource, StorageResource
    from jira_etl.simulator.server import Faults, JiraSimulator

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(workdir)) as instance, JiraSimulator(site, faults=Faults()) as sim:
        result = dg.materialize(
            connector_assets(connector),
            resources={f"jira_{connector}": JiraResource(connector=connector, site=sim.url, email=sim.email,
                                                         api_token=sim.token, backoff_base_s=0.01,
                                                         backoff_max_s=0.05),
                       "storage": StorageResource(data_dir=str(workdir / "data"))},
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else None,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()},
            raise_on_error=False,
        )
    if not result.success:
        raise RuntimeError("the evaluation's pipeline run failed")
    with duckdb.connect(str(workdir / "data" / "jira_audit.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM findings WHERE connector = ? ORDER BY day, first_seen", [connector])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


# ------------------------------------------------------------------ (a) the planted month
def planted_month(seed: int = 7):
    """(site, scorer truth, first, last) of the planted month."""
    from jira_etl.detections.evaluation import Planted
    from jira_etl.simulator import scenarios
    from jira_etl.simulator.data import SiteData

    first, last = scenarios.evaluation_range(MONTH_START, MONTH_DAYS)
    site = SiteData(seed=seed, start=first,
                    clock=lambda: dt.datetime.combine(last + dt.timedelta(days=2), dt.time(), UTC))
    planted = scenarios.plant_month(site, MONTH_START, MONTH_DAYS)
    truth = from_scenarios(planted)
    gap_days = {p.day for p in planted if p.detection_id == "audit_gap"}
    final = next(last - dt.timedelta(days=k) for k in range(10) if last - dt.timedelta(days=k) not in gap_days)
    truth += plant_new_country(site, final, avoid=gap_days, planted_cls=Planted)
    return site, truth, first, last


def plant_new_country(site, last_day: dt.date, avoid: set[dt.date], planted_cls=None) -> list:
    """The optional rule: an actor working from a GB address for 20 days, then once
    from a CN address (iptocc places both offline)."""
    if planted_cls is None:
        from jira_etl.detections.evaluation import Planted as planted_cls
    traveller = site.add_user("Tara Traveller", ip="81.2.69.160")
    project = {"id": "10001", "name": "Website", "typeName": "PROJECT"}

    def at(d):
        return dt.datetime.combine(d, dt.time(11, 0), UTC)

    days = [last_day - dt.timedelta(days=i) for i in range(21, 1, -1)]
    history = [site.add_record(at(d), actor=traveller, summary="Project updated", category="projects",
                               objectItem=project)["id"] for d in days if d not in avoid]
    assert last_day not in avoid
    final = site.add_record(at(last_day), actor=traveller, summary="Project updated", category="projects",
                            objectItem=project, remoteAddress="175.16.199.1")["id"]
    return [planted_cls("new_country", frozenset({"new_country_or_network_for_actor", "new_ip_for_actor"}),
                        frozenset({final})),
            planted_cls("new_country/history", frozenset(), frozenset(history))]


def from_scenarios(planted) -> list:
    """scenarios.Planted -> scorer truth: the primary detection on its records, each
    collateral (`also`) detection on its records, setup records as touch-only."""
    from jira_etl.detections.evaluation import Planted

    out = []
    for p in planted:
        if p.negative:
            continue
        out.append(Planted(p.detection_id, frozenset({p.detection_id}), frozenset(p.record_ids),
                           frozenset({p.day})))
        for det, ids in sorted(p.also.items()):
            out.append(Planted(f"{p.detection_id}+{det}", frozenset({det}), frozenset(ids)))
        if p.setup_ids:
            out.append(Planted(f"{p.detection_id}/setup", frozenset(), frozenset(p.setup_ids)))
    return out


# ------------------------------------------------------------------ (b) the realistic background
@dataclass
class Background:
    findings: list[dict]          # the findings on the evaluated days
    days: list[dt.date]
    sections: dict[str, str]      # detection id -> catalogue section

    @property
    def behavioural(self) -> list[dict]:
        return [f for f in self.findings if self.sections.get(f["detection_id"]) == "behavioural"]

    @property
    def per_day(self) -> float:
        return len(self.findings) / max(len(self.days), 1)

    def problems(self) -> list[str]:
        out = []
        if len(self.behavioural) > MAX_BEHAVIOURAL:
            out.append(f"{len(self.behavioural)} behavioural findings (at most {MAX_BEHAVIOURAL})")
        if self.per_day > MAX_PER_DAY:
            out.append(f"{self.per_day:.2f} findings a day (at most {MAX_PER_DAY})")
        return out

    def listing(self) -> str:
        """Every finding, one line each (what an analyst would read)."""
        return "\n".join(f"{f['day']} {f['detection_id']} [{self.sections.get(f['detection_id'], '?')}] "
                         f"x{f.get('count') or len(f.get('record_ids') or [])}: {f.get('message')}"
                         for f in self.findings)


def run_background(shape, workdir: Path, start: dt.date = dt.date(2026, 6, 1), quiet: bool = False) -> Background:
    from jira_etl.detections import catalogue
    from jira_etl.simulator.scenarios.realistic import RealisticSite

    site = RealisticSite(shape, start)
    first, last = site.evaluation_range()
    found = run_pipeline(site, first, last, workdir, quiet=quiet)
    days = [site.eval_start + dt.timedelta(days=i) for i in range(shape.days)]
    kept = [f for f in found if f["day"] >= site.eval_start]
    sections = {d.id: d.section for d in catalogue.load_catalogue()}
    return Background(kept, days, sections)


def background_table(bg: Background) -> str:
    from tabulate import tabulate

    per_det: dict[str, int] = {}
    for f in bg.findings:
        per_det[f["detection_id"]] = per_det.get(f["detection_id"], 0) + 1
    rows = [[d, bg.sections.get(d, "?"), n] for d, n in sorted(per_det.items())]
    rows.append(["**total**", "", len(bg.findings)])
    rows.append(["**behavioural total**", "", len(bg.behavioural)])
    rows.append([f"**findings per day** ({len(bg.days)} days)", "", f"{bg.per_day:.2f}"])
    by_day = {d: 0 for d in bg.days}
    for f in bg.findings:
        by_day[f["day"]] = by_day.get(f["day"], 0) + 1
    daily = tabulate([[d.isoformat(), d.strftime("%a"), n] for d, n in sorted(by_day.items())],
                     headers=["day", "", "findings"], tablefmt="github")
    return (tabulate(rows, headers=["detection", "section", "findings"], tablefmt="github", disable_numparse=True)
            + "\n\n" + daily)


def main(argv: list[str] | None = None) -> int:
    from jira_etl.simulator.scenarios.realistic import Shape

    ap = argparse.ArgumentParser(prog="python -m jira_etl.detections.evaluation_run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=("planted", "background"), help="run one of the two (default both)")
    ap.add_argument("--seed", type=int, default=Shape.seed, help="the realistic background's seed")
    ap.add_argument("--days", type=int, default=Shape.days, help="evaluated days of the background")
    ap.add_argument("--sync-size", type=int, default=Shape.sync_size)
    ap.add_argument("--history-days", type=int, default=Shape.history_days, help="collected days before them")
    ap.add_argument("--base-fraction", type=float, default=Shape.base_fraction,
                    help="share of the simulator's own background kept (fewer records, same habits)")
    ap.add_argument("--verbose", action="store_true", help="keep Dagster's event log on stderr")
    ap.add_argument("--list", action="store_true", help="list every finding of the background")
    args = ap.parse_args(argv)
    os.environ.setdefault("JIRA_ETL_START_DATE", "2026-01-01")
    quiet = not args.verbose
    os.environ.setdefault("JIRA_ETL_QUIET_SIMULATOR", "1")
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="jira-etl-eval-") as tmp:
        if args.only in (None, "planted"):
            from jira_etl.detections import catalogue
            from jira_etl.detections.evaluation import failures, score, table

            site, truth, first, last = planted_month()
            found = run_pipeline(site, first, last, Path(tmp) / "planted", quiet=quiet)
            scores = score(found, truth, [d.id for d in catalogue.load_catalogue()])
            print(f"## (a) planted month: {MONTH_START} + {MONTH_DAYS} days (30 days of history before)\n")
            print(table(scores) + "\n")
            problems += failures(scores)
        if args.only in (None, "background"):
            shape = Shape(seed=args.seed, days=args.days, history_days=args.history_days,
                          sync_size=args.sync_size, base_fraction=args.base_fraction)
            bg = run_background(shape, Path(tmp) / "background", quiet=quiet)
            print(f"## (b) realistic background: seed {shape.seed}, {shape.days} days "
                  f"({shape.history_days} days of history before), nothing planted\n")
            print(background_table(bg) + "\n")
            if args.list or bg.problems():
                print("### findings on the background\n\n```\n" + bg.listing() + "\n```\n")
            problems += bg.problems()
    for p in problems:
        print(f"TARGET MISSED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
