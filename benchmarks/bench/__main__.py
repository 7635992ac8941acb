"""`make bench`: measure the collector against the floor, a peer and the issue's targets.

    python -m benchmarks.bench [--full] [--sizes 10000,100000,1000000] [--skip-dlt]
                             [--repeat 3] [--dlt-repeat 2] [--detection-rows N] [--out DIR]

Every measure starts a fresh simulator process (so each starts cold, and the server
never shares a GIL with what is measured) with a generated site of a fixed volume per
day, and fetches the same window:

- floor: a bare sequential requests client paging the window (offset, limit=1000)
  and decoding the JSON (with orjson, the fastest decoder we have: a strict floor);
- stages: our functions one after another in one process (fetch with the connector's
  default slices/concurrency, normalize, Parquet, DuckDB load, detections);
- e2e: the real CLI `jira-etl backfill` in a subprocess with a fresh data dir and a
  Dagster instance that exists but holds no run (as after a user's first run: creating
  its SQLite storages is a one-time second); Dagster start-up, the findings asset and
  enrichment included;
- latency: the floor and our fetch with 100 ms added to every request, and e2e there;
- dlt: dlt's REST API source loading the same window into DuckDB, in .venv-bench;
- detections: the rule suite over N rows generated in DuckDB (default 10M).

The floor and the e2e are run --repeat times, dlt --dlt-repeat times, each on a fresh
simulator, and every figure is the best run (the median is kept beside it): on this
2-core VM the same run moves 10-25% from one minute to the next, and the best of a few
is the figure least disturbed by the machine. Ratios compare best with best.

Prints a markdown table and writes $JIRA_ETL_DATA_DIR/bench/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import requests

from benchmarks import python_env
from benchmarks.bench import shaped
from benchmarks.bench.sim import EMAIL, TOKEN, SimProcess
from benchmarks.measure import cpu_at, cpu_model, memory_gib, wait_sampling_cpu, wait_with_rusage

ROOT = Path(__file__).resolve().parents[2]
BENCH_VENV = ROOT / ".venv-bench"
DLT_PINS = ["dlt[duckdb]==1.31.0", "duckdb==2.0.1"]
TARGET_WINDOW = 300_000  # the "300k-record window"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_measured(cmd: list[str], env: dict | None = None, cwd: str | None = None,
                 timeout: float = 3600) -> tuple[float, float, str, str, int]:
    """(wall seconds, peak RSS MiB of that child, stdout, stderr, exit code), via wait4."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        code, usage = wait_with_rusage(proc, timeout)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode(), err.read().decode(), code


def best_of(n: int, measure: Callable[[int], dict], key: Callable[[dict], float] = lambda r: r["seconds"]) -> dict:
    """Run `measure(i)` n times; the best run's result, with every run's seconds, their
    median and the highest peak RSS of them all."""
    runs = [measure(i) for i in range(max(1, n))]
    best = dict(min(runs, key=key))
    times = sorted(key(r) for r in runs)
    best["runs_s"] = [round(key(r), 3) for r in runs]
    best["runs_rows"] = [(r["rows"], r["distinct_ids"]) for r in runs if "rows" in r]
    best["median_s"] = statistics.median(times)
    peaks = [r["peak_rss_mb"] for r in runs if "peak_rss_mb" in r]
    if peaks:
        best["peak_rss_mb"] = max(peaks)
    return best


def all_correct(res: dict, expected: int) -> bool:
    """Every run loaded each of the window's records once."""
    return all(rows == distinct == expected for rows, distinct in res.get("runs_rows") or [(res["rows"], res["distinct_ids"])])


def window_days(days: int) -> list[dt.date]:
    last = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
    return [last - dt.timedelta(days=days - 1 - i) for i in range(days)]


def iso(day: dt.date, end: bool = False) -> str:
    return f"{day.isoformat()}T{'23:59:59.999' if end else '00:00:00.000'}+0000"


# --- measures ---------------------------------------------------------------------------


