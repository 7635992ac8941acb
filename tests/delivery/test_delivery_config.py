"""Destinations from the environment and delivery.yaml: strict validation, each error
naming the file, the destination and the field, never quoting a URL; the sensor."""

from __future__ import annotations

import dagster as dg
import pytest
from receivers import HttpReceiver

from jira_etl.defs.sensors import deliver_findings
from jira_etl.delivery.config import configured_destinations
from jira_etl.settings import ConfigError

SECRET_URL = "https://hooks.example.com/services/T0/B0/s3cr3t-t0ken"


@pytest.fixture
def clean(monkeypatch, tmp_path):
    from delivery_helpers import DELIVERY_ENV

    for var in DELIVERY_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(tmp_path, text: str):
    (tmp_path / "delivery.yaml").write_text(text)


def test_environment_destinations(clean, monkeypatch):
    assert configured_destinations() == []
    monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", SECRET_URL)
    monkeypatch.setenv("JIRA_ETL_SYSLOG_URL", "tls://siem.example.com:6514")
    monkeypatch.setenv("JIRA_ETL_ALERT_MIN_SEVERITY", "HIGH")
    dests = {d.name: d for d in configured_destinations()}
    assert set(dests) == {"webhook", "syslog"} and dests["webhook"].min_severity == "high"
    assert dests["webhook"].url() == SECRET_URL and "s3cr3t" not in repr(dests)


@pytest.mark.parametrize("text, env, expect", [
    ("destinations:\n  - {name: a, type: webhook, url_env: HOOK, colour: red}\n", {"HOOK": SECRET_URL},
     "destination 'a': unknown field(s) colour"),
    ("destinations:\n  - {name: a, type: pager, url_env: HOOK}\n", {"HOOK": SECRET_URL}, "field 'type' must be one of"),
    ("destinations:\n  - {name: a, type: slack, url: '" + SECRET_URL + "'}\n", {},
     "field 'url' is for syslog only"),
    ("destinations:\n  - {name: a, type: slack, url_env: NOT_SET_ANYWHERE}\n", {},
     "names environment variable NOT_SET_ANYWHERE, which is not set"),
    ("destinations:\n  - {name: a, type: teams, url_env: HOOK, min_severity: urgent}\n", {"HOOK": SECRET_URL},
     "field 'min_severity': must be one of low, medium, high, critical"),
    ("destinations:\n  - {name: a, type: webhook, url_env: HOOK}\n", {"HOOK": SECRET_URL.replace("https", "http")},
     "environment variable HOOK: must be an https:// URL"),
    ("destinations:\n  - {name: a, type: syslog, url: 'udp://siem:514'}\n", {}, "must be tcp://host:port or tls://"),
    ("destinations:\n  - {name: a, type: syslog, url: 'tls://siem:6514', ca_file: /nope.pem}\n", {},
     "field 'ca_file': must name a readable PEM file"),
    ("destinations:\n  - {name: a, type: webhook, url_env: HOOK, connectors: acme}\n", {"HOOK": SECRET_URL},
     "field 'connectors' must be a non-empty list"),
    ("destinations:\n  - {name: a, type: webhook, url_env: HOOK, timeout_seconds: 0}\n", {"HOOK": SECRET_URL},
     "field 'timeout_seconds': must be between"),
    ("destinations:\n  - {name: Bad Name, type: webhook, url_env: HOOK}\n", {"HOOK": SECRET_URL},
     "destination #1: field 'name'"),
    ("destinations:\n  - {name: webhook, type: webhook, url_env: HOOK}\n",
     {"HOOK": SECRET_URL, "JIRA_ETL_WEBHOOK_URL": SECRET_URL}, "destination 'webhook' is defined twice"),
    ("targets: []\n", {}, "expected a mapping with one key, 'destinations'"),
    ("destinations: [\n", {}, "not valid YAML"),
])
def test_bad_configuration_names_the_field(clean, monkeypatch, text, env, expect):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    write(clean, text)
    with pytest.raises(ConfigError) as err:
        configured_destinations()
    message = str(err.value)
    assert expect in message, message
    assert "s3cr3t" not in message
    assert "delivery.yaml" in message or "destination 'webhook'" in message


def test_config_file_from_env(clean, monkeypatch, tmp_path):
    path = tmp_path / "elsewhere.yaml"
    path.write_text("destinations:\n  - {name: siem, type: syslog, url: 'tcp://127.0.0.1:5514', "
                    "min_severity: critical, connectors: [acme]}\n")
    monkeypatch.setenv("JIRA_ETL_DELIVERY_CONFIG", str(path))
    (d,) = configured_destinations()
    assert (d.name, d.kind, d.min_severity, d.connectors) == ("siem", "syslog", "critical", ("acme",))
    assert not d.wants({"severity": "high", "connector": "acme"}) and d.wants({"severity": "critical",
                                                                              "connector": "acme"})
    assert not d.wants({"severity": "critical", "connector": "beta"})
    assert not d.wants({"severity": "critical", "connector": "acme", "suppressed": True})
    monkeypatch.setenv("JIRA_ETL_DELIVERY_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="JIRA_ETL_DELIVERY_CONFIG"):
        configured_destinations()


def test_sensor_ships_stopped_and_runs_a_pass(findings_site, monkeypatch, tmp_path):
    assert deliver_findings.default_status == dg.DefaultSensorStatus.STOPPED
    assert deliver_findings.minimum_interval_seconds == 60
    with HttpReceiver(fail_first=1) as rx, dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        monkeypatch.setenv("JIRA_ETL_WEBHOOK_URL", rx.url("/hook/s3cr3t-t0ken"))
        first = deliver_findings(dg.build_sensor_context(instance=instance))
        second = deliver_findings(dg.build_sensor_context(instance=instance))
        third = deliver_findings(dg.build_sensor_context(instance=instance))
    assert isinstance(first, dg.SkipReason) and "pending for webhook" in first.skip_message
    assert "nothing pending" in second.skip_message and "nothing pending" in third.skip_message
    assert third.skip_message.startswith("0 sent")
    assert sorted(b["id"] for _, b in rx.received) == sorted(findings_site.wanted())
    for m in (first, second, third):
        assert "s3cr3t" not in m.skip_message


def test_definitions_carry_the_sensor_and_the_ocsf_asset():
    from jira_etl.definitions import defs

    assert [s.name for s in defs.sensors] == ["deliver_findings"]
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert "demo/ocsf_events" in keys
