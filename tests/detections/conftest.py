"""Fixtures of the detection tests (helpers live in det_helpers.py)."""

from __future__ import annotations

import pytest

from det_helpers import AuditSite


@pytest.fixture
def site(tmp_path) -> AuditSite:
    return AuditSite(tmp_path)
