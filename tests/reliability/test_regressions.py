"""Regression tests for the failures the reliability harness found (one per fix)."""

import datetime as dt
import os
import subprocess
import sys
import time

import pyarrow.parquet as pq

from jira_etl.normalize import SCHEMA
from jira_etl.storage import lake


def test_a_killed_writers_temporary_is_removed_by_the_next_write_never_a_live_one(tmp_path):
    """Regression: a SIGKILLed backfill left `.data.parquet.<uuid>.tmp` in the partition
    folder forever (nothing removed it). Temporaries now carry the writer's pid; the next
    write of the day removes those whose process is gone, and never one that is alive."""
    day = dt.date(2026, 3, 1)
    folder = lake.partition_dir(tmp_path, "acme", day)
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = lake._host()
        stale = folder / f".data.parquet.{host}.{dead.pid}.0123abcd.tmp"
        busy = folder / f".data.parquet.{host}.{live.pid}.4567cdef.tmp"
        stale.write_bytes(b"half a file")
        busy.write_bytes(b"being written")
        lake.write_partition(SCHEMA.empty_table(), tmp_path, "acme", day)
        assert not stale.exists() and busy.exists()
        with lake.PartitionWriter(tmp_path, "acme", day + dt.timedelta(days=1)) as w:
            assert w._tmp.name.split(".")[3:5] == [host, str(os.getpid())]
        assert pq.read_table(lake.partition_file(tmp_path, "acme", day)).num_rows == 0
        assert lake.remove_stale_temporaries(tmp_path) == 0 and busy.exists()
    finally:
        live.kill()
        live.wait()
    assert lake.remove_stale_temporaries(tmp_path) == 1 and not busy.exists()


def test_a_temporary_of_another_host_is_never_taken_for_a_dead_local_writer(tmp_path):
    """Containers sharing a volume repeat pids: a temporary named by another host's live
    writer, whose pid is free here, must survive; one older than a day is a leftover."""
    day = dt.date(2026, 3, 1)
    folder = lake.partition_dir(tmp_path, "acme", day)
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    other = folder / f".data.parquet.other-host.{dead.pid}.0123abcd.tmp"
    other.write_bytes(b"being written elsewhere")
    assert lake.remove_stale_temporaries(tmp_path) == 0 and other.exists()
    old = time.time() - 25 * 3600
    os.utime(other, (old, old))
    assert lake.remove_stale_temporaries(tmp_path) == 1 and not other.exists()
    legacy = folder / f".data.parquet.{dead.pid}.4567cdef.tmp"  # a release before hosts were named
    legacy.write_bytes(b"half a file")
    assert lake.remove_stale_temporaries(tmp_path) == 1 and not legacy.exists()


def _page(records):
    return {"offset": 0, "limit": 1000, "total": len(records), "records": records}


def test_odd_record_ids_are_dropped_by_one_rule_never_a_crash(tmp_path):
    """Regression: an id such as "--5" or "²" passed the walk's isdigit() test and then
    crashed int() (ValueError: the whole run failed); an id beyond 64 bits was counted as
    received by the walk but dropped by the normalizer (written != received)."""
    from jira_etl.collect import collect_day
    from jira_etl.sources.client import JiraClient
    from jira_etl.records import record_id
    from jira_etl.reliability.badinput import canned_server

    day = dt.date(2026, 3, 1)
    at = lambda h: f"2026-03-01T{h:02d}:00:00.000+0000"  # noqa: E731
    odd = ["--5", "\u00b2", "\u0661\u0662", 2**70, "1" * 40, True, 3.5, None, "+4", ""]
    records = [{"id": v, "created": at(1 + i)} for i, v in enumerate(odd)]
    records += [{"id": "31", "created": at(20)}, {"id": " 27 ", "created": at(21)}, {"id": -26, "created": at(22)}]
    assert [record_id(v) for v in odd] == [None] * len(odd)
    with canned_server(_page(records[::-1])) as url:
        client = JiraClient(url, email="a@b.example", api_token="t")
        result = collect_day(client, "acme", day, tmp_path, slices=1, concurrency=1)
    table = pq.read_table(result.path)
    assert sorted(table.column("id").to_pylist()) == [-26, 27, 31]
    assert result.rows == result.unique_received == 3
    assert result.walk.without_id_dropped == len(odd)


