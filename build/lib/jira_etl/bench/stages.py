"""Our pipeline stage by stage, in one process (run as a subprocess by the bench).

    python -m jira_etl.bench.stages --url URL --start YYYY-MM-DD --days N --workdir DIR
        [--slices S] [--concurrency C] [--fetch-only]

Prints one JSON line: seconds per stage, records, and the connector's slices/concurrency
used. The stages are the collector's own path, timed apart: fetch (walking all days'
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

    from jira_etl.detections import runner
    from jira_etl.storage import schema as storage_schema
    from jira_etl.sources.client import JiraClient
    from jira_etl.sources.slicing import iter_windows
    from jira_etl.defs.resources import JiraResource
    from jira_etl.storage import lake
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
    files = {}
    ingested = dt.datetime.now(dt.timezone.utc)
    # All days through one pool of threads, as collect_days walks a range.
    t0 = time.perf_counter()
    sinks: dict[int, list] = {i: [] for i in range(len(days))}
    for i, sink, _ in iter_windows(client, [day_bounds(d) for d in days], slices=slices, concurrency=concurrency,
                                   probe=True, sink=lambda _: ArrowSink("bench", ingested)):
        if sink is not None:
            sinks[i].append(sink)
    t["fetch"] = time.perf_counter() - t0
    rows = sum(len(s) for parts in sinks.values() for s in parts)
    if not a.fetch_only:
        for i, day in enumerate(days):
            t1 = time.perf_counter()
            tables = [s.finish() for s in sinks.pop(i)]
            t2 = time.perf_counter()
            with lake.PartitionWriter(data, "bench", day) as writer:
                for table in tables:
                    writer.write(table)
            files[day] = writer.path
            del tables
            t["normalize"] += t2 - t1
            t["parquet"] += time.perf_counter() - t2
    sinks.clear()
    out = {"records": rows, "slices": slices, "concurrency": concurrency, "requests": client.stats.requests}
    if not a.fetch_only:
        wh = Warehouse(data)
        t0 = time.perf_counter()
        wh.load_partitions("bench", files)
        t1 = time.perf_counter()
        t["duckdb_load"] = t1 - t0
        with wh.writer() as con:
            storage_schema.apply_schema(con)
        t1 = time.perf_counter()
        with wh.reader() as con:
            findings = runner.evaluate(con, "bench", days)
        t["detections"] = time.perf_counter() - t1
        out["findings"] = len(findings)
    out["seconds"] = t
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
