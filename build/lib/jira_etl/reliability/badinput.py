"""Bad input: a catalogue of malformed configuration run through the CLI, malformed API
data served over loopback HTTP, and a hypothesis fuzz of the normalizer.

Configuration: each case must stop with a clear message naming the field (exit code
non-zero, no Python traceback), never echo the token, and write nothing (no Parquet
file, no audit row). API data: each case either publishes exactly the usable records
(each kept whole in `raw`) or fails with a clear message and publishes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import duckdb

from jira_etl.reliability.common import CONNECTOR, Capture, cli_env, run_cli, yesterday

UTC = dt.timezone.utc
SECRET = "reltok-badinput-0123456789abcdef"


def _remember() -> None:
    from jira_etl.reliability.secrets_scan import remember

    for email in ("secops@acme.example", "a@b.example"):
        remember(email, SECRET)


_remember()


# --- configuration --------------------------------------------------------------------


@dataclass
class ConfigCase:
    name: str
    words: tuple[str, ...]  # the message must contain each
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    args: tuple[str, ...] | None = None  # default: a one-day backfill
    connectors: str | None = None  # text of a connectors.yaml (JIRA_ETL_CONNECTORS points at it)
    command: str = "backfill"


def _day(offset: int) -> str:
    return (yesterday() + dt.timedelta(days=offset)).isoformat()


GOOD_YAML = f"""connectors:
  - name: {CONNECTOR}
    site: acme
    email: secops@acme.example
    api_token_env: ACME_TOKEN
