"""Bad input, configuration: a catalogue of malformed settings and connectors files run
through the CLI. Each case must stop with a clear message naming the field (exit code
non-zero, no Python traceback), never echo the token, and write nothing (no Parquet
file, no audit row)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks.reliability.badinput.shared import SECRET, CaseResult
from benchmarks.reliability.common import CONNECTOR, Capture, cli_env, run_cli, yesterday


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
                from benchmarks.reliability.secrets_scan import input_file

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
