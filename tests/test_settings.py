import pytest

from jira_etl.settings import ConfigError, resolve_site, validate_email, validate_token


@pytest.mark.parametrize(
    "value, expected",
    [
        ("acme", "https://acme.atlassian.net"),
        ("Acme-Corp2", "https://acme-corp2.atlassian.net"),
        ("acme.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net", "https://acme.atlassian.net"),
        ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
        ("https://jira.example.com:8443", "https://jira.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9", "http://localhost:9"),
        ("http://[::1]:9", "http://[::1]:9"),
    ],
)
def test_site_accepted(value, expected):
    assert resolve_site(value) == expected


@pytest.mark.parametrize(
    "value, words",
    [
        ("", "empty"),
        ("acme corp", "not a site name"),
        ("-acme", "not a site name"),
        ("acme_corp", "not a site name"),
        ("http://acme.atlassian.net", "plain http"),
        ("http://10.0.0.5", "plain http"),
        ("ftp://acme.atlassian.net", "scheme"),
        ("https://user:pw@acme.atlassian.net", "credentials"),
        ("https://evil.com@acme.atlassian.net", "credentials"),
        ("https://acme.atlassian.net/rest/api/3", "without a path"),
        ("https://acme.atlassian.net?x=1", "query"),
        ("https://", "no host"),
        ("https://acme.atlassian.net:99999", "invalid host or port"),
    ],
)
def test_site_refused_with_clear_message(value, words):
    with pytest.raises(ConfigError) as err:
        resolve_site(value)
    assert "JIRA_SITE" in str(err.value)
    assert words in str(err.value)


def test_email_and_token_validation_never_echo_token():
    assert validate_email(" a@b.co ") == "a@b.co"
    with pytest.raises(ConfigError, match="JIRA_EMAIL"):
        validate_email("not-an-email")
    with pytest.raises(ConfigError) as err:
        validate_token("secret value")
    assert "secret" not in str(err.value)
    with pytest.raises(ConfigError, match="empty"):
        validate_token("  ")


def test_refresh_intervals_cron_cannot_express_are_refused(monkeypatch):
    from jira_etl.settings import ConfigError, refresh_minutes

    for ok in ("15", "20", "60", "120", "720"):
        monkeypatch.setenv("JIRA_ETL_REFRESH_MINUTES", ok)
        assert refresh_minutes() == int(ok)
    for bad in ("90", "7", "45", "300"):
        monkeypatch.setenv("JIRA_ETL_REFRESH_MINUTES", bad)
        with pytest.raises(ConfigError, match=f"JIRA_ETL_REFRESH_MINUTES: {bad} minutes"):
            refresh_minutes()


def test_resources_hide_their_secrets_from_repr_and_str():
    from jira_etl.defs.resources import JiraResource

    r = JiraResource(connector="x", site="acme", email="a@b.co", api_token="tok-SECRET-1", oauth_token="tok-SECRET-2")
    for text in (repr(r), str(r), f"{r}", repr([r])):
        assert "tok-SECRET" not in text and "api_token='***'" in text
    assert r.api_token == "tok-SECRET-1"  # the value itself is still there for the client


def test_the_simulator_in_use_is_said_loudly(tmp_path, monkeypatch):
    from jira_etl.connectors import Connector, configured_connectors, simulator_notice

    monkeypatch.chdir(tmp_path)
    for var in ("JIRA_SITE", "JIRA_CLOUD_ID", "JIRA_ETL_CONNECTORS", "JIRA_EMAIL", "JIRA_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    notice = simulator_notice(configured_connectors())
    assert notice and "BUILT-IN SIMULATOR" in notice and str(tmp_path) in notice
    assert simulator_notice([Connector("acme", site="acme", email="a@b.co", token_env="T")]) is None
