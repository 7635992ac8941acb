"""Secrets: after everything else, look for the API tokens the harness used in every
file it left behind: logs and captured stdout/stderr/exception text, the Dagster
instances' storage (runs, event logs and compute logs: SQLite files and plain files),
the Parquet files (decoded, they are compressed) and the DuckDB files (every text
column of every table, and the raw bytes).

Every token the harness makes starts with `reltok-`, so any occurrence of that prefix
is a hit, whichever run used it; the Basic-auth header value (base64 of email:token)
is looked for as well.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

PREFIX = b"reltok-"
_seen_pairs: set[tuple[str, str]] = set()
_inputs: set[str] = set()


def input_file(path: Path) -> None:
    """A file the harness wrote with a token in it on purpose (a user's mistake under
    test, such as a token pasted into connectors.yaml): not a leak, not scanned."""
    _inputs.add(str(Path(path).resolve()))


def remember(email: str, token: str) -> None:
    """A credential pair in use, so its Basic header value is searched for too."""
    _seen_pairs.add((email, token))


@dataclass
class ScanReport:
    files: int = 0
    bytes: int = 0
    parquet_files: int = 0
    duckdb_files: int = 0
    sqlite_files: int = 0
    hits: list[str] = field(default_factory=list)


def _needles() -> list[bytes]:
    out = [PREFIX]
    for email, token in _seen_pairs:
        out.append(token.encode())
        out.append(base64.b64encode(f"{email}:{token}".encode()))
    return out


def _text_hit(text: str, needles: list[bytes]) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    return any(n in data for n in needles)


def scan(roots: list[Path], extra_texts: dict[str, str] | None = None) -> ScanReport:
    report = ScanReport()
    needles = _needles()
    for label, text in (extra_texts or {}).items():
        if _text_hit(text, needles):
            report.hits.append(f"text {label}")
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if not path.is_file() or str(path.resolve()) in _inputs:
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                report.hits.append(f"{path}: unreadable ({exc})")
                continue
            report.files += 1
            report.bytes += len(data)
            if any(n in data for n in needles):
                report.hits.append(str(path))
                continue
            if path.suffix == ".parquet" and not path.name.startswith("."):
                report.parquet_files += 1
                if _parquet_hit(path, needles):
                    report.hits.append(f"{path} (decoded)")
            elif path.suffix == ".duckdb":
                report.duckdb_files += 1
                if _duckdb_hit(path, needles):
                    report.hits.append(f"{path} (tables)")
            elif data[:16] == b"SQLite format 3\x00":
                report.sqlite_files += 1
    return report


def _parquet_hit(path: Path, needles: list[bytes]) -> bool:
    """Every column of the decoded file, cast to text (lists of structs too), by DuckDB."""
    pattern = "|".join(re.escape(n.decode()) for n in needles)
    try:
        with duckdb.connect() as con:
            cols = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
            expr = " OR ".join(f'regexp_matches(CAST("{c}" AS VARCHAR), $p)' for c in cols)
            return bool(con.execute(f"SELECT count(*) FROM read_parquet($f) WHERE {expr}",
                                    {"f": str(path), "p": pattern}).fetchone()[0])
    except duckdb.Error:
        try:  # not readable by DuckDB: decode with pyarrow, value by value
            table = pq.read_table(path)
        except Exception:  # noqa: BLE001 - a corrupt file is the crash test's business
            return False
        return any(_text_hit(str(v), needles) for col in table.columns for v in col.to_pylist() if v is not None)


def _duckdb_hit(path: Path, needles: list[bytes]) -> bool:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except Exception:  # noqa: BLE001 - locked or not a database: the bytes were searched
        return False
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
        for schema, table in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [schema, table]).fetchall()]
            if not cols:
                continue
            pattern = "|".join(re.escape(n.decode()) for n in needles)
            expr = " OR ".join(f"regexp_matches(CAST(\"{c}\" AS VARCHAR), ?)" for c in cols)
            n = con.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE {expr}',
                            [pattern] * len(cols)).fetchone()[0]
            if n:
                return True
    finally:
        con.close()
    return False


# URL tricks the site check must refuse (user-info, other hosts, plain http off
# loopback, look-alikes), and the forms it must keep accepting.
SITE_TRICKS = [
    "https://acme.atlassian.net@evil.example", "https://evil.example#@acme.atlassian.net",
    "https://user:pass@acme.atlassian.net", "https://acme.atlassian.net%40evil.example@x",
    "https://acme.atlassian.net\\@evil.example", "https://acme.atlassian.net\t@evil.example",
    "acme.atlassian.net.evil.example", "acme.evil.example", "acme/../evil", "evil.example:443",
    "http://acme.atlassian.net", "http://evil.example", "http://127.0.0.1.nip.io", "http://localhost.evil.example",
    "http://0x7f.0.0.1", "http://[::ffff:8.8.8.8]", "https://evil.example/acme.atlassian.net",
    "https://acme.atlassian.net?redirect=https://evil.example", "https://evil.example\uff0f.atlassian.net",
    "https://\u0430cme.atlassian.net", "http://[::1", "ftp://acme.atlassian.net", "file:///etc/passwd",
    "javascript://acme.atlassian.net", "//evil.example", "https://", "https://acme.atlassian.net:99999",
]
SITE_ACCEPTED = {
    "acme": "https://acme.atlassian.net", "acme.atlassian.net": "https://acme.atlassian.net",
    "https://acme.atlassian.net/": "https://acme.atlassian.net", "http://127.0.0.1:8080": "http://127.0.0.1:8080",
    "http://localhost:8080": "http://localhost:8080", "http://[::1]:8080": "http://[::1]:8080",
}


def check_site_tricks() -> tuple[int, int, list[str]]:
    """(refused, tricks, failures): every trick refused with JIRA_SITE named, the
    legitimate forms resolved as documented."""
    from jira_etl.settings import ConfigError, resolve_site

    failures, refused = [], 0
    for site in SITE_TRICKS:
        try:
            got = resolve_site(site)
            failures.append(f"accepted {site!r} as {got}")
        except ConfigError as exc:
            if "JIRA_SITE" in str(exc):
                refused += 1
            else:
                failures.append(f"{site!r}: message does not name JIRA_SITE: {exc}")
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{site!r}: {type(exc).__name__} instead of a message: {exc}")
    for site, want in SITE_ACCEPTED.items():
        try:
            got = resolve_site(site)
        except Exception as exc:  # noqa: BLE001
            got = f"refused: {exc}"
        if got != want:
            failures.append(f"{site!r} -> {got}, expected {want}")
    return refused, len(SITE_TRICKS), failures
