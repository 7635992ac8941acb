"""Warehouse.load_partitions: several days replaced in one load, exactly, on a real DuckDB file."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from jira_etl import normalize
from jira_etl.storage import lake
from jira_etl.storage.warehouse import Warehouse

UTC = dt.timezone.utc
D1, D2, D3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def rec(rid: int, created: str | None, summary: str = "User created") -> dict:
    r = {"id": rid, "summary": summary, "category": "user management", "authorAccountId": "a-1"}
    if created is not None:
        r["created"] = created
    return r


def write(tmp_path, day: dt.date, records: list[dict]):
    return lake.write_partition(normalize.to_table(records, "c1"), tmp_path, "c1", day)


def table(wh: Warehouse) -> dict[int, str]:
    with wh.reader() as con:
        return dict(con.execute("SELECT id, summary FROM audit_records WHERE connector = 'c1'").fetchall())


def test_load_replaces_exactly_the_given_days_and_keeps_the_others(tmp_path):
    wh = Warehouse(tmp_path)
    first = {
        D1: write(tmp_path, D1, [rec(11, "2026-03-01T00:00:00.000+0000"), rec(12, "2026-03-01T23:59:59.999+0000")]),
        D2: write(tmp_path, D2, [rec(21, "2026-03-02T12:00:00.000+0000")]),
        D3: write(tmp_path, D3, [rec(31, "2026-03-03T05:00:00.000+0530"), rec(32, None)]),
    }
    assert wh.load_partitions("c1", first) == {D1: 2, D2: 1, D3: 2}
    assert set(table(wh)) == {11, 12, 21, 31, 32}

    # Days 1 and 3 again, not day 2: day 1 lost a record, day 3's created-less record came
    # back (its id must not duplicate) and another summary changed.
    again = {
        D1: write(tmp_path, D1, [rec(12, "2026-03-01T23:59:59.999+0000", "User updated")]),
        D3: write(tmp_path, D3, [rec(31, "2026-03-03T05:00:00.000+0530"), rec(32, None, "Group created"),
                                 rec(33, "2026-03-03T23:00:00.000-0100")]),
    }
    assert wh.load_partitions("c1", again) == {D1: 1, D3: 3}
    # Twice: id 33 (23:00 at -0100 is midnight UTC on day 4) is not a day-3 row by its
    # date, so only matching by id keeps it from doubling.
    assert wh.load_partitions("c1", again) == {D1: 1, D3: 3}
    assert table(wh) == {12: "User updated", 21: "User created", 31: "User created", 32: "Group created",
                         33: "User created"}
    with wh.reader() as con:
        parts = dict(con.execute("SELECT day, record_count FROM collected_partitions WHERE connector = 'c1'").fetchall())
        assert con.execute("SELECT count(*) FROM audit_records").fetchone()[0] == 5
    assert parts == {D1: 1, D2: 1, D3: 3}

    # An emptied day keeps its row in collected_partitions with a count of 0.
    assert wh.load_partitions("c1", {D2: write(tmp_path, D2, [])}) == {D2: 0}
    assert 21 not in table(wh)
    with wh.reader() as con:
        assert con.execute("SELECT record_count FROM collected_partitions WHERE day = ?", [D2]).fetchone()[0] == 0


def test_a_failing_load_leaves_every_day_as_it_was(tmp_path):
    wh = Warehouse(tmp_path)
    ok = {D1: write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000")])}
    wh.load_partitions("c1", ok)
    # A readable file without the table's columns: the DELETE of day 1 has run when the
    # INSERT fails, so only the rollback keeps day 1.
    broken = tmp_path / "broken.parquet"
    pq.write_table(pa.table({"id": pa.array([11], pa.int64())}), broken)
    replacement = write(tmp_path, D2, [rec(21, "2026-03-02T01:00:00.000+0000")])
    try:
        wh.load_partitions("c1", {D1: broken, D2: replacement})
    except Exception:
        pass
    else:
        raise AssertionError("a corrupt file must fail the load")
    assert table(wh) == {11: "User created"}


def test_day_loader_loads_days_as_they_come_and_reports_a_failure_at_finish(tmp_path):
    from jira_etl.storage.loader import DayLoader

    wh = Warehouse(tmp_path)
    loader = DayLoader(wh, "c1")
    loader.add(D2, write(tmp_path, D2, [rec(21, "2026-03-02T12:00:00.000+0000")]))
    loader.add(D1, write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000"), rec(12, "2026-03-01T02:00:00.000+0000")]))
    assert loader.finish() == {D1: 2, D2: 1}
    assert set(table(wh)) == {11, 12, 21}

    # A file the table cannot take: finish raises, and the day before it stays loaded.
    broken = tmp_path / "broken.parquet"
    pq.write_table(pa.table({"id": pa.array([31], pa.int64())}), broken)
    loader = DayLoader(wh, "c1")
    loader.add(D3, broken)
    try:
        loader.finish()
    except Exception as exc:  # DuckDB's binder error, raised in the caller's thread
        assert "raw" in str(exc) or "column" in str(exc).lower(), exc
    else:
        raise AssertionError("finish must raise the failed load")
    assert set(table(wh)) == {11, 12, 21}

    # Abandoned: nothing is added afterwards.
    loader = DayLoader(wh, "c1")
    loader.abandon()
    try:
        loader.add(D3, broken)
    except RuntimeError:
        pass
    else:
        raise AssertionError("a closed loader takes no more days")


def test_a_reader_and_a_writer_of_one_process_take_turns_instead_of_failing(tmp_path):
    """DuckDB refuses a read-write connection while the same process holds a read-only
    one (and the reverse); threads of one run (background loads and findings, the
    extraction's attempt record) must wait for each other, not fail."""
    import threading
    import time

    wh = Warehouse(tmp_path)
    wh.load_partitions("c1", {D1: write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000")])})
    reading, errors, order = threading.Event(), [], []

    def read():
        try:
            with wh.reader() as con:
                reading.set()
                time.sleep(0.3)
                order.append(("read", con.execute("SELECT count(*) FROM audit_records").fetchone()[0]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            reading.set()

    t = threading.Thread(target=read)
    t.start()
    assert reading.wait(10)
    # Another Warehouse object of the same file, as each asset builds its own.
    Warehouse(tmp_path).record_attempt("c1", True, D1, D1)
    order.append(("write", None))
    t.join()
    assert errors == []
    assert order == [("read", 1), ("write", None)]
    with wh.reader() as con:
        assert con.execute("SELECT count(*) FROM collection_attempts").fetchone()[0] == 1


def test_day_loader_reports_each_load(tmp_path):
    import time

    from jira_etl.storage.loader import DayLoader

    calls = []
    wh = Warehouse(tmp_path)
    loader = DayLoader(wh, "c1", on_loaded=lambda counts: calls.append(dict(counts)))
    loader.add(D1, write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000")]))
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == [{D1: 1}]
    loader.add(D2, write(tmp_path, D2, [rec(21, "2026-03-02T01:00:00.000+0000"), rec(22, "2026-03-02T02:00:00.000+0000")]))
    assert loader.finish() == {D1: 1, D2: 2}
    assert calls == [{D1: 1}, {D2: 2}]
    assert set(table(wh)) == {11, 21, 22}


def test_day_loader_loads_published_days_before_reporting(tmp_path):
    """A day published while another loads is loaded before `on_loaded` runs, and both
    are reported together: the findings of the first must not keep the second out."""
    import time

    from jira_etl.storage.loader import DayLoader

    calls = []
    d2_file = write(tmp_path, D2, [rec(21, "2026-03-02T01:00:00.000+0000"), rec(22, "2026-03-02T02:00:00.000+0000")])

    class PublishesDuringTheFirstLoad(Warehouse):
        loads = 0

        def load_partitions(self, connector, files):
            self.loads += 1
            if self.loads == 1:
                loader.add(D2, d2_file)  # the collector publishes the next day meanwhile
            return super().load_partitions(connector, files)

    wh = PublishesDuringTheFirstLoad(tmp_path)
    loader = DayLoader(wh, "c1", on_loaded=lambda counts: calls.append(dict(counts)))
    loader.add(D1, write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000")]))
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:  # finish() would close it to new days
        time.sleep(0.01)
    assert loader.finish() == {D1: 1, D2: 2}
    assert wh.loads == 2 and calls == [{D1: 1, D2: 2}]


def test_day_loader_wait_loaded_does_not_wait_for_on_loaded(tmp_path):
    """wait_loaded returns once the days are in DuckDB, while the last on_loaded (a
    run's findings) still runs; finish waits for it too."""
    import threading

    from jira_etl.storage.loader import DayLoader

    started, release, done = threading.Event(), threading.Event(), []

    def on_loaded(counts):
        started.set()
        assert release.wait(10)
        done.append(dict(counts))

    wh = Warehouse(tmp_path)
    loader = DayLoader(wh, "c1", on_loaded=on_loaded)
    loader.add(D1, write(tmp_path, D1, [rec(11, "2026-03-01T01:00:00.000+0000")]))
    assert started.wait(10)
    assert loader.wait_loaded() == {D1: 1} and done == []  # on_loaded still running
    with wh.reader() as con:  # the day is readable meanwhile
        assert con.execute("SELECT count(*) FROM audit_records").fetchone()[0] == 1
    release.set()
    assert loader.finish() == {D1: 1} and done == [{D1: 1}]


def test_loads_write_row_groups_of_the_writer_size(tmp_path):
    """The writer attaches the file with WRITE_ROW_GROUP_SIZE, so a day bigger than one
    row group is written as several (DuckDB's default would keep 70k rows in one)."""
    from jira_etl.storage.warehouse import WRITE_ROW_GROUP_SIZE

    n = WRITE_ROW_GROUP_SIZE + 8_560
    records = [rec(100_000 + i, f"2026-03-01T{i * 86_399 // n // 3600:02d}:{i * 86_399 // n // 60 % 60:02d}:"
                                f"{i * 86_399 // n % 60:02d}.{i % 1000:03d}+0000") for i in range(n)]
    wh = Warehouse(tmp_path)
    assert wh.load_partitions("c1", {D1: write(tmp_path, D1, records)}) == {D1: n}
    with wh.reader() as con:
        groups = con.execute("SELECT row_group_id, max(count) FROM pragma_storage_info('audit_records') "
                             "GROUP BY row_group_id ORDER BY 1").fetchall()
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM audit_records").fetchone() == (n, n)
    assert len(groups) >= 2 and max(c for _, c in groups) <= WRITE_ROW_GROUP_SIZE


def test_a_batch_holding_an_id_twice_is_refused_and_changes_nothing(tmp_path):
    import duckdb
    import pytest

    wh = Warehouse(tmp_path)
    before = {D1: write(tmp_path, D1, [rec(11, "2026-03-01T10:00:00.000+0000")]),
              D2: write(tmp_path, D2, [rec(21, "2026-03-02T10:00:00.000+0000")])}
    wh.load_partitions("c1", before)
    # The same id in two days of one batch, then twice in one file: either would make two
    # rows of one (connector, id), which the table holds once.
    across = {D1: write(tmp_path, D1, [rec(11, "2026-03-01T10:00:00.000+0000", "User updated")]),
              D2: write(tmp_path, D2, [rec(11, "2026-03-02T10:00:00.000+0000"), rec(22, "2026-03-02T11:00:00.000+0000")])}
    with pytest.raises(duckdb.Error, match="1 repeated record id"):
        wh.load_partitions("c1", across)
    twice = pa.concat_tables([normalize.to_table([rec(31, "2026-03-03T10:00:00.000+0000")], "c1")] * 2)
    path = lake.write_partition(twice, tmp_path, "c1", D3)
    with pytest.raises(duckdb.Error, match="repeated record id"):
        wh.load_partitions("c1", {D3: path})
    assert table(wh) == {11: "User created", 21: "User created"}
    with wh.reader() as con:
        assert dict(con.execute("SELECT day, record_count FROM collected_partitions").fetchall()) == {D1: 1, D2: 1}


def test_a_new_warehouse_has_no_key_index_and_an_old_one_keeps_its_key(tmp_path):
    import duckdb

    wh = Warehouse(tmp_path / "new")
    wh.load_partitions("c1", {D1: write(tmp_path / "new", D1, [rec(11, "2026-03-01T10:00:00.000+0000")])})
    with wh.reader() as con:
        assert con.execute("SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'audit_records'").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'audit_records' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchone()[0] == 0
    # A table made by an earlier release (with the key) is used as it is: loads and re-loads work.
    (tmp_path / "old").mkdir()
    with duckdb.connect(str(tmp_path / "old" / "jira_audit.duckdb")) as con:
        from jira_etl.storage import schema

        ddl = next(s for s in schema.sql_file("schema.sql") if "CREATE TABLE IF NOT EXISTS audit_records" in s)
        con.execute(ddl.replace("ingested_at             TIMESTAMPTZ NOT NULL",
                                "ingested_at             TIMESTAMPTZ NOT NULL, PRIMARY KEY (connector, id)"))
    old = Warehouse(tmp_path / "old")
    files = {D1: write(tmp_path / "old", D1, [rec(11, "2026-03-01T10:00:00.000+0000")])}
    assert old.load_partitions("c1", files) == {D1: 1}
    assert old.load_partitions("c1", files) == {D1: 1}
    with old.reader() as con:
        assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'audit_records' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM audit_records").fetchone()[0] == 1


def _row_groups(wh: Warehouse) -> int:
    from jira_etl.storage.warehouse import row_groups

    with wh.reader() as con:
        return row_groups(con)[0]


def test_writes_leave_part_full_row_groups_unmerged_until_the_table_is_fragmented(tmp_path, monkeypatch):
    """A write's checkpoint does not rewrite the row groups of earlier loads (DuckDB's
    merge: after a heavy day, the next write rewrote the day); a load of a new day that
    finds more row groups than FRAGMENTED_FACTOR x needed + FRAGMENTED_SLACK merges them."""
    from jira_etl.storage import warehouse

    monkeypatch.setattr(warehouse, "FRAGMENTED_SLACK", 3)
    wh = Warehouse(tmp_path)
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(7)]
    groups = []
    for i, day in enumerate(days):
        wh.load_partitions("c1", {day: write(tmp_path, day, [rec(1000 * i + k, f"{day.isoformat()}T0{k}:00:00.000+0000")
                                                             for k in range(3)])})
        groups.append(_row_groups(wh))
        wh.record_attempt("c1", True, day, day)  # a write to another table merges nothing either
        assert _row_groups(wh) == groups[-1]
    # one part-full row group a new day, up to 2 x 1 + 3 = 5; the load that makes 6 merges
    assert groups == [1, 2, 3, 4, 5, 1, 2]
    with wh.reader() as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM audit_records").fetchone() == (21, 21)
    # a day loaded again does not count row groups (it adds one and empties part of another)
    again = wh.load_partitions("c1", {days[0]: write(tmp_path, days[0], [rec(1, f"{days[0].isoformat()}T09:00:00.000+0000")])})
    assert again == {days[0]: 1} and _row_groups(wh) == 3
    assert set(table(wh)) == {1} | {1000 * i + k for i in range(1, 7) for k in range(3)}


def test_a_complete_walk_records_its_capped_instants_and_attempt_together(tmp_path):
    wh = Warehouse(tmp_path)
    since = dt.datetime(2026, 3, 1, tzinfo=UTC)
    at = since + dt.timedelta(hours=3)
    wh.record_collected("c1", {D1: (since, [(at, 10_000)])}, D1, D2)

    def state():
        with wh.reader() as con:
            return (con.execute("SELECT day, instant, records_listed FROM capped_instants").fetchall(),
                    con.execute("SELECT ok, first_day, last_day FROM collection_attempts").fetchall())

    assert state() == ([(D1, at, 10_000)], [(True, D1, D2)])
    # one transaction: a write that fails half-way leaves neither table changed
    try:
        wh.record_collected("c1", {D2: (since, [(at, "not a count")])}, D2, D2)
    except Exception:  # noqa: BLE001 - DuckDB's conversion error
        pass
    else:
        raise AssertionError("a listed count that is not a number must fail")
    assert state() == ([(D1, at, 10_000)], [(True, D1, D2)])
