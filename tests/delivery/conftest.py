"""Fixtures of the delivery tests (helpers live in delivery_helpers.py and receivers.py)."""

from __future__ import annotations

import pytest

from delivery_helpers import DELIVERY_ENV, FindingsSite, plant


@pytest.fixture
def findings_site(tmp_path, monkeypatch) -> FindingsSite:
    for var in DELIVERY_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JIRA_ETL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JIRA_ETL_DELIVERY_BACKOFF_SECONDS", "0")
    monkeypatch.chdir(tmp_path)  # no delivery.yaml of the developer's
    site = FindingsSite(tmp_path)
    plant(site)
    site.evaluate()
    return site
