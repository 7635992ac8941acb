"""The pandas hook (JIRA_ETL_TRANSFORM): a user's function changes records before they are
stored, through a real backfill into Parquet and DuckDB; one that drops records fails."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from jira_etl import transform
from jira_etl.defs.definitions import collection_assets
from jira_etl.defs.resources import JiraResource, StorageResource
from jira_etl.settings import ConfigError
from jira_etl.simulator.data import SiteData
from jira_etl.simulator.server import JiraSimulator
from jira_etl.storage import lake

DAY = dt.date(2026, 3, 2)


def backfill(sim, data_dir, instance):
    return dg.materialize(
        collection_assets("acme"), instance=instance, partition_key=DAY.isoformat(), raise_on_error=False,
        resources={"jira_acme": JiraResource(connector="acme", site=sim.url, email=sim.email, api_token=sim.token),
                   "storage": StorageResource(data_dir=str(data_dir))})


def test_a_transform_changes_what_is_stored(data_dir, instance, monkeypatch):
    monkeypatch.setenv(transform.ENV, "transform_hooks:redact_addresses")
    site = SiteData(seed=3, start=DAY - dt.timedelta(days=2))
    with JiraSimulator(site) as sim:
        assert backfill(sim, data_dir, instance).success
    stored = pq.read_table(lake.partition_file(data_dir, "acme", DAY))
    addresses = set(stored.column("remote_address").drop_null().to_pylist())
    assert stored.num_rows > 50 and addresses == {"redacted"}
    with duckdb.connect(str(data_dir / "jira_audit.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT remote_address) FROM audit_records").fetchone()[0] == 1
    # `raw` keeps the record as Jira sent it: the transform decides what else changes.
    assert any('"remoteAddress"' in r for r in stored.column("raw").to_pylist())


def test_without_a_transform_records_are_stored_as_received(data_dir, instance, monkeypatch):
    monkeypatch.delenv(transform.ENV, raising=False)
    site = SiteData(seed=3, start=DAY - dt.timedelta(days=2))
    with JiraSimulator(site) as sim:
        assert backfill(sim, data_dir, instance).success
    stored = pq.read_table(lake.partition_file(data_dir, "acme", DAY))
    assert len(set(stored.column("remote_address").drop_null().to_pylist())) > 1


@pytest.mark.parametrize("spec, words", [
    ("transform_hooks:drop_half", "must keep every record"),
    ("transform_hooks:not_a_frame", "not a DataFrame"),
    ("transform_hooks:missing", "cannot load"),
    ("no_colon_here", "package.module:function"),
])
def test_a_transform_that_breaks_the_records_fails_the_run(data_dir, instance, monkeypatch, spec, words):
    monkeypatch.setenv(transform.ENV, spec)
    transform._load.cache_clear()
    site = SiteData(seed=3, start=DAY - dt.timedelta(days=2))
    with JiraSimulator(site) as sim:
        result = backfill(sim, data_dir, instance)
    assert not result.success
    assert not lake.partition_file(data_dir, "acme", DAY).exists()
    with pytest.raises(ConfigError, match=words):
        transform.apply(_one_row())


def _one_row():
    from jira_etl import normalize

    return normalize.to_table([{"id": 1, "created": "2026-03-02T10:00:00.000+0000", "summary": "x"}], "acme")
