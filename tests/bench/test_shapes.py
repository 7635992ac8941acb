"""The real-shaped windows of `make bench` (benchmarks/bench/shapes.py, shaped.py): each
day holds the records its shape says, where it says, and the bench's counts (requests,
records served, CPU by stage) come from a real simulator process."""

import datetime as dt

import numpy as np

from benchmarks.bench import __main__ as bench
from benchmarks.bench import shaped
from benchmarks.bench.shapes import HOUR, SHAPES, ShapedSite, records_of
from benchmarks.bench.sim import SimProcess
from jira_etl.simulator.data import day_start_ms


def test_skewed_window_is_the_issues_and_days_fall_where_their_shape_says():
    assert records_of("skewed") == 296_211 and len(SHAPES["skewed"]) == 10
    first = dt.date(2026, 3, 2)
    site = ShapedSite(SHAPES["skewed"], first)
    days = [site._day(first + dt.timedelta(days=i)) for i in range(10)]
    assert sum(len(d.ms) for d in days) == 296_211
    heavy = days[6]
    hours = np.bincount((heavy.ms - day_start_ms(heavy.day)) // HOUR, minlength=24)
    assert len(heavy.ms) == 240_000 and hours.min() > 0.8 * hours.mean()  # spread over the whole day
    quiet = days[0]
    in_office = ((quiet.ms - day_start_ms(quiet.day)) // HOUR)
    assert ((in_office >= 7) & (in_office < 19)).mean() > 0.9  # clustered in working hours
    assert np.bincount(np.unique(days[2].ms, return_inverse=True)[1]).max() >= 2500  # the millisecond
    assert site._day(first - dt.timedelta(days=1)).ms.size == 0  # outside the shape: empty


def test_floor_stages_and_counts_on_a_tiny_shape(tmp_path, monkeypatch):
    monkeypatch.setattr(shaped, "shape_days", lambda name: [dt.date(2026, 3, 2), dt.date(2026, 3, 3)])
    days = shaped.shape_days("tiny")
    with SimProcess(shape="tiny", first=days[0]) as sim:
        fl = shaped.floor_window(sim.url, days)
        got = sim.stats()
        assert fl["records"] == records_of("tiny") == 620 and fl["requests"] == 2  # a page and the empty one
        assert got["served"] == 620 and got["audit_requests"] == 2 and got["first_request_at"] > 0
    with SimProcess(shape="tiny", first=days[0]) as sim:
        st = bench.stages(sim.url, days, tmp_path / "stages")
        served = sim.stats()["served"]
    assert st["records"] == 620 and served >= 620 and st["requests"] >= 2
    assert set(st["cpu_s"]) == {"fetch", "parse", "normalize", "parquet", "duckdb_load", "detections"}
    assert st["cpu_s"]["parse"] > 0
    r = {"records": 620, "floor": dict(fl, median_s=fl["seconds"]), "stages": st,
         "e2e": {"seconds": 2.0, "median_s": 2.0, "peak_rss_mb": 100.0, "rows": 620, "served": served, "cpu_s": 3.0,
                 "startup_cpu_s": 1.5, "requests": st["requests"], "correct": True}}
    r["summary"] = shaped.summary(r)
    assert r["summary"]["served_per_stored"] == round(served / 620, 3)
    assert r["summary"]["cpu_s_per_100k"]["dagster_startup"] == round(1.5 * 100_000 / 620, 2)
    assert "| tiny | 620 | 2 / " in "\n".join(shaped.render({"tiny": r}))


def test_shapes_are_chosen_by_option_or_environment(monkeypatch):
    monkeypatch.setenv("JIRA_ETL_BENCH", "skewed, office")
    assert shaped.selected(None) == ["skewed", "office"]
    assert shaped.selected("heavy") == ["heavy"]
    assert "tiny" not in shaped.selected("shapes") and "skewed" in shaped.selected("shapes")
    monkeypatch.delenv("JIRA_ETL_BENCH")
    assert shaped.selected(None) == []
