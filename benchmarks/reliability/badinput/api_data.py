"""Bad input, API data: malformed pages served over loopback HTTP to `collect_day`. Each
case either publishes exactly the usable records (each kept whole in `raw`) or fails
with a clear message and publishes nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from benchmarks.reliability.badinput.shared import SECRET, UTC, CaseResult
from benchmarks.reliability.common import CONNECTOR, Capture, yesterday


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
