"""The detection suite over N generated rows (default 10M), made directly in DuckDB.

    python -m jira_etl.bench.detections10m --rows 10000000 --workdir DIR

Rows are generated with SQL (no HTTP, no Python per row): 30 days of a mostly benign
mix of actions by 2000 actors with three addresses each, and a small share of
the actions the rules look for. Prints one JSON line with:
- `window_s`: every enabled rule once, its window spanning all generated days (all
  rows are in the window, history included);
- `daily_s`: the runner (`runner.evaluate`) for the last day, over the same table;
- the generation time and the number of findings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

ACTIONS = [  # (summary, category, object type); the first eight are the common ones
    ("User updated", "user management", "USER"), ("User added to group", "group management", "GROUP"),
    ("Project updated", "projects", "PROJECT"), ("Workflow updated", "workflows", "WORKFLOW"),
    ("Custom field created", "fields", "CUSTOM_FIELD"), ("Status updated", "workflows", "STATUS"),
    ("Project version released", "projects", "VERSION"), ("Workflow scheme updated", "workflows", "SCHEME"),
    ("User removed from group", "group management", "GROUP"), ("Permission scheme updated", "permissions", "SCHEME"),
    ("User created", "user management", "USER"), ("User deleted", "user management", "USER"),
    ("Global permission added", "permissions", "PERMISSION"), ("Project roles changed", "projects", "PROJECT_ROLE"),
    ("User's password changed", "user management", "USER"), ("Workflow scheme copied", "workflows", "SCHEME"),
    ("Issue Security scheme deleted", "permissions", "SCHEME"), ("Project deleted", "projects", "PROJECT"),
    ("User removed from project", "projects", "PROJECT"),
]
DAYS = 30


def generate(con, rows: int, first: dt.date) -> None:
    summaries = "[" + ", ".join("'" + s.replace("'", "''") + "'" for s, _, _ in ACTIONS) + "]"
    cats = "[" + ", ".join(f"'{c}'" for _, c, _ in ACTIONS) + "]"
    types = "[" + ", ".join(f"'{t}'" for _, _, t in ACTIONS) + "]"
    span_ms = DAYS * 86_400_000
    con.execute(f"""
        INSERT INTO audit_records
        WITH g AS (
            SELECT i, (hash(i) % 1000000007)::BIGINT AS h,
                   CASE WHEN hash(i) % 1000 < 960 THEN (hash(i) >> 20) % 8 ELSE 8 + (hash(i) >> 20) % {len(ACTIONS) - 8} END::BIGINT + 1 AS a
            FROM range({rows}) t(i)
        )
        SELECT 'bench', i,
               make_timestamptz(epoch_us(TIMESTAMPTZ '{first.isoformat()} 00:00:00+00')
                                + (i * {span_ms} // {rows}) * 1000),
               {summaries}[a], {cats}[a], '',
               NULL,
               CASE WHEN h % 7 = 0 THEN NULL ELSE '10.' || (h % 250) || '.' || ((h % 2000) // 250) || '.' || ((h >> 8) % 3) END,
               CASE WHEN h % 7 = 0 THEN NULL ELSE 'acct-' || (h % 2000) END,
               CASE WHEN h % 7 = 0 THEN NULL ELSE 'ug:' || (h % 2000) END,
               ((h >> 16) % 5000)::VARCHAR, 'object-' || ((h >> 16) % 5000), {types}[a], '10000', 'parent',
               [{{'field_name': 'Name', 'changed_from': 'a' || (h % 9), 'changed_to': 'b' || (h % 9)}}],
               [{{'id': 'acct-' || ((h >> 24) % 2000), 'name': 'acct-' || ((h >> 24) % 2000), 'type_name': 'USER',
                 'parent_id': '10000', 'parent_name': 'IDP Directory'}}],
               '{{}}', now()
        FROM g
    """)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--workdir", required=True)
    a = p.parse_args(argv)

    from jira_etl.detections import catalogue
    from jira_etl.detections import runner
    from jira_etl.storage import schema as storage_schema
    from jira_etl.storage.warehouse import Warehouse

    wh = Warehouse(Path(a.workdir))
    last = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
    first = last - dt.timedelta(days=DAYS - 1)
    t0 = time.perf_counter()
    with wh.writer() as con:
        storage_schema.apply_schema(con)
        generate(con, a.rows, first)
        con.execute("CHECKPOINT")
    gen_s = time.perf_counter() - t0
    dets = [d for d in catalogue.load_catalogue()]
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(last, dt.time(), dt.timezone.utc) + dt.timedelta(days=1)
    per_rule = {}
    findings = 0
    with wh.reader() as con:
        n = con.execute("SELECT count(*) FROM audit_records").fetchone()[0]
        t0 = time.perf_counter()
        for det in dets:
            r0 = time.perf_counter()
            findings += len(con.execute(det.sql, catalogue.bind(det, "bench", start, end)).fetchall())
            per_rule[det.id] = round(time.perf_counter() - r0, 3)
        window_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        daily = runner.evaluate(con, "bench", [last])
        daily_s = time.perf_counter() - t0
    print(json.dumps({"rows": n, "rules": len(dets), "generate_s": gen_s, "window_s": window_s,
                      "daily_s": daily_s, "findings_window": findings, "findings_daily": len(daily),
                      "slowest_rules": dict(sorted(per_rule.items(), key=lambda kv: -kv[1])[:5])}), flush=True)


if __name__ == "__main__":
    main()