def floor(url: str, days: list[dt.date]) -> dict:
    """The bare sequential client: page each day by offset, decode, nothing more."""
    s = requests.Session()
    s.auth = (EMAIL, TOKEN)
    n = pages = 0
    t0 = time.perf_counter()
    for day in days:
        day_n, day_pages = shaped.offset_walk(s, url, iso(day), iso(day, True))
        n, pages = n + day_n, pages + day_pages
    return {"seconds": time.perf_counter() - t0, "records": n, "requests": pages}


def stages(url: str, days: list[dt.date], work: Path, fetch_only: bool = False) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench.stages", "--url", url, "--start", days[0].isoformat(),
           "--days", str(len(days)), "--workdir", str(work)] + (["--fetch-only"] if fetch_only else [])
    wall, rss, out, err, code = run_measured(cmd, env=python_env())
    if code:
        raise RuntimeError(f"stages failed: {err[-2000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = rss
    return res


def e2e(url: str, days: list[dt.date], work: Path, sim: SimProcess | None = None) -> dict:
    """The real CLI in a subprocess, fresh instance and data dir; checks the result.
    With `sim`, also its CPU (all of it, and up to the first request the simulator
    answered: Dagster's start-up) and what the simulator served it."""
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(work / "dagster_home"), JIRA_ETL_DATA_DIR=str(work / "data"),
               JIRA_SITE=url, JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN, JIRA_CONNECTOR="bench",
               JIRA_ETL_START_DATE="2020-01-01")
    cli = str(Path(sys.executable).parent / "jira-etl")
    # The instance exists, as it does after a user's first run (creating its SQLite
    # storages is a one-time ~1 s); the data directory is fresh.
    (work / "dagster_home").mkdir(exist_ok=True)
    warm = subprocess.run([sys.executable, "-c", "import dagster; dagster.DagsterInstance.get()"],
                          env=env, cwd=str(work), capture_output=True, text=True)
    if warm.returncode:
        raise RuntimeError(f"could not create the Dagster instance: {warm.stderr[-2000:]}")
    cmd = [cli, "backfill", "--start", days[0].isoformat(), "--end", days[-1].isoformat()]
    extra: dict = {}
    if sim is None:
        wall, rss, out, err, code = run_measured(cmd, env=env, cwd=str(work))
    else:
        t0 = time.perf_counter()
        with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
            proc = subprocess.Popen(cmd, env=env, cwd=str(work), stdout=fo, stderr=fe)
            code, usage, samples = wait_sampling_cpu(proc, 3600)
            wall, rss, ended = time.perf_counter() - t0, usage.ru_maxrss / 1024, time.monotonic()
            fo.seek(0)
            fe.seek(0)
            out, err = fo.read().decode(), fe.read().decode()
        served = sim.stats()
        extra = {"cpu_s": usage.ru_utime + usage.ru_stime, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
                 "startup_cpu_s": cpu_at(samples, served["first_request_at"]),
                 "requests": served["audit_requests"], "served": served["served"],
                 # from the last request the simulator answered to the CLI's exit: the
                 # loads, findings and events left when the fetch is over
                 "tail_s": ended - served["last_request_at"] if served.get("last_request_at") else None}
    if code:
        raise RuntimeError(f"jira-etl backfill failed ({code}): {(out + err)[-3000:]}")
    import duckdb

    con = duckdb.connect(str(work / "data" / "jira_audit.duckdb"), read_only=True)
    rows, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM audit_records").fetchone()
    con.close()
    return {"seconds": wall, "peak_rss_mb": rss, "rows": rows, "distinct_ids": distinct, **extra}


def fresh_sim(volume: int, measure: Callable[[SimProcess], dict]) -> dict:
    with SimProcess(volume) as sim:
        return measure(sim)


def in_scratch(work: Path, measure: Callable[[Path], dict]) -> dict:
    """`measure(work)`, then `work` removed (runs repeat; their files are not kept)."""
    try:
        return measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_bench_venv() -> Path | None:
    """.venv-bench with dlt pinned, for the peer only (never a dependency of the project)."""
    py = BENCH_VENV / "bin" / "python"
    probe = [str(py), "-c", "import dlt, duckdb; assert dlt.__version__ == '1.31.0', dlt.__version__"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    log(f"creating {BENCH_VENV} with {' '.join(DLT_PINS)} (benchmark only)")
    base = shutil.which("python3.11") or sys.executable
    subprocess.run([base, "-m", "venv", "--clear", str(BENCH_VENV)], check=True)
    r = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *DLT_PINS],
                       capture_output=True, text=True)
    if r.returncode or subprocess.run(probe, capture_output=True).returncode:
        log(f"could not install dlt: {r.stderr[-1000:]}")
        return None
    return py


