"""The real-shaped windows of `make bench` (shapes.py): per shape, the floor over the
whole window, our stages in one process, and the real CLI, each on a fresh simulator.

    JIRA_ETL_BENCH=skewed make bench          # only the issue's skewed 300k window
    JIRA_ETL_BENCH=skewed,office make bench   # a few shapes; =shapes: all of them
    python -m benchmarks.bench --shapes skewed --repeat 1

Reported per shape: requests (the floor's: one sequential walk of the whole window by
offset, limit=1000; ours: counted by the simulator, so every request is in it), records
served per record stored, CPU seconds per 100k records by stage (fetch, parse, Parquet
with the DataFrame stage, DuckDB load, findings from the stages run; start-up: the
CLI's CPU until the simulator answered its first request, which since the head start
(jira_etl/head_start.py) comes before Dagster's start-up, now beside the fetch), wall
time, the tail (from the last request answered to the CLI's exit) and peak RSS.
The floor and the e2e are best of --repeat (the machine is shared: wall time is noisy;
requests and records served are not, CPU much less so).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Callable

import orjson
import requests

from benchmarks.bench.shapes import DEFAULT_SHAPES, SHAPES, records_of
from benchmarks.bench.sim import EMAIL, TOKEN, SimProcess

AUDIT = "/rest/api/3/auditing/record"


def selected(cli_value: str | None) -> list[str]:
    """Shapes asked for by --shapes or $JIRA_ETL_BENCH ("shapes"/"all": every shape)."""
    raw = cli_value if cli_value is not None else os.environ.get("JIRA_ETL_BENCH", "")
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if any(n in ("shapes", "all") for n in names):
        return list(DEFAULT_SHAPES)
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        raise SystemExit(f"unknown shape(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    return names


def shape_days(name: str) -> list[dt.date]:
    last = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
    n = len(SHAPES[name])
    return [last - dt.timedelta(days=n - 1 - i) for i in range(n)]


def floor_window(url: str, days: list[dt.date]) -> dict:
    """The bare sequential client over the whole window: offset pages of 1000, decoded."""
    s = requests.Session()
    s.auth = (EMAIL, TOKEN)
    frm, to = f"{days[0].isoformat()}T00:00:00.000+0000", f"{days[-1].isoformat()}T23:59:59.999+0000"
    t0 = time.perf_counter()
    n, pages = offset_walk(s, url, frm, to)
    return {"seconds": time.perf_counter() - t0, "records": n, "requests": pages}


def offset_walk(s: requests.Session, url: str, frm: str, to: str) -> tuple[int, int]:
    """The floor's client: page [frm, to] by offset, 1,000 at a time, decode each page,
    stop at the first empty one; (records, requests)."""
    n = pages = offset = 0
    while True:
        r = s.get(url + AUDIT, params={"from": frm, "to": to, "offset": offset, "limit": 1000})
        r.raise_for_status()
        records = orjson.loads(r.content)["records"]
        pages += 1
        n += len(records)
        offset += len(records)
        if not records:
            return n, pages


def run_shape(name: str, repeat: int, scratch: Path, best_of: Callable, stages: Callable, e2e: Callable,
              log: Callable[[str], None]) -> dict:
    days = shape_days(name)
    first = days[0]

    def sim() -> SimProcess:
        return SimProcess(shape=name, first=first)

    r: dict = {"days": len(days), "records": records_of(name)}
    log(f"shape {name}: {len(days)} day(s), {r['records']:,} records: floor (best of {repeat})")

    def one_floor(_):
        with sim() as s:
            return floor_window(s.url, days)

    r["floor"] = best_of(repeat, one_floor)
    log("  stages")
    with sim() as s:
        r["stages"] = stages(s.url, days, scratch / f"stages-{name}")
        r["stages"]["served"] = s.stats()["served"]
    log(f"  e2e (jira-etl backfill, best of {repeat})")

    def one_e2e(i):
        with sim() as s:
            work = scratch / f"e2e-{name}-{i}"
            try:
                return e2e(s.url, days, work, sim=s)
            finally:
                import shutil

                shutil.rmtree(work, ignore_errors=True)

    e = r["e2e"] = best_of(repeat, one_e2e)
    e["correct"] = all(rows == distinct == r["floor"]["records"] for rows, distinct in e["runs_rows"])
    log(f"  floor {r['floor']['seconds']:.2f}s/{r['floor']['requests']} req, e2e {e['seconds']:.2f}s/"
        f"{e['requests']} req, served/stored {e['served'] / max(1, e['rows']):.3f}, cpu {e['cpu_s']:.1f}s, "
        f"rss {e['peak_rss_mb']:.0f} MiB, tail {e.get('tail_s') or 0:.2f}s, correct={e['correct']}")
    return r


def summary(r: dict) -> dict:
    """The per-shape figures the table shows."""
    n = r["records"]
    per100k = 100_000 / n if n else 0.0
    st, e, fl = r["stages"], r["e2e"], r["floor"]
    cpu = st.get("cpu_s", {})
    out = {"records": n, "floor_requests": fl["requests"], "requests": e["requests"],
           "requests_over_floor": round(e["requests"] / fl["requests"], 2),
           "stages_fetch_requests": st.get("requests"),
           "served_per_stored": round(e["served"] / max(1, e["rows"]), 3),
           "floor_s": round(fl["seconds"], 2), "e2e_s": round(e["seconds"], 2),
           "e2e_over_floor": round(e["seconds"] / fl["seconds"], 2),
           "e2e_median_over_floor_median": round(e["median_s"] / fl["median_s"], 2),
           "peak_rss_mb": round(e["peak_rss_mb"]), "e2e_cpu_s": round(e["cpu_s"], 2),
           "cpu_s_per_100k": {k: round(v * per100k, 2) for k, v in cpu.items()}}
    if e.get("tail_s") is not None:
        out["tail_after_last_request_s"] = round(e["tail_s"], 2)
    if e.get("startup_cpu_s") is not None:
        out["cpu_s_per_100k"]["dagster_startup"] = round(e["startup_cpu_s"] * per100k, 2)
        out["startup_cpu_s"] = round(e["startup_cpu_s"], 2)
    out["e2e_cpu_s_per_100k"] = round(e["cpu_s"] * per100k, 2)
    out["correct"] = e["correct"]
    return out


def render(shapes: dict) -> list[str]:
    if not shapes:
        return []
    lines = ["", "Real-shaped windows (requests and records served are exact; seconds are best of the runs on a shared machine):", "",
             "| shape | records | requests: floor / ours (x) | served per stored | CPU s per 100k: fetch / parse / DataFrame+Parquet / load / findings / start-up | e2e CPU s per 100k | floor s | e2e s (x floor) | peak RSS MiB |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for name, r in shapes.items():
        s = r["summary"]
        c = s["cpu_s_per_100k"]
        cpus = " / ".join(f"{c.get(k, 0):.2f}" for k in ("fetch", "parse")) + \
            f" / {c.get('normalize', 0) + c.get('parquet', 0):.2f} / {c.get('duckdb_load', 0):.2f} / " \
            f"{c.get('detections', 0):.2f} / {c.get('dagster_startup', 0):.2f}"
        lines.append(f"| {name}{'' if s['correct'] else ' (WRONG COUNT)'} | {s['records']:,} | {s['floor_requests']} / "
                     f"{s['requests']} ({s['requests_over_floor']:.2f}) | {s['served_per_stored']:.3f} | {cpus} | "
                     f"{s['e2e_cpu_s_per_100k']:.2f} | {s['floor_s']:.2f} | {s['e2e_s']:.2f} ({s['e2e_over_floor']:.2f}) | "
                     f"{s['peak_rss_mb']} |")
    return lines