"""

CATALOGUE: list[ConfigCase] = [
    # site
    ConfigCase("site with user-info", ("JIRA_SITE", "credentials"), {"JIRA_SITE": "https://acme.atlassian.net@evil.example"}),
    ConfigCase("site over plain http off loopback", ("JIRA_SITE", "plain http"), {"JIRA_SITE": "http://acme.atlassian.net"}),
    ConfigCase("site with another scheme", ("JIRA_SITE", "scheme"), {"JIRA_SITE": "ftp://acme.atlassian.net"}),
    ConfigCase("site name with another host", ("JIRA_SITE", "not a site name"), {"JIRA_SITE": "acme.atlassian.net.evil.example"}),
    ConfigCase("site with a path", ("JIRA_SITE", "path"), {"JIRA_SITE": "https://evil.example/acme.atlassian.net"}),
    ConfigCase("site with a query", ("JIRA_SITE", "query"), {"JIRA_SITE": "https://acme.atlassian.net?next=evil.example"}),
    ConfigCase("site with a bad port", ("JIRA_SITE", "port"), {"JIRA_SITE": "https://acme.atlassian.net:99999"}),
    ConfigCase("site with a fullwidth solidus (NFKC trick)", ("JIRA_SITE",),
               {"JIRA_SITE": "https://evil.example\uff0f.atlassian.net"}),
    ConfigCase("site with a broken IPv6 literal", ("JIRA_SITE",), {"JIRA_SITE": "http://[::1"}),
    ConfigCase("site with a homograph host", ("JIRA_SITE", "ASCII"), {"JIRA_SITE": "https://\u0430cme.atlassian.net"}),
    ConfigCase("credentials without a site", ("JIRA_SITE",), {"JIRA_SITE": None}),
    # email
    ConfigCase("email without @", ("JIRA_EMAIL", "not an email"), {"JIRA_EMAIL": "secops.acme.example"}),
    ConfigCase("email missing", ("JIRA_EMAIL", "not set"), {"JIRA_EMAIL": None}),
    ConfigCase("email with a colon", ("JIRA_EMAIL",), {"JIRA_EMAIL": "sec:ops@acme.example"}),
    # token
    ConfigCase("token missing", ("JIRA_API_TOKEN", "not set"), {"JIRA_API_TOKEN": None}),
    ConfigCase("token with inner whitespace", ("JIRA_API_TOKEN", "whitespace"), {"JIRA_API_TOKEN": SECRET[:9] + " " + SECRET[9:]}),
    ConfigCase("token with a curly quote", ("JIRA_API_TOKEN",), {"JIRA_API_TOKEN": SECRET + "\u2019"}),
    ConfigCase("token with a control character", ("JIRA_API_TOKEN",), {"JIRA_API_TOKEN": SECRET + "\x01"}),
    # dates
    ConfigCase("start is not a date", ("--start", "not a date"), args=("backfill", "--start", "2026-02-30", "--end", _day(0))),
    ConfigCase("end is not a date", ("--end", "not a date"), args=("backfill", "--start", _day(0), "--end", "yesterday")),
    ConfigCase("end before start", ("--end", "before --start"), args=("backfill", "--start", _day(0), "--end", _day(-1))),
    ConfigCase("end in the future", ("--end", "future"), args=("backfill", "--start", _day(0), "--end", _day(30))),
    ConfigCase("start before the first partition", ("--start", "first partition"),
               {"JIRA_ETL_START_DATE": _day(-1)}, args=("backfill", "--start", _day(-3), "--end", _day(0))),
    ConfigCase("JIRA_ETL_START_DATE not a date", ("JIRA_ETL_START_DATE",), {"JIRA_ETL_START_DATE": "01/01/2025"}),
    ConfigCase("JIRA_ETL_DUCKDB_WRITE_MEMORY not a size", ("JIRA_ETL_DUCKDB_WRITE_MEMORY",),
               {"JIRA_ETL_DUCKDB_WRITE_MEMORY": "lots"}),
    # connectors file
    ConfigCase("connectors file missing", ("JIRA_ETL_CONNECTORS", "does not exist"), connectors="<missing>"),
    ConfigCase("connectors file is a directory", ("JIRA_ETL_CONNECTORS",), connectors="<directory>"),
    ConfigCase("connectors file not UTF-8", ("connectors.yaml",), connectors="<binary>"),
    ConfigCase("connectors file not YAML", ("connectors.yaml", "not valid YAML"), connectors="connectors: [\n  - name: [x"),
    ConfigCase("connectors file empty", ("connectors.yaml", "'connectors'"), connectors=""),
    ConfigCase("connector with an unknown field", ("connector 'acme'", "colour"),
               connectors=GOOD_YAML + "    colour: red\n"),
    ConfigCase("connector naming an unset token variable", ("connector 'acme'", "api_token_env", "not set"),
               connectors=GOOD_YAML.replace("ACME_TOKEN", "NOT_SET_ANYWHERE")),
    ConfigCase("connector holding a token instead of a variable name", ("connector 'acme'", "api_token_env"),
               connectors=GOOD_YAML.replace("ACME_TOKEN", f"'{SECRET[:9]} {SECRET[9:]}'")),
    ConfigCase("connector with site over plain http", ("connector 'acme'", "field 'site'"),
               connectors=GOOD_YAML.replace("site: acme", "site: 'http://evil.example'")),
    ConfigCase("connector with a bad email", ("connector 'acme'", "field 'email'"),
               connectors=GOOD_YAML.replace("secops@acme.example", "secops")),
    ConfigCase("connector with slices 0", ("connector 'acme'", "slices"), connectors=GOOD_YAML + "    slices: 0\n"),
    ConfigCase("unknown --connector", ("unknown connector", "nope"),
               args=("backfill", "--start", _day(0), "--end", _day(0), "--connector", "nope")),
    ConfigCase("test-connection with a curly-quote token", ("JIRA_API_TOKEN",), {"JIRA_API_TOKEN": SECRET + "\u2019"},
               command="test-connection"),
    ConfigCase("test-connection with a fullwidth-solidus site", ("JIRA_SITE",),
               {"JIRA_SITE": "https://evil.example\uff0f.atlassian.net"}, command="test-connection"),
]


@dataclass
class CaseResult:
    name: str
    passed: bool
    problems: list[str]
    message: str


def _nothing_written(data_dir: Path) -> list[str]:
    out = []
    files = list(data_dir.glob("parquet/**/*.parquet"))
    if files:
        out.append(f"{len(files)} Parquet file(s) written")
    db = data_dir / "jira_audit.duckdb"
    if db.exists():
        with duckdb.connect(str(db), read_only=True) as con:
            tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            n = con.execute("SELECT count(*) FROM audit_records").fetchone()[0] if "audit_records" in tables else 0
        if n:
            out.append(f"{n} audit row(s) written")
    return out


def _prepare(case: ConfigCase, root: Path, site_url: str) -> tuple[dict[str, str], list[str]]:
    env = cli_env(root, site_url=site_url, email="secops@acme.example", token=SECRET,
                  start_date=(yesterday() - dt.timedelta(days=30)).isoformat())
    if case.connectors is not None:
        for k in ("JIRA_SITE", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_CONNECTOR"):
            env.pop(k, None)
        env["ACME_TOKEN"] = SECRET
        path = root / "connectors.yaml"
        if case.connectors == "<directory>":
            path.mkdir(parents=True, exist_ok=True)
        elif case.connectors == "<binary>":
            path.write_bytes(b"connectors:\n  - name: \xff\xfe\x00acme\n")
        elif case.connectors != "<missing>":
            path.write_text(case.connectors)
            if SECRET[9:] in case.connectors:
                from jira_etl.reliability.secrets_scan import input_file

                input_file(path)
        env["JIRA_ETL_CONNECTORS"] = str(path)
    for k, v in case.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    args = list(case.args) if case.args else (
        ["test-connection"] if case.command == "test-connection" else ["backfill", "--start", _day(0), "--end", _day(0)])
    return env, args


def _judge(case: ConfigCase, returncode: int, output: str, data_dir: Path) -> list[str]:
    problems = []
    if returncode == 0:
        problems.append("exit code 0")
    if "Traceback" in output:
        problems.append("a Python traceback instead of a message")
    low = output.lower()
    problems += [f"message lacks {w!r}" for w in case.words if w.lower() not in low]
    if SECRET[9:] in output or SECRET[:20] in output:
        problems.append("the token is echoed")
    return problems + _nothing_written(data_dir)


def run_config_catalogue(root: Path, capture: Capture, site_url: str, cases: list[ConfigCase] | None = None,
                         subprocesses: bool = True, log=print) -> list[CaseResult]:
    """Each case in its own directory; `subprocesses=False` calls `cli.main` in this
    process (same code, no interpreter start-up) for the fast subset."""
    results = []
    for i, case in enumerate(CATALOGUE if cases is None else cases):
        croot = Path(root) / f"c{i:02d}"
        croot.mkdir(parents=True, exist_ok=True)
        env, args = _prepare(case, croot, site_url)
        if subprocesses:
            res = run_cli(args, env, capture=capture, timeout=300)
            rc, output = res.returncode, res.output
        else:
            rc, output = run_main_in_process(args, env, croot)
            capture.add(f"config-{case.name}", output)
        problems = _judge(case, rc, output, Path(env["JIRA_ETL_DATA_DIR"]))
        lines = [line for line in output.strip().splitlines() if line.strip()]
        said = [line for line in lines if "error:" in line or "failed" in line.lower()] or lines[-1:] or [""]
        results.append(CaseResult(case.name, not problems, problems, said[0][:200]))
        log(f"  config {'PASS' if not problems else 'FAIL'} {case.name}" + (f": {problems}" if problems else ""))
    return results


def run_main_in_process(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`jira-etl ARGS` through cli.main with this environment; a crash is reported as a
    traceback in the output, as the console script would print it."""
    import traceback

    from jira_etl import cli

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(args)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - what the console script would show
                traceback.print_exc()
                rc = 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    return rc, out.getvalue() + err.getvalue()


