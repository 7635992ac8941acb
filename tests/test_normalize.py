import datetime as dt
import json

import pandas as pd
import pyarrow as pa

from jira_etl.normalize import SCHEMA, from_dataframe, normalize, to_table

UTC = dt.timezone.utc


def full_record(**over):
    rec = {
        "id": 12001,
        "summary": "User added to group",
        "created": "2026-03-02T09:14:03.512+0000",
        "category": "group management",
        "eventSource": "",
        "remoteAddress": "203.0.113.7",
        "authorKey": "ug:6b1d",
        "authorAccountId": "5f0c1a",
        "objectItem": {"name": "site-admins", "typeName": "GROUP", "parentId": "10000", "parentName": "Dir"},
        "changedValues": [{"fieldName": "Username", "changedFrom": "a", "changedTo": "b"}],
        "associatedItems": [{"id": "ug:9e2a", "name": "ug:9e2a", "typeName": "USER", "parentId": "10000", "parentName": "IDP"}],
    }
    rec.update(over)
    return rec


def test_full_record_maps_every_column():
    table = to_table([full_record()], "acme", dt.datetime(2026, 3, 3, tzinfo=UTC))
    assert table.schema == SCHEMA
    row = table.to_pylist()[0]
    assert row["connector"] == "acme" and row["id"] == 12001
    assert row["created"] == dt.datetime(2026, 3, 2, 9, 14, 3, 512000, tzinfo=UTC)
    assert row["object_item_name"] == "site-admins" and row["object_item_id"] is None
    assert row["object_item_type_name"] == "GROUP" and row["object_item_parent_id"] == "10000"
    assert row["changed_values"] == [{"field_name": "Username", "changed_from": "a", "changed_to": "b"}]
    assert row["associated_items"][0]["type_name"] == "USER"
    assert row["author_account_id"] == "5f0c1a" and row["remote_address"] == "203.0.113.7"
    assert json.loads(row["raw"]) == full_record()
    assert row["ingested_at"] == dt.datetime(2026, 3, 3, tzinfo=UTC)


def test_offsets_are_stored_as_utc_instants():
    rows = to_table([full_record(id=1, created="2026-03-02T05:30:00.000+0530"),
                     full_record(id=2, created="2026-03-01T23:59:59.999-0100")], "c").to_pylist()
    assert rows[0]["created"] == dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert rows[1]["created"] == dt.datetime(2026, 3, 2, 0, 59, 59, 999000, tzinfo=UTC)


def test_odd_records_never_crash_and_keep_raw():
    odd = [
        {"id": 1},  # everything missing
        {"id": 2, "summary": None, "objectItem": None, "changedValues": None, "associatedItems": None},
        {"id": 3, "summary": 42, "objectItem": "not an object", "changedValues": [None, 5, {"fieldName": "x"}],
         "associatedItems": {"id": 1}, "newFieldFromJira": {"nested": [1, 2]}},
        {"id": "4", "created": "not a date", "remoteAddress": ["a"], "description": "ü" * 100_000},
        {"id": 5, "summary": "emoji 🔐 and \u0000 nul", "objectItem": {"name": "名前", "id": 77}},
        {"id": 6, "summary": "lone \ud800 surrogate"},
        {"id": None, "summary": "no id"},
        {"id": True},
        "not a dict",
    ]
    table = to_table(odd, "c")
    rows = {r["id"]: r for r in table.to_pylist()}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[1]["created"] is None and rows[1]["changed_values"] == []
    assert rows[3]["summary"] == "42" and rows[3]["object_item_name"] is None
    assert rows[3]["changed_values"] == [{"field_name": "x", "changed_from": None, "changed_to": None}]
    assert json.loads(rows[3]["raw"])["newFieldFromJira"] == {"nested": [1, 2]}
    assert rows[4]["created"] is None and len(rows[4]["description"]) == 100_000
    assert rows[4]["remote_address"] == '["a"]'
    assert rows[5]["object_item_name"] == "名前" and rows[5]["object_item_id"] == "77"
    assert "\ud800" in json.loads(rows[6]["raw"])["summary"]
    rows[6]["summary"].encode("utf-8")  # storable


def test_dataframe_stage_keeps_nested_types():
    df = normalize([full_record(), full_record(id=2, changedValues=[])], "c")
    assert all(isinstance(t, pd.ArrowDtype) for t in df.dtypes)
    assert df["changed_values"].dtype.pyarrow_dtype == SCHEMA.field("changed_values").type
    assert from_dataframe(df).schema == SCHEMA
    assert from_dataframe(df).to_pylist() == to_table([full_record(), full_record(id=2, changedValues=[])], "c",
                                                       df["ingested_at"].iloc[0].to_pydatetime()).to_pylist()


def test_dataframe_stage_round_trip_after_pandas_changes():
    """Arrow-dtype columns go back as they are; a frame filtered or with a column pandas
    code turned into plain objects still comes back equal, in the schema."""
    records = [full_record(id=i, summary=f"s{i}") for i in range(1, 6)]
    ingested = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # one instant for both
    table = to_table(records, "c", ingested)
    df = normalize(records, "c", ingested)
    kept = df.iloc[[0, 2, 4]]  # a filtered frame: arrays taken, index 0, 2, 4
    back = from_dataframe(kept)
    assert back.schema == SCHEMA
    assert back.to_pylist() == table.take([0, 2, 4]).to_pylist()
    assert from_dataframe(df.iloc[3:]).to_pylist() == table.slice(3).to_pylist()  # a slice: arrays with an offset
    plain = df.copy()
    plain["summary"] = plain["summary"].astype(object)  # no longer an Arrow dtype
    assert from_dataframe(plain).schema == SCHEMA
    assert from_dataframe(plain).to_pylist() == from_dataframe(df).to_pylist() == table.to_pylist()


def test_empty_input_gives_schema_table():
    table = to_table([], "c")
    assert table.num_rows == 0 and table.schema == SCHEMA
    assert isinstance(table, pa.Table)


def test_arrow_fast_paths_equal_the_careful_path():
    """The C++ conversions (dicts via pa.array, JSON texts via Arrow's reader) must give
    the careful path's table for well-formed records, and fall back for odd ones."""
    import datetime as dt
    import json as _json

    from jira_etl import normalize as n
    from jira_etl.simulator.data import SiteData

    site = SiteData(seed=5)
    recs = []
    for i in range(20):
        recs += site.generate_day(dt.date(2026, 3, 1) + dt.timedelta(days=i))
    recs = _json.loads(_json.dumps(recs))
    ingested = dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)
    ids = [r["id"] for r in recs]
    careful = n._careful_table(recs, ids, "c", ingested)
    fast = n._fast_table(recs, ids, "c", ingested)
    assert fast is not None and fast.equals(careful)
    texts = [_json.dumps(r).encode() for r in recs]
    from_text = n.from_raw(texts, "c", ingested)
    assert from_text.drop_columns(["raw"]).equals(careful.drop_columns(["raw"]))
    assert from_text.column("raw").to_pylist() == [t.decode() for t in texts]
    # An odd page (a number where text belongs) takes the careful path, same rows.
    odd = [dict(r) for r in recs[:50]]
    odd[7]["summary"] = 12
    odd_texts = [_json.dumps(r).encode() for r in odd]
    assert n._fast_from_raw(odd_texts, "c", ingested) is None
    table = n.from_raw(odd_texts, "c", ingested)
    assert table.column("summary")[7].as_py() == "12" and table.num_rows == 50
