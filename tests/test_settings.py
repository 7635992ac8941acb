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