# --- malformed API data -----------------------------------------------------------------


def _rec(rid: Any, created: Any, **extra) -> dict:
    r = {"id": rid, "created": created, "summary": "User updated", "category": "user management"}
    r.update(extra)
    return r


def _at(day: dt.date, h: int, ms: int = 0) -> str:
    return (dt.datetime.combine(day, dt.time(h), UTC) + dt.timedelta(milliseconds=ms)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


@dataclass
class ApiCase:
    name: str
    body: Callable[[dt.date], Any]  # JSON value of every answer (or bytes, sent as is)
    expect: str  # "ok" or "fail"
    keep: Callable[[dt.date], set[int]] = lambda d: set()  # ids that must be published
    words: tuple[str, ...] = ()


def _page(records):
    return {"offset": 0, "limit": 1000, "total": len(records), "records": records}


API_CASES: list[ApiCase] = [
    ApiCase("body without 'records'", lambda d: {"offset": 0, "limit": 1000, "total": 3}, "fail", words=("records",)),
    ApiCase("body is a list", lambda d: [_rec(1, _at(d, 1))], "fail", words=("records",)),
    ApiCase("'records' is null", lambda d: {"records": None}, "fail", words=("records",)),
    ApiCase("'records' is a string", lambda d: {"records": "none"}, "fail", words=("records",)),
    ApiCase("JSON null body", lambda d: None, "fail", words=("JSON",)),
    ApiCase("non-record items among records",
            lambda d: _page([_rec(11, _at(d, 3)), "x", 5, None, [1], _rec(10, _at(d, 2))]), "ok", lambda d: {10, 11}),
    ApiCase("odd ids (unusable ones dropped, never a crash)",
            lambda d: _page([_rec("31", _at(d, 9)), _rec("--5", _at(d, 8)), _rec("\u00b2", _at(d, 7)),
                             _rec(2**70, _at(d, 6)), _rec(True, _at(d, 5)), _rec(3.5, _at(d, 4)),
                             _rec(None, _at(d, 3)), _rec("1" * 5000, _at(d, 3)), _rec(" 27 ", _at(d, 2)),
                             _rec(-26, _at(d, 1))]),
            "ok", lambda d: {31, 27, -26}),
    ApiCase("created in other offsets and forms",
            lambda d: _page([_rec(43, _at(d, 12).replace("+0000", "Z")),
                             _rec(42, (dt.datetime.combine(d, dt.time(11), UTC) + dt.timedelta(hours=5, minutes=30))
                                  .strftime("%Y-%m-%dT%H:%M:%S.000+05:30")),
                             _rec(41, _at(d, 10)), _rec(40, "yesterday-ish"), _rec(39, None), _rec(38, 12345)]),
            "ok", lambda d: {43, 42, 41, 40, 39, 38}),
    ApiCase("no usable created on a page", lambda d: _page([_rec(51, "garbage"), _rec(50, None)]), "fail",
            words=("created",)),
    ApiCase("a record newer than 'to'",
            lambda d: _page([_rec(61, _at(d + dt.timedelta(days=3), 1))]), "fail", words=("newer",)),
    ApiCase("unknown fields and any JSON in any field",
            lambda d: _page([_rec(71, _at(d, 5), summary={"nested": [1, 2.5, None, "\u00e9"]}, newField=[{"a": 1}],
                                  objectItem="not an object", changedValues={"fieldName": "x"},
                                  associatedItems=[1, "two", {"id": 3, "name": ["x"]}], remoteAddress=12,
                                  description="\ud800 lone surrogate", authorAccountId=True)]),
            "ok", lambda d: {71}),
    ApiCase("a 1 MB field", lambda d: _page([_rec(81, _at(d, 5), description="x" * 1_000_000)]), "ok", lambda d: {81}),
    ApiCase("duplicated ids on a page", lambda d: _page([_rec(91, _at(d, 5)), _rec(91, _at(d, 5)), _rec(90, _at(d, 4))]),
            "ok", lambda d: {91, 90}),
]


class _Canned(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = self.server.body
        with self.server.lock:
            self.server.calls += 1
            first = self.server.calls == 1
        if isinstance(body, dict) and isinstance(body.get("records"), list) and not first:
            body = dict(body, records=[])  # the case's page once, then the end
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextlib.contextmanager
def canned_server(body):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    srv.daemon_threads = True
    srv.body, srv.calls, srv.lock = body, 0, threading.Lock()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def run_api_cases(root: Path, capture: Capture, cases: list[ApiCase] | None = None, log=print) -> list[CaseResult]:
    """Each case: one day collected by `collect_day` over HTTP from a server that answers
    the case's body to the first request (later requests of a list body get no records)."""
    import pyarrow.parquet as pq

    from jira_etl.collect import collect_day
    from jira_etl.sources.client import JiraClient, JiraError, RetryPolicy
    from jira_etl.storage import lake

    day = yesterday() - dt.timedelta(days=5)
    results = []
    for i, case in enumerate(API_CASES if cases is None else cases):
        data_dir = Path(root) / f"a{i:02d}"
        body = case.body(day)
        problems: list[str] = []
        message = ""
        with canned_server(body) as url:
            client = JiraClient(url, email="a@b.example", api_token=SECRET,
                                retry=RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.02, timeout=10))
            try:
                result = collect_day(client, CONNECTOR, day, data_dir, slices=1, concurrency=1)
                outcome = "ok"
            except JiraError as exc:
                outcome, message = "fail", str(exc)
            except Exception as exc:  # noqa: BLE001 - a crash is what this looks for
                outcome, message = "crash", f"{type(exc).__name__}: {exc}"
        capture.add(f"api-{case.name}", message)
        path = lake.partition_file(data_dir, CONNECTOR, day)
        if outcome == "crash":
            problems.append(f"crashed: {message}")
        elif case.expect == "fail":
            if outcome != "fail":
                problems.append("published instead of failing")
            low = message.lower()
            problems += [f"message lacks {w!r}: {message!r}" for w in case.words if w.lower() not in low]
            if path.exists():
                problems.append("a file was published")
        else:
            if outcome != "ok":
                problems.append(f"failed: {message}")
            elif not path.exists():
                problems.append("no file published")
            else:
                table = pq.read_table(path)
                ids = table.column("id").to_pylist()
                want = case.keep(day)
                if sorted(ids) != sorted(want):
                    problems.append(f"published ids {sorted(ids)[:10]}, expected {sorted(want)[:10]}")
                sent = {}
                for r in body["records"]:
                    if isinstance(r, dict):
                        sent.setdefault(json.dumps(r, sort_keys=True), r)
                raws = {json.dumps(json.loads(x), sort_keys=True) for x in table.column("raw").to_pylist()}
                lost = [k for k in raws if k not in sent]
                if lost:
                    problems.append(f"{len(lost)} raw value(s) differ from what was sent")
                if result.rows != len(want):
                    problems.append(f"rows {result.rows} != {len(want)}")
        results.append(CaseResult(case.name, not problems, problems, message[:200]))
        log(f"  api {'PASS' if not problems else 'FAIL'} {case.name}" + (f": {problems}" if problems else ""))
    return results


# --- fuzzing the normalizer ---------------------------------------------------------------


@dataclass
class FuzzReport:
    examples: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fuzz_normalizer(max_examples: int = 300, seed: int | None = None) -> FuzzReport:
    """Hypothesis: records with any JSON in any field (known and unknown keys, odd ids
    and dates, lone surrogates, NaN, huge numbers). `to_table` and the pandas round
    trip never raise; every record with a usable id is one row whose `raw` is the
    record; records with an unusable id are the only ones left out."""
    import math

    from hypothesis import HealthCheck, given, seed as hseed, settings, strategies as st

    from jira_etl import normalize
    from jira_etl.records import created_ms, record_id

    text = st.one_of(st.text(max_size=20), st.sampled_from(["\ud800", "a\udfffb", "\x00", "", "null", "NaN"]))
    scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                        st.floats(allow_nan=True, allow_infinity=True), text)
    values = st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                          st.dictionaries(text, kids, max_size=4)), max_leaves=12)
    ids = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                    st.integers(min_value=-(2**70), max_value=2**70).map(str),
                    st.sampled_from(["--5", "\u00b2", " 7 ", "1" * 40, "+3", "0x10", "\u0661\u0662"]), values)
    created = st.one_of(
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                     timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=14)),
                                                dt.timezone(dt.timedelta(hours=-12, minutes=-30))]))
        .map(lambda t: t.isoformat(timespec="milliseconds")),
        st.sampled_from(["2026-01-01T00:00:00.000+0000", "2026-01-01", "2026-13-01T00:00:00Z", "0000-01-01"]),
        values)
    known = ["summary", "category", "eventSource", "description", "remoteAddress", "authorKey", "authorAccountId",
             "objectItem", "changedValues", "associatedItems"]
    record = st.fixed_dictionaries(
        {"id": ids, "created": created},
        optional={k: values for k in known} | {"objectItem": st.dictionaries(
            st.sampled_from(["id", "name", "typeName", "parentId", "parentName", "x"]), values, max_size=6),
            "changedValues": st.lists(st.one_of(values, st.dictionaries(
                st.sampled_from(["fieldName", "changedFrom", "changedTo", "x"]), values)), max_size=3)},
    ).flatmap(lambda r: st.dictionaries(text, values, max_size=3).map(lambda extra: {**extra, **r}))

    report = FuzzReport()
    t0 = time.monotonic()

    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    @settings(max_examples=max_examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(record, max_size=6))
    def check(records):
        report.examples += 1
        for r in records:
            created_ms(r)  # must not raise either
        table = normalize.to_table(records, "fuzz")
        back = normalize.from_dataframe(normalize.to_dataframe(table))
        assert back.equals(table), "the pandas round trip changed the table"
        usable = [r for r in records if record_id(r.get("id")) is not None]
        assert table.num_rows == len(usable), (table.num_rows, len(usable))
        assert table.column("id").to_pylist() == [record_id(r["id"]) for r in usable]
        for raw, r in zip(table.column("raw").to_pylist(), usable):
            assert same(json.loads(raw), r), (raw, r)

    runner = hseed(seed)(check) if seed is not None else check
    try:
        runner()
    except Exception as exc:  # noqa: BLE001 - hypothesis re-raises the minimal failing example
        report.failures.append(f"{type(exc).__name__}: {str(exc)[:800]}")
    report.seconds = time.monotonic() - t0
    return report
