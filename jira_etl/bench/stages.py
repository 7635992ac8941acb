"""Our pipeline stage by stage, in one process (run as a subprocess by the bench).

    python -m jira_etl.bench.stages --url URL --start YYYY-MM-DD --days N --workdir DIR
        [--slices S] [--concurrency C] [--fetch-only]

Prints one JSON line: seconds per stage, records, and the connector's slices/concurrency
used. The stages are the collector's own path, timed apart: fetch (walking the day's
slices concurrently, each page's JSON parsed straight into Arrow as it arrives, which
is where decoding happens), normalize (the typed DataFrame stage and ordering),
parquet, duckdb_load, detections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--workdir", required=True)
    p.add_argument("--slices", type=int, default=None)
    p.add_argument("--concurrency", type=int, default=None)
    p.add_argument("--fetch-only", action="store_true")
    a = p.parse_args(argv)

    from jira_etl.collect import ArrowSink, day_bounds
    from jira_etl.detections import catalogue
    from jira_etl.jira.client import JiraClient
    from jira_etl.jira.paging import iter_window
    from jira_etl.resources import JiraResource
    from jira_etl.storage import parquet
    from jira_etl.storage.warehouse import Warehouse

    from jira_etl.bench.sim import EMAIL, TOKEN

    defaults = JiraResource()
    slices = a.slices or defaults.slices
    concurrency = a.concurrency or defaults.concurrency
    client = JiraClient(a.url, email=EMAIL, api_token=TOKEN)
    data = Path(a.workdir)
    first = dt.date.fromisoformat(a.start)
    days = [first + dt.timedelta(days=i) for i in range(a.days)]
    t = {"fetch": 0.0, "normalize": 0.0, "parquet": 0.0, "duckdb_load": 0.0, "detections": 0.0}
    rows = 0
    files = {}
    ingested = dt.datetime.now(dt.timezone.utc)
    for day in days:
        start, end = day_bounds(day)
        t0 = time.perf_counter()
        sinks = [sink for sink, _ in iter_window(client, start, end, slices=slices, concurrency=concurrency,
                                                  sink=lambda: ArrowSink("bench", ingested), probe=True)]
        t1 = time.perf_counter()
        t["fetch"] += t1 - t0
        rows += sum(len(s) for s in sinks)
        if a.fetch_only:
            del sinks
            continue
        tables = [s.finish() for s in sinks]
        del sinks
        t2 = time.perf_counter()
        with parquet.PartitionWriter(data, "bench", day) as writer:
            for table in tables:
                writer.write(table)
        files[day] = writer.path
        del tables
        t3 = time.perf_counter()
        t["normalize"] += t2 - t1
        t["parquet"] += t3 - t2
    out = {"records": rows, "slices": slices, "concurrency": concurrency, "requests": client.stats.requests}
    if not a.fetch_only:
        wh = Warehouse(data)
        t0 = time.perf_counter()
        wh.load_partitions("bench", files)
        t1 = time.perf_counter()
        t["duckdb_load"] = t1 - t0
        with wh.writer() as con:
            catalogue.ensure_schema(con)
        t1 = time.perf_counter()
        with wh.reader() as con:
            findings = catalogue.evaluate(con, "bench", days)
        t["detections"] = time.perf_counter() - t1
        out["findings"] = len(findings)
    out["seconds"] = t
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
