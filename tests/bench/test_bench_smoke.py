"""The benchmark's code runs on a tiny size (the real measure is `make bench`)."""

import datetime as dt
import json

from benchmarks.bench import __main__ as bench
from benchmarks.bench.sim import SimProcess


def test_bench_measures_run_on_a_tiny_site(tmp_path):
    days = bench.window_days(1)
    # Best of two floors, each on its own simulator: the best run's figures, every run kept.
    fl = bench.best_of(2, lambda i: bench.fresh_sim(300, lambda sim: bench.floor(sim.url, days)))
    assert len(fl["runs_s"]) == 2 and abs(fl["seconds"] - min(fl["runs_s"])) < 0.001
    # (runs_s are kept to the millisecond, the median is not)
    assert min(fl["runs_s"]) - 0.001 <= fl["median_s"] <= max(fl["runs_s"]) + 0.001
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
    assert "| 300 x 1 | floor (sequential fetch + decode), best of 2 (median" in text and "detections" in text
    assert res["summary"]["all_e2e_correct"] is True
    json.dumps(res, default=str)
    assert dt.date.fromisoformat(days[0].isoformat()) == days[0]
