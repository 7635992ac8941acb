"""Bad input, the normalizer fuzzed with hypothesis (a test-only dependency, imported
only when the fuzz runs)."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from benchmarks.reliability.badinput.shared import UTC


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
