"""connectors.yaml and the environment for Jira Data Center, and the strict typed model of
connectors.yaml (issue 16): wrong types, unknown fields and unknown combinations refused
with the field named, refresh intervals cron cannot express refused, secrets never shown."""

from __future__ import annotations

import pytest

from jira_etl.connectors import Connector, configured_connectors, load_file
from jira_etl.defs.resources import JiraResource, client_for, jira_resource
from jira_etl.settings import ConfigError
from jira_etl.sources.datacenter import DataCenterClient

SECRET = "pat-S3cr3t-9zQ"


def write(tmp_path, text):
    path = tmp_path / "connectors.yaml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("DC_PAT", SECRET)
    monkeypatch.setenv("DC_PASSWORD", SECRET)
    monkeypatch.setenv("ACME_TOKEN", SECRET)


def test_datacenter_entries_with_pat_or_password(tmp_path):
    path = write(tmp_path, """connectors:
  - {name: onprem, deployment: datacenter, site: 'https://jira.example.com/jira', pat_env: DC_PAT, refresh_minutes: 30}
  - {name: legacy, deployment: datacenter, site: 'https://jira2.example.com', username: svc.audit, password_env: DC_PASSWORD}
  - {name: paused, enabled: false, site: acme, email: a@b.co, api_token_env: ACME_TOKEN}
""")
    onprem, legacy = load_file(path)
    assert onprem == Connector("onprem", site="https://jira.example.com/jira", deployment="datacenter",
                               pat_env="DC_PAT", refresh_minutes=30)
    assert legacy.username == "svc.audit" and legacy.password_env == "DC_PASSWORD"
    for c in (onprem, legacy):
        res = jira_resource(c)
        assert SECRET not in repr(res.__dict__) and SECRET not in repr(c)
        client = client_for(c)
        assert isinstance(client, DataCenterClient) and SECRET not in repr(client)
    assert client_for(onprem).base_url == "https://jira.example.com/jira"
    shown = JiraResource(connector="x", deployment="datacenter", site="https://j.example.com", pat=SECRET)
    assert SECRET not in repr(shown) and SECRET not in str(shown)


@pytest.mark.parametrize("entry, words", [
    # wrong types: refused, not coerced
    ("{name: a, enabled: 'false', site: acme, email: a@b.co, api_token_env: ACME_TOKEN}", ["field 'enabled'", "true or false"]),
    ("{name: a, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, slices: '4'}", ["field 'slices'", "integer"]),
    ("{name: a, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, concurrency: true}", ["field 'concurrency'"]),
    ("{name: a, site: 12345, email: a@b.co, api_token_env: ACME_TOKEN}", ["field 'site'", "must be text"]),
    ("{name: a, deployment: server, site: 'https://j.example.com', pat_env: DC_PAT}", ["field 'deployment'", "cloud or datacenter"]),
    # refresh intervals cron cannot express: refused, not rounded
    ("{name: a, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, refresh_minutes: 90}",
     ["field 'refresh_minutes'", "90 minutes", "not rounded"]),
    ("{name: a, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, refresh_minutes: 7}", ["field 'refresh_minutes'"]),
    # unknown fields and combinations
    ("{name: a, deployment: datacenter, site: 'https://j.example.com', pat_env: DC_PAT, token: x}", ["unknown field(s) token"]),
    ("{name: a, site: acme, email: a@b.co, api_token_env: ACME_TOKEN, pat_env: DC_PAT}", ["pat_env", "datacenter"]),
    ("{name: a, deployment: datacenter, site: 'https://j.example.com', email: a@b.co, pat_env: DC_PAT}", ["email"]),
    ("{name: a, deployment: datacenter, site: 'https://j.example.com', pat_env: DC_PAT, username: u, password_env: DC_PASSWORD}",
     ["either pat_env or username+password_env"]),
    ("{name: a, deployment: datacenter, site: 'https://j.example.com', username: u}", ["field 'password_env' is missing"]),
    ("{name: a, deployment: datacenter, pat_env: DC_PAT}", ["field 'site' is missing"]),
    ("{name: a, deployment: datacenter, site: 'http://j.example.com/jira', pat_env: DC_PAT}", ["field 'site'", "plain http"]),
    ("{name: a, deployment: datacenter, site: acme, pat_env: DC_PAT}", ["field 'site'", "full URL"]),
    ("{name: a, deployment: datacenter, site: 'https://j.example.com/jira', pat_env: NOT_SET_HERE}",
     ["pat_env", "NOT_SET_HERE", "not set"]),
])
def test_bad_entries_are_refused_with_the_field_named(tmp_path, entry, words):
    path = write(tmp_path, f"connectors: [{entry}]")
    with pytest.raises(ConfigError) as err:
        load_file(path)
    msg = str(err.value)
    assert str(path) in msg and "connector 'a'" in msg
    for w in words:
        assert w in msg, (w, msg)
    assert SECRET not in msg


def test_a_string_entry_and_all_disabled_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_file(write(tmp_path, "connectors: [acme]"))
    with pytest.raises(ConfigError, match="every connector is disabled"):
        load_file(write(tmp_path, "connectors: [{name: a, enabled: false, site: acme, email: a@b.co, api_token_env: ACME_TOKEN}]"))


def test_datacenter_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JIRA_DEPLOYMENT", "datacenter")
    monkeypatch.setenv("JIRA_SITE", "https://jira.example.com/jira")
    with pytest.raises(ConfigError, match="JIRA_PAT"):
        configured_connectors()
    monkeypatch.setenv("JIRA_PAT", SECRET)
    (c,) = configured_connectors()
    assert c.deployment == "datacenter" and c.pat_env == "JIRA_PAT" and c.site_env == "JIRA_SITE"
    client = client_for(c)
    assert isinstance(client, DataCenterClient) and client.base_url == "https://jira.example.com/jira"
    monkeypatch.delenv("JIRA_PAT")
    monkeypatch.setenv("JIRA_USERNAME", "svc")
    monkeypatch.setenv("JIRA_PASSWORD", SECRET)
    (c,) = configured_connectors()
    assert c.username_env == "JIRA_USERNAME" and isinstance(client_for(c), DataCenterClient)
    monkeypatch.setenv("JIRA_DEPLOYMENT", "onprem")
    with pytest.raises(ConfigError, match="JIRA_DEPLOYMENT"):
        configured_connectors()


def test_a_connectors_refresh_minutes_sets_its_schedule(monkeypatch):
    import dagster as dg

    from jira_etl.defs.schedules import refresh_today_schedule

    monkeypatch.setenv("JIRA_ETL_REFRESH_MINUTES", "15")
    job = dg.define_asset_job("j")
    assert refresh_today_schedule(job, "a", 120).cron_schedule == "0 */2 * * *"
    assert refresh_today_schedule(job, "a", None).cron_schedule == "*/15 * * * *"