def dlt_peer(py: Path, url: str, days: list[dt.date], work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RUNTIME__DLTHUB_TELEMETRY="false")
    cmd = [str(py), str(Path(__file__).with_name("dlt_peer.py")), url, iso(days[0]), iso(days[-1], True), str(work)]
    wall, rss, out, err, code = run_measured(cmd, env=env, cwd=str(work))
    if code:
        raise RuntimeError(f"dlt failed: {err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res.update(wall_s=wall, peak_rss_mb=rss)
    return res


def detections(rows: int, work: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.bench.detections10m", "--rows", str(rows), "--workdir", str(work)]
    wall, rss, out, err, code = run_measured(cmd, env=python_env())
    if code:
        raise RuntimeError(f"detections bench failed: {err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = rss
    return res


# --- the run -------------------------------------------------------------------------------


def machine() -> dict:
    gib = memory_gib()
    cpu, mem = cpu_model(), (f"{gib:.0f} GiB" if gib is not None else "")
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def rate(records: int, seconds: float) -> float:
    return records / seconds if seconds > 0 else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench")
    p.add_argument("--full", action="store_true", help="more days per size (slower)")
    p.add_argument("--sizes", default="10000,100000,1000000", help="records per simulated day")
    p.add_argument("--skip-dlt", action="store_true")
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--repeat", type=int, default=3, help="runs of the floor and the e2e; the best counts")
    p.add_argument("--dlt-repeat", type=int, default=2, help="runs of the dlt peer; the best counts")
    p.add_argument("--detection-rows", type=int, default=10_000_000)
    p.add_argument("--out", default=None, help="default $JIRA_ETL_DATA_DIR/bench (or ./data/bench)")
    p.add_argument("--shapes", default=None, help="only these real-shaped windows (shapes.py; 'shapes' = all); "
                   "also $JIRA_ETL_BENCH")
    p.add_argument("--skip-shapes", action="store_true")
    a = p.parse_args(argv)
    only_shapes = shaped.selected(a.shapes)
    shape_names = only_shapes or ([] if a.skip_shapes else list(shaped.DEFAULT_SHAPES))

    out_dir = Path(a.out or Path(os.environ.get("JIRA_ETL_DATA_DIR") or "data") / "bench").resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=out_dir))
    sizes = [] if only_shapes else [int(s) for s in a.sizes.split(",") if s.strip()]
    results: dict = {"machine": machine(), "sizes": {}, "shapes": {}}
    try:
        for vol in sizes:
            # Three days per size up to 100k/day (100k x 3 is the 300k-record
            # window); a 1M day is one day. --full: 30 days of the small size too.
            ndays = 3 if vol <= 100_000 else 1
            if a.full and vol <= 10_000:
                ndays = 30
            days = window_days(ndays)
            r: dict = {"per_day": vol, "days": ndays, "records": vol * ndays}
            log(f"size {vol}/day x {ndays} day(s): floor (best of {a.repeat})")
            r["floor"] = best_of(a.repeat, lambda i: fresh_sim(vol, lambda sim: floor(sim.url, days)))
            log("  stages")
            with SimProcess(vol) as sim:
                r["stages"] = stages(sim.url, days, scratch / f"stages-{vol}")
            shutil.rmtree(scratch / f"stages-{vol}", ignore_errors=True)
            log(f"  e2e (jira-etl backfill, best of {a.repeat})")
            r["e2e"] = best_of(a.repeat, lambda i: fresh_sim(vol, lambda sim: in_scratch(scratch / f"e2e-{vol}-{i}", lambda w: e2e(sim.url, days, w))))
            r["e2e"]["correct"] = all_correct(r["e2e"], r["floor"]["records"])
            results["sizes"][str(vol)] = r
            log(f"  floor {r['floor']['seconds']:.1f}s, e2e {r['e2e']['seconds']:.1f}s, "
                f"rss {r['e2e']['peak_rss_mb']:.0f} MiB, correct={r['e2e']['correct']}")

        target = next((r for r in results["sizes"].values() if r["records"] == TARGET_WINDOW), None)
        target_vol = target["per_day"] if target else None
        target_days = window_days(target["days"]) if target else window_days(1)

        if not a.skip_latency and target:
            log("latency 100 ms: floor, our fetch, e2e")
            lat = {}
            with SimProcess(target_vol, latency=0.1) as sim:
                lat["floor"] = floor(sim.url, target_days)
            with SimProcess(target_vol, latency=0.1) as sim:
                lat["fetch"] = stages(sim.url, target_days, scratch / "lat-fetch", fetch_only=True)
            with SimProcess(target_vol, latency=0.1) as sim:
                lat["e2e"] = in_scratch(scratch / "lat-e2e", lambda w: e2e(sim.url, target_days, w))
            results["latency_100ms"] = lat

        if not a.skip_dlt and target:
            py = ensure_bench_venv()
            if py:
                log(f"dlt peer (best of {a.dlt_repeat})")
                d = best_of(a.dlt_repeat, lambda i: fresh_sim(target_vol, lambda sim: in_scratch(scratch / f"dlt-{i}", lambda w: dlt_peer(py, sim.url, target_days, w))),
                            key=lambda r: r["wall_s"])
                d["correct"] = all_correct(d, target["floor"]["records"])
                results["dlt"] = d

        for name in shape_names:
            r = shaped.run_shape(name, a.repeat, scratch, best_of, stages, e2e, log)
            r["summary"] = shaped.summary(r)
            results["shapes"][name] = r

        if a.detection_rows and not only_shapes:
            log(f"detections over {a.detection_rows} generated rows")
            results["detections"] = detections(a.detection_rows, scratch / "det")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    summary = summarize(results)
    results["summary"] = summary
    (out_dir / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    print(render(results))
    print(f"\nwritten: {out_dir / 'latest.json'}")
    return 0


def summarize(res: dict) -> dict:
    s: dict = {}
    sizes = res["sizes"]
    target = next((r for r in sizes.values() if r["records"] == TARGET_WINDOW), None)
    if target:
        s["e2e_records_per_s"] = round(rate(target["records"], target["e2e"]["seconds"]))
        s["e2e_over_floor"] = round(target["e2e"]["seconds"] / target["floor"]["seconds"], 2)
        if "median_s" in target["e2e"] and "median_s" in target["floor"]:
            s["e2e_over_floor_medians"] = round(target["e2e"]["median_s"] / target["floor"]["median_s"], 2)
    big = sizes.get("1000000")
    if big:
        s["peak_rss_mb_per_1m_records"] = round(big["e2e"]["peak_rss_mb"] / (big["records"] / 1e6))
    lat = res.get("latency_100ms")
    if lat:
        s["speedup_vs_sequential_at_100ms"] = round(lat["floor"]["seconds"] / lat["fetch"]["seconds"]["fetch"], 2)
        s["e2e_speedup_vs_sequential_at_100ms"] = round(lat["floor"]["seconds"] / lat["e2e"]["seconds"], 2)
    if res.get("dlt") and target:
        s["speedup_vs_dlt"] = round(res["dlt"]["wall_s"] / target["e2e"]["seconds"], 2)
        if "median_s" in res["dlt"] and "median_s" in target["e2e"]:
            s["speedup_vs_dlt_medians"] = round(res["dlt"]["median_s"] / target["e2e"]["median_s"], 2)
        s["dlt_correct"] = res["dlt"]["correct"]
    if res.get("detections"):
        s["detections_s_10m_rows"] = round(res["detections"]["window_s"], 2)
        s["detections_rows"] = res["detections"]["rows"]
    s["all_e2e_correct"] = all(r["e2e"]["correct"] for r in list(sizes.values()) + list(res.get("shapes", {}).values()))
    for name, r in (res.get("shapes") or {}).items():
        s[f"shape_{name}"] = {k: r["summary"][k] for k in ("requests_over_floor", "served_per_stored", "e2e_over_floor",
                                                         "e2e_cpu_s_per_100k", "peak_rss_mb")}
    return s


def _spread(res: dict) -> str:
    """ ', best of 3 (median 7.9 s)' for a repeated measure."""
    runs = res.get("runs_s") or []
    return f", best of {len(runs)} (median {res['median_s']:.2f} s)" if len(runs) > 1 else ""


def render(res: dict) -> str:
    m = res["machine"]
    lines = [f"Measured {m['date']} on {m['nproc']} cores, {m['cpu']}, {m['memory']}, Python {m['python']}.", "",
             "| size (records/day x days) | measure | seconds | records/s | peak RSS MiB | vs floor |",
             "|---|---|---:|---:|---:|---:|"]
    for vol, r in res["sizes"].items():
        label = f"{int(vol):,} x {r['days']}"
        fl = r["floor"]["seconds"]
        n = r["records"]
        lines.append(f"| {label} | floor (sequential fetch + decode){_spread(r['floor'])} | {fl:.2f} | {rate(n, fl):,.0f} | | 1.00 |")
        st = r["stages"]
        for name, sec in st["seconds"].items():
            lines.append(f"| {label} | stage: {name} | {sec:.2f} | {rate(n, sec):,.0f} | | |")
        tot = sum(st["seconds"].values())
        lines.append(f"| {label} | stages total (slices={st['slices']}, concurrency={st['concurrency']}) | "
                     f"{tot:.2f} | {rate(n, tot):,.0f} | {st['peak_rss_mb']:.0f} | {tot / fl:.2f} |")
        e = r["e2e"]
        lines.append(f"| {label} | **e2e `jira-etl backfill`** ({'correct' if e['correct'] else 'WRONG COUNT'}){_spread(e)} | "
                     f"{e['seconds']:.2f} | {rate(n, e['seconds']):,.0f} | {e['peak_rss_mb']:.0f} | "
                     f"{e['seconds'] / fl:.2f} |")
    lat = res.get("latency_100ms")
    if lat:
        n = lat["floor"]["records"]
        fl = lat["floor"]["seconds"]
        fe = lat["fetch"]["seconds"]["fetch"]
        lines.append(f"| 100 ms/request, {n:,} records | floor (sequential) | {fl:.2f} | {rate(n, fl):,.0f} | | 1.00 |")
        lines.append(f"| 100 ms/request, {n:,} records | our fetch (slices={lat['fetch']['slices']}, "
                     f"concurrency={lat['fetch']['concurrency']}) | {fe:.2f} | {rate(n, fe):,.0f} | | {fe / fl:.2f} |")
        es = lat["e2e"]["seconds"]
        lines.append(f"| 100 ms/request, {n:,} records | e2e `jira-etl backfill` | {es:.2f} | {rate(n, es):,.0f} | "
                     f"{lat['e2e']['peak_rss_mb']:.0f} | {es / fl:.2f} |")
    d = res.get("dlt")
    if d:
        lines.append(f"| dlt 1.31.0 rest_api -> duckdb, {d['rows']:,} rows ({'correct' if d['correct'] else 'WRONG'}) | "
                     f"peer{_spread(d)} | {d['wall_s']:.2f} | {rate(d['rows'], d['wall_s']):,.0f} | {d['peak_rss_mb']:.0f} | |")
    det = res.get("detections")
    if det:
        lines.append(f"| detections, {det['rows']:,} generated rows | {det['rules']} rules, one window over all rows | "
                     f"{det['window_s']:.2f} | {rate(det['rows'], det['window_s']):,.0f} | {det['peak_rss_mb']:.0f} | |")
        lines.append(f"| detections, {det['rows']:,} generated rows | runner for the last day (history read) | "
                     f"{det['daily_s']:.2f} | | | |")
    lines += shaped.render(res.get("shapes") or {})
    lines += ["", "```json", json.dumps(res.get("summary", {}), indent=1), "```"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
