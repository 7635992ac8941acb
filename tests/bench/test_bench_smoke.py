"""The benchmark's code runs on a tiny size (the real measure is `make bench`)."""

import datetime as dt
import json

from jira_etl.bench import __main__ as bench
from jira_etl.bench.sim import SimProcess


def test_bench_measures_run_on_a_tiny_site(tmp_path):
    days = bench.window_days(1)
    with SimProcess(300) as sim:
        fl = bench.floor(sim.url, days)
    with SimProcess(300) as sim:
        st = bench.stages(sim.url, days, tmp_path / "stages")
    assert fl["records"] == st["records"] == 300
    assert set(st["seconds"]) == {"fetch", "normalize", "parquet", "duckdb_load", "detections"}
    assert st["peak_rss_mb"] > 0
    det = bench.detections(3000, tmp_path / "det")
    assert det["rows"] == 3000 and det["rules"] > 0
    res = {"machine": bench.machine(), "detections": det,
           "sizes": {"300": {"per_day": 300, "days": 1, "records": 300, "floor": fl, "stages": st,
                             "e2e": {"seconds": 1.0, "peak_rss_mb": 100.0, "rows": 300, "distinct_ids": 300,
                                     "correct": True}}}}
    res["summary"] = bench.summarize(res)
    text = bench.render(res)
    assert "| 300 x 1 | floor" in text and "detections" in text
    json.dumps(res, default=str)
    assert dt.date.fromisoformat(days[0].isoformat()) == days[0]
