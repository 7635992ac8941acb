"""`make reliability` (python -m jira_etl.reliability): the whole matrix, then
docs/reliability.md with the figures, the date and the machine.

    python -m jira_etl.reliability             # everything (long: the soak is a year)
    python -m jira_etl.reliability --quick     # every family, small sizes (a trial run)
    python -m jira_etl.reliability --keep DIR  # keep the artifacts in DIR

Exit code 0 only when every family passed. The document is written either way: a
failing figure must be seen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

from jira_etl.reliability import badinput, concurrency, crash, faults, secrets_scan, soak
from jira_etl.reliability.common import Capture, machine

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

FULL = dict(
    faults=dict(scenarios=faults.FULL),
    crash=dict(kills=24, days=8, volume=5000, rerun_each=True),
    concurrency=dict(days=12, runs=6, volume=4000),
    fuzz=dict(max_examples=2000),
    soak=dict(days=365, volume=5000, reference_days=30),
)
QUICK = dict(
    faults=dict(scenarios=faults.FAST, **faults.FAST_OPTIONS),
    crash=dict(kills=4, days=3, volume=2500, rerun_each=True),
    concurrency=dict(days=5, runs=3, volume=1500),
    fuzz=dict(max_examples=200),
    soak=dict(days=30, volume=5000, reference_days=7),
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m jira_etl.reliability")
    p.add_argument("--quick", action="store_true", help="small sizes, for a trial run")
    p.add_argument("--keep", help="directory for the artifacts (default: a temporary one, removed)")
    p.add_argument("--doc", default=str(DOC), help="where to write the figures")
    p.add_argument("--only", help="comma-separated families: faults,crash,concurrency,badinput,soak,secrets")
    args = p.parse_args(argv)
    plan = QUICK if args.quick else FULL
    only = set(args.only.split(",")) if args.only else None
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="jira-etl-reliability-"))
    root.mkdir(parents=True, exist_ok=True)
    capture = Capture(root)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    results: dict[str, dict] = {}

    def log(msg: str) -> None:
        print(msg, flush=True)

    def family(name: str, fn) -> None:
        if only and name not in only:
            return
        log(f"== {name}")
        t = time.monotonic()
        try:
            results[name] = fn() | {"seconds": time.monotonic() - t}
        except Exception as exc:  # noqa: BLE001 - a crashed family is a failed family
            import traceback

            traceback.print_exc()
            results[name] = {"failures": [f"the harness crashed: {type(exc).__name__}: {exc}"],
                             "seconds": time.monotonic() - t}
        capture.add(f"family-{name}", "\n".join(results[name].get("failures", [])))
        log(f"   {name}: {'PASS' if not results[name].get('failures') else 'FAIL'} "
            f"({results[name]['seconds']:.0f} s)")

    def run_faults():
        r = faults.run_matrix(root / "faults", capture, log=log, **plan["faults"])
        return {"passed": r.passed, "total": len(r.results), "failures": r.failures,
                "rows": [(x.name, x.expect, "pass" if x.passed else "FAIL", x.message, round(x.seconds, 1))
                         for x in r.results]}

    def run_crash():
        r = crash.run_crash(root / "crash", capture, log=log, **plan["crash"])
        return {"survived": r.survived, "total": len(r.delivered), "missed": len(r.kills) - len(r.delivered),
                "reruns": r.reruns, "by_phase": r.by_phase(), "failures": r.failures}

    def run_concurrency():
        r = concurrency.run_concurrency(root / "concurrency", capture, log=log, **plan["concurrency"])
        return {"runs": r.runs, "runs_failed": r.runs_failed, "reads": r.reads, "reads_failed": r.reads_failed,
                "half_loaded": r.half_loaded_seen, "records": r.records, "failures": r.failures}

    def run_badinput():
        from jira_etl.simulator.server import JiraSimulator

        with JiraSimulator() as sim:
            cfg = badinput.run_config_catalogue(root / "config", capture, sim.url, log=log)
        api = badinput.run_api_cases(root / "api", capture, log=log)
        fz = badinput.fuzz_normalizer(**plan["fuzz"])
        log(f"  fuzz: {fz.examples} examples, {len(fz.failures)} failure(s), {fz.seconds:.0f} s")
        fails = [f"config {c.name}: {c.problems}" for c in cfg if not c.passed]
        fails += [f"api {c.name}: {c.problems}" for c in api if not c.passed]
        fails += [f"fuzz: {f}" for f in fz.failures]
        return {"config": (sum(c.passed for c in cfg), len(cfg)), "api": (sum(c.passed for c in api), len(api)),
                "fuzz_examples": fz.examples, "fuzz_failures": len(fz.failures), "failures": fails,
                "config_rows": [(c.name, "pass" if c.passed else "FAIL", c.message) for c in cfg]}

    def run_soak():
        r = soak.run_soak(root / "soak", capture, log=log, **plan["soak"])
        return {"days": r.days, "volume": r.volume, "records": r.records, "expected": r.expected,
                "seconds": r.seconds, "run_seconds": r.seconds, "peak_mb": r.peak_mb,
                "reference_days": r.reference_days, "reference_peak_mb": r.reference_peak_mb,
                "rate": r.records_per_s, "failures": r.failures}

    def run_secrets():
        refused, tricks, site_failures = secrets_scan.check_site_tricks()
        r = secrets_scan.scan([root])
        log(f"  secrets: {r.files} files ({r.bytes / 1e6:.0f} MB; {r.sqlite_files} SQLite, {r.parquet_files} "
            f"Parquet, {r.duckdb_files} DuckDB): {len(r.hits)} hit(s); site tricks refused {refused}/{tricks}")
        return {"files": r.files, "mb": r.bytes / 1e6, "sqlite": r.sqlite_files, "parquet": r.parquet_files,
                "duckdb": r.duckdb_files, "hits": len(r.hits), "refused": refused, "tricks": tricks,
                "failures": [f"token found in {h}" for h in r.hits] + site_failures}

    family("faults", run_faults)
    family("crash", run_crash)
    family("concurrency", run_concurrency)
    family("badinput", run_badinput)
    family("soak", run_soak)
    family("secrets", run_secrets)  # last: it scans what everything above left
    total_s = time.monotonic() - t0
    ok = all(not r.get("failures") for r in results.values())
    text = render(results, started, total_s, quick=args.quick)
    Path(args.doc).parent.mkdir(parents=True, exist_ok=True)
    Path(args.doc).write_text(text)
    log(f"\n{'ALL PASSED' if ok else 'FAILURES'} in {total_s / 60:.1f} min; figures in {args.doc}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        log(f"artifacts kept in {root}")
    return 0 if ok else 1


# What the harness found when it was first run, each fixed with a regression test in
# tests/reliability/test_regressions.py (make test).
FOUND = [
    "## Found by this harness and fixed", "",
    "- Crash: a SIGKILLed backfill left its hidden `.data.parquet.<uuid>.tmp` in the day's folder "
    "for ever (nothing removed it). Temporaries now carry the writer's pid; the next write of the "
    "day removes those whose process is gone, never a live writer's.",
    "- Malformed API data: an id such as `--5` or `²` passed the walk's `isdigit()` test and crashed "
    "`int()`, failing the whole run; an id beyond 64 bits was counted as received by the walk but "
    "dropped by the table. One id rule (`records.record_id`) now serves both.",
    "- Malformed API data: an answer without a `records` list (`{\"total\": 3}`) was read as an "
    "empty page, which ends the window: the day was published without its records. It is now an error.",
    "- Bad configuration: `JIRA_SITE` values that `urlsplit` rejects (a broken IPv6 literal, a "
    "fullwidth solidus that NFKC turns into `/`) escaped as tracebacks; hosts with look-alike "
    "letters and URLs with tabs/newlines (which `urlsplit` silently drops) were accepted.",
    "- Bad configuration: a token pasted with a curly quote or a control character reached "
    "`requests` (UnicodeEncodeError: a traceback from test-connection, no field named); an email "
    "outside Latin-1 crashed the same way. Tokens are now checked; credentials go out as UTF-8.",
    "- Bad configuration: `JIRA_EMAIL`/`JIRA_API_TOKEN` set without `JIRA_SITE` silently collected "
    "the built-in simulator's records (exit 0, rows written); a connectors file that is a directory "
    "or not UTF-8 raised a traceback.",
    "- A flaky property test (test_paging, arrivals): its clock-blind truth counted a record the "
    "moving clock had not yet created.",
    "",
]


def render(results: dict, started: dt.datetime, total_s: float, quick: bool) -> str:
    def status(name):
        r = results.get(name)
        if r is None:
            return "not run"
        return "pass" if not r.get("failures") else f"**FAIL** ({len(r['failures'])})"

    lines = [
        "# Reliability figures",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}, by `make reliability` "
        f"(`python -m jira_etl.reliability{' --quick' if quick else ''}`) in {total_s / 60:.1f} min. "
        "Everything runs on real parts: the simulator over loopback HTTP, `jira-etl` subprocesses, "
        "real Parquet files and a real DuckDB file; nothing leaves 127.0.0.0/8. "
        "`make test` runs a fast subset of every family (tests/reliability/).",
        "",
        "| family | result | figures |",
        "|---|---|---|",
    ]
    f = results.get("faults")
    if f:
        lines.append(f"| fault matrix | {status('faults')} | scenarios passed {f['passed']}/{f['total']} |")
    c = results.get("crash")
    if c:
        phases = ", ".join(f"{p} {a}/{b}" for p, (a, b) in c["by_phase"].items())
        lines.append(f"| crashes (SIGKILL) | {status('crash')} | kills survived {c['survived']}/{c['total']} "
                     f"({phases}); {c['reruns']} complete re-runs |")
    k = results.get("concurrency")
    if k:
        lines.append(f"| concurrency | {status('concurrency')} | runs {k['runs']} ({k['runs_failed']} failed), "
                     f"reads {k['reads']} ({k['reads_failed']} failed), half-loaded days seen "
                     f"{k['half_loaded']}, {k['records']} records |")
    b = results.get("badinput")
    if b:
        lines.append(f"| bad input | {status('badinput')} | configuration cases {b['config'][0]}/{b['config'][1]}, "
                     f"malformed API data {b['api'][0]}/{b['api'][1]}, normalizer fuzz "
                     f"{b['fuzz_examples']} examples, {b['fuzz_failures']} failure(s) |")
    s = results.get("soak")
    if s:
        lines.append(f"| soak | {status('soak')} | {s['days']} days x {s['volume']}/day: {s['records']}/"
                     f"{s['expected']} records in {s['run_seconds'] / 60:.1f} min ({s['rate']:.0f} records/s); "
                     f"peak RSS {s['peak_mb']:.0f} MB ({s['reference_days']} days: {s['reference_peak_mb']:.0f} MB) |")
    x = results.get("secrets")
    if x:
        lines.append(f"| secrets | {status('secrets')} | token hits {x['hits']} in {x['files']} files "
                     f"({x['mb']:.0f} MB: {x['sqlite']} SQLite incl. Dagster runs/event logs, {x['parquet']} "
                     f"Parquet, {x['duckdb']} DuckDB, logs, captured output); URL tricks refused "
                     f"{x['refused']}/{x['tricks']} |")
    lines += ["", "## What each family checks", "",
              "- **Fault matrix**: the connector's Dagster assets against the simulator with one fault "
              "switched on (429 with and without Retry-After, 5xx bursts, responses slower than the "
              "timeout, dropped connections, truncated JSON, an HTML page with status 200, a token "
              "revoked mid-backfill, 403s). Bounded faults must end with exactly the truth in Parquet "
              "and DuckDB; endless ones must fail with a message naming the cause and leave only whole "
              "days; then a re-run without the fault must give exactly the truth.",
              "- **Crashes**: `jira-etl backfill` is SIGKILLed at a random moment of a phase (fetching "
              "while the day's Parquet file is being written, the DuckDB load, the findings, or anywhere). "
              "Right after the kill every Parquet file where readers look must read, DuckDB must open "
              "with no half-loaded day and no duplicate; the next complete run must give exactly the "
              "truth and leave no temporary file.",
              "- **Concurrency**: backfills of overlapping and disjoint ranges at once on one data "
              "directory and Dagster instance, while `jira-etl sql` reads in a loop: every run and every "
              "read must succeed, no read may see a day whose rows differ from its truth, and the end "
              "state must be exactly the truth.",
              "- **Bad input**: malformed site, email, token, dates and connectors files through the CLI "
              "(a message naming the field, no traceback, the token never echoed, nothing written); "
              "malformed API answers (publish exactly the usable records, each whole in `raw`, or fail "
              "clearly and publish nothing); hypothesis-generated records with any JSON in any field.",
              "- **Soak**: a long range of a busy site through the CLI: exactly the truth, with the "
              "backfill's peak memory compared with a short range's on the same site.",
              "- **Secrets**: every file the runs left (logs, captured output and exception text, Dagster "
              "instance storage and event logs, Parquet decoded, DuckDB tables) searched for the tokens "
              "and their Basic-auth header value; the site check against URL tricks.",
              ""]
    if f:
        lines += ["## Fault scenarios", "", "| scenario | expected | result | failure message | s |", "|---|---|---|---|---|"]
        for name, expect, res, msg, secs in f["rows"]:
            msg = (msg or "").replace("|", "\\|")[:160]
            lines.append(f"| {name} | {'complete' if expect == 'ok' else 'clear failure'} | {res} | {msg} | {secs} |")
        lines.append("")
    if b:
        lines += ["## Configuration catalogue", "", "| case | result | message |", "|---|---|---|"]
        for name, res, msg in b["config_rows"]:
            lines.append(f"| {name} | {res} | {(msg or '').replace('|', chr(92) + '|')[:160]} |")
        lines.append("")
    lines += FOUND
    failures = [(n, r["failures"]) for n, r in results.items() if r.get("failures")]
    lines += ["## Failures of this run", ""]
    if not failures:
        lines.append("None.")
    for n, fs in failures:
        lines += [f"- {n}: {x}" for x in fs[:20]]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
