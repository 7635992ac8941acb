"""Our pipeline stage by stage, in one process (run as a subprocess by the bench).

    python -m benchmarks.bench.stages --url URL --start YYYY-MM-DD --days N --workdir DIR
        [--slices S] [--concurrency C] [--fetch-only]

Prints one JSON line: seconds per stage (wall), CPU seconds per stage (this process, all
threads; `parse` is the walking threads' own CPU inside the sink, turning pages into
Arrow, and `fetch` the rest of the fetch stage's), records, requests, and the
connector's slices/concurrency used. The stages are the collector's own path, timed apart: fetch (walking all days'
slices concurrently, each page's JSON parsed straight into Arrow as it arrives, which
is where decoding happens), normalize (the typed DataFrame stage and ordering),
parquet, duckdb_load, detections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
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

    from benchmarks.bench.sim import EMAIL, TOKEN

    defaults = JiraResource()
    slices = a.slices or defaults.slices
    concurrency = a.concurrency or defaults.concurrency
    client = JiraClient(a.url, email=EMAIL, api_token=TOKEN)
    data = Path(a.workdir)
    first = dt.date.fromisoformat(a.start)
    days = [first + dt.timedelta(days=i) for i in range(a.days)]
    class TimedSink(ArrowSink):
        """The collector's sink, with the CPU its thread spends parsing pages counted."""

        def take_page(self, *args, **kw):
            c0 = time.thread_time()
            try:
                return super().take_page(*args, **kw)
            finally:
                with parse_lock:
                    parse_cpu[0] += time.thread_time() - c0

    parse_lock, parse_cpu = threading.Lock(), [0.0]
    cpu = {"fetch": 0.0, "parse": 0.0, "normalize": 0.0, "parquet": 0.0, "duckdb_load": 0.0, "detections": 0.0}
    t = {"fetch": 0.0, "normalize": 0.0, "parquet": 0.0, "duckdb_load": 0.0, "detections": 0.0}
    files = {}
    ingested = dt.datetime.now(dt.timezone.utc)
    # All days through one pool of threads, as collect_days walks a range.
    t0, c0 = time.perf_counter(), time.process_time()
    sinks: dict[int, list] = {i: [] for i in range(len(days))}
    for i, sink, _ in iter_windows(client, [day_bounds(d) for d in days], slices=slices, concurrency=concurrency,
                                   probe=True, sink=lambda _: TimedSink("bench", ingested)):
        if sink is not None:
            sinks[i].append(sink)
    t["fetch"] = time.perf_counter() - t0
    cpu["parse"] = parse_cpu[0]
    cpu["fetch"] = time.process_time() - c0 - parse_cpu[0]
    rows = sum(len(s) for parts in sinks.values() for s in parts)
    if not a.fetch_only:
        for i, day in enumerate(days):
            t1, c1 = time.perf_counter(), time.process_time()
            tables = [s.finish() for s in sinks.pop(i)]
            t2, c2 = time.perf_counter(), time.process_time()
            with lake.PartitionWriter(data, "bench", day) as writer:
                for table in tables:
                    writer.write(table)
            files[day] = writer.path
            del tables
            t["normalize"] += t2 - t1
            t["parquet"] += time.perf_counter() - t2
            cpu["normalize"] += c2 - c1
            cpu["parquet"] += time.process_time() - c2
    sinks.clear()
    out = {"records": rows, "slices": slices, "concurrency": concurrency, "requests": client.stats.requests}
    if not a.fetch_only:
        wh = Warehouse(data)
        t0, c0 = time.perf_counter(), time.process_time()
        wh.load_partitions("bench", files)
        t1 = time.perf_counter()
        t["duckdb_load"] = t1 - t0
        cpu["duckdb_load"] = time.process_time() - c0
        with wh.writer() as con:
            storage_schema.apply_schema(con)
        t1, c1 = time.perf_counter(), time.process_time()
        with wh.reader() as con:
            findings = runner.evaluate(con, "bench", days)
        t["detections"] = time.perf_counter() - t1
        cpu["detections"] = time.process_time() - c1
        out["findings"] = len(findings)
    out["seconds"] = t
    out["cpu_s"] = {k: round(v, 3) for k, v in cpu.items()}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
