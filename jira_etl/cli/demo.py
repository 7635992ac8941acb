"""`jira-etl simulator` and `jira-etl demo`: the built-in Jira simulator, alone or
behind a backfill of the last days."""

from __future__ import annotations

import datetime as dt
import os

from jira_etl import settings
from jira_etl.cli.backfill import run_backfill

UTC = dt.timezone.utc


def cmd_simulator(args) -> int:
    if getattr(args, "deployment", "cloud") == "datacenter":
        from jira_etl.simulator.dc_api import serve_datacenter

        serve_datacenter(port=args.port, context_path=args.context_path, seed=args.seed,
                         per_day=args.volume or 200)
        return 0
    from jira_etl.simulator.server import serve

    serve(port=args.port, seed=args.seed, volume=args.volume, tz=args.tz, plant=args.plant)
    return 0


DEMO_SCENARIOS = ["global_permission_added", "new_site_admin", "privilege_escalation_chain", "mass_user_removal"]


def cmd_demo(args) -> int:
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.scenarios import PLANTERS
    from jira_etl.simulator.server import JiraSimulator

    today = dt.datetime.now(UTC).date()
    start, end = today - dt.timedelta(days=args.days), today - dt.timedelta(days=1)
    data = SiteData()
    # A few planted attacks inside the week, so the detections have something to find.
    for i, detection in enumerate(DEMO_SCENARIOS):
        day = end - dt.timedelta(days=i + 1)
        PLANTERS[detection](data, dt.datetime.combine(day, dt.time(10 + i, 17), UTC))
    sim = JiraSimulator(data)
    url = sim.start()
    # The demo always talks to the simulator, whatever .env says.
    # The partitions of the simulator connector start at the demo's first day (also for
    # a later `make dev`), not at the default start date hundreds of days earlier.
    first = settings.remember_demo_start(start)
    os.environ.update(JIRA_SITE=url, JIRA_EMAIL=sim.email, JIRA_API_TOKEN=sim.token, JIRA_CONNECTOR="demo")
    os.environ.pop("JIRA_ETL_CONNECTORS", None)
    os.environ.setdefault("JIRA_ETL_START_DATE", first.isoformat())
    print(f"simulator: {url} (built-in Jira Cloud API, deterministic data, {len(DEMO_SCENARIOS)} planted attacks)")
    try:
        outcome = run_backfill(start, end, ["demo"])
    finally:
        sim.stop()
    data_dir = settings.data_dir()
    from jira_etl.storage import lake
    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(data_dir)
    with wh.reader() as con:
        rows = con.execute(
            "SELECT day, record_count FROM collected_partitions WHERE connector = 'demo' "
            "AND day BETWEEN ? AND ? ORDER BY day", [start, end]
        ).fetchall()
        found = con.execute(
            "SELECT severity, detection_id, count(*) FROM findings WHERE connector = 'demo' "
            "AND first_seen >= ? GROUP BY severity, detection_id ORDER BY list_position(['critical', 'high', 'medium', 'low'], severity), 2",
            [dt.datetime.combine(start, dt.time(), UTC)],
        ).fetchall()
    print("\nrecords per day (connector demo):")
    for day, n in rows:
        print(f"  {day}  {n:6d}")
    print("\nfindings:" if found else "\nfindings: none")
    for severity, detection, n in found:
        print(f"  {severity:8s} {detection:32s} {n}")
    print(f"\nParquet:  {lake.dataset_location(data_dir)}/connector=demo/date=*/data.parquet")
    print(f"DuckDB:   {wh.path} (tables audit_records, findings, users)")
    print("Query:    .venv/bin/jira-etl sql \"SELECT summary, count(*) FROM audit_records GROUP BY 1 ORDER BY 2 DESC\"")
    print("Findings: .venv/bin/jira-etl findings --severity high")
    print("Status:   .venv/bin/jira-etl status")
    print("UI:       make dev, then open http://127.0.0.1:3000 (Assets > demo > Materialize / backfill)")
    if not outcome["demo"]["success"]:
        return 1
    from jira_etl.cli.report import materialize_analyst_assets

    shown = materialize_analyst_assets("demo", end)
    print(f"Report:   {shown['path'] or 'not written (see the run in the UI)'}")
    return 0 if shown["success"] else 1
