"""The peer: dlt's REST API source loading the same window into DuckDB.

Runs in the benchmark's own venv (.venv-bench, dlt pinned there only), never imports
jira_etl. Prints one JSON line: seconds, rows loaded, distinct ids.

    .venv-bench/bin/python jira_etl/bench/dlt_peer.py URL FROM TO WORKDIR
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    url, frm, to, workdir = sys.argv[1:5]
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("DLT_DATA_DIR", os.path.join(workdir, "dlt_data"))
    t0 = time.perf_counter()
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {
            "base_url": url,
            "auth": {"type": "http_basic", "username": "demo@jira-etl.local", "password": "demo-token"},
        },
        "resources": [{
            "name": "audit_records",
            "primary_key": "id",
            "write_disposition": "append",
            "endpoint": {
                "path": "rest/api/3/auditing/record",
                "params": {"from": frm, "to": to},
                "data_selector": "records",
                # Jira's `total` is unreliable: page until an empty page.
                "paginator": {"type": "offset", "limit": 1000, "offset_param": "offset",
                              "limit_param": "limit", "total_path": None, "stop_after_empty_page": True},
            },
        }],
    })
    db = os.path.join(workdir, "dlt.duckdb")
    pipeline = dlt.pipeline(pipeline_name="jira_bench", destination=dlt.destinations.duckdb(db),
                            dataset_name="jira", pipelines_dir=os.path.join(workdir, "pipelines"))
    pipeline.run(source)
    seconds = time.perf_counter() - t0
    import duckdb

    con = duckdb.connect(db, read_only=True)
    rows, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM jira.audit_records").fetchone()
    con.close()
    print(json.dumps({"seconds": seconds, "rows": rows, "distinct_ids": distinct}), flush=True)


if __name__ == "__main__":
    main()