def test_a_body_without_records_fails_instead_of_publishing_an_empty_day(tmp_path):
    """Regression: `{"offset": 0, "total": 3}` (no 'records', e.g. a proxy's JSON) was read
    as an empty page, which ends the window: the day was published with no records."""
    import pytest

    from jira_etl.collect import collect_day
    from jira_etl.sources.client import JiraClient, RetryPolicy, UnexpectedResponseError
    from jira_etl.reliability.badinput import canned_server

    day = dt.date(2026, 3, 1)
    with canned_server({"offset": 0, "limit": 1000, "total": 3}) as url:
        client = JiraClient(url, email="a@b.example", api_token="t", retry=RetryPolicy(max_retries=0))
        with pytest.raises(UnexpectedResponseError, match="records"):
            collect_day(client, "acme", day, tmp_path, slices=1, concurrency=1)
    assert not lake.partition_file(tmp_path, "acme", day).exists()


def test_a_non_latin1_email_is_sent_as_utf8_not_a_crash():
    """Regression: requests encodes Basic credentials as Latin-1, so an email such as
    用户@example.com raised UnicodeEncodeError (a traceback from test-connection)."""
    import pytest

    from jira_etl.sources.client import AuthenticationError, JiraClient
    from jira_etl.simulator.data import SiteData
    from jira_etl.simulator.server import JiraSimulator

    with JiraSimulator(SiteData(seed=3), email="\u7528\u6237@example.com", token="tok") as sim:
        assert JiraClient(sim.url, email=sim.email, api_token="tok").myself()["accountId"]
        with pytest.raises(AuthenticationError):
            JiraClient(sim.url, email="\u7528\u6237@example.com", api_token="wrong").myself()


def test_site_tricks_are_refused_with_the_field_named_never_a_traceback():
    """Regression: urlsplit's ValueError (a broken IPv6 literal, a fullwidth solidus that
    NFKC turns into '/') escaped resolve_site as a traceback, and a host with look-alike
    letters (Cyrillic 'а' in аcme.atlassian.net) was accepted."""
    import pytest

    from jira_etl.settings import ConfigError, resolve_site

    for site in ["http://[::1", "https://evil.example\uff0f.atlassian.net", "https://\u0430cme.atlassian.net",
                 "https://acme.atlassian.net\t@evil.example", "https://acme.atlassian.net@evil.example",
                 "http://evil.example", "acme.atlassian.net.evil.example"]:
        with pytest.raises(ConfigError, match="JIRA_SITE"):
            resolve_site(site)
    assert resolve_site("acme") == "https://acme.atlassian.net"
    assert resolve_site("https://jira.acme.example/") == "https://jira.acme.example"
    assert resolve_site("http://[::1]:8080") == "http://[::1]:8080"


def test_a_token_with_a_curly_quote_or_control_character_is_refused_without_echo():
    """Regression: a token pasted with a curly quote reached requests, which raised
    UnicodeEncodeError (a traceback from test-connection; 'UnicodeEncodeError' as the
    backfill's only message), naming no field."""
    import pytest

    from jira_etl.settings import ConfigError, validate_token

    for bad in ["s3cret\u2019", "s3cret\x01", "s3cr\u00e9t", "s3cret\u200b"]:
        with pytest.raises(ConfigError, match="JIRA_API_TOKEN") as err:
            validate_token(bad)
        assert "s3cr" not in str(err.value)
    assert validate_token(" ATATT3xFf-_=+/09 ") == "ATATT3xFf-_=+/09"


def test_credentials_without_a_site_and_unreadable_connectors_files_are_config_errors(tmp_path, monkeypatch):
    """Regression: JIRA_EMAIL/JIRA_API_TOKEN set but JIRA_SITE empty silently collected
    the built-in simulator's records (exit 0, rows written); a connectors file that is a
    directory or not UTF-8 raised IsADirectoryError/UnicodeDecodeError (tracebacks)."""
    import pytest

    from jira_etl.connectors import configured_connectors
    from jira_etl.settings import ConfigError

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JIRA_EMAIL", "a@b.example")
    monkeypatch.setenv("JIRA_API_TOKEN", "s3cret")
    with pytest.raises(ConfigError, match="JIRA_SITE is not set") as err:
        configured_connectors()
    assert "s3cret" not in str(err.value)
    monkeypatch.delenv("JIRA_EMAIL")
    monkeypatch.delenv("JIRA_API_TOKEN")
    assert [c.name for c in configured_connectors()] == ["demo"]
    folder = tmp_path / "conf.d"
    folder.mkdir()
    monkeypatch.setenv("JIRA_ETL_CONNECTORS", str(folder))
    with pytest.raises(ConfigError, match="JIRA_ETL_CONNECTORS"):
        configured_connectors()
    binary = tmp_path / "connectors.yaml"
    binary.write_bytes(b"connectors:\n  - name: \xff\xfe\n")
    monkeypatch.setenv("JIRA_ETL_CONNECTORS", str(binary))
    with pytest.raises(ConfigError, match="connectors.yaml"):
        configured_connectors()
