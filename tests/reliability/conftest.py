"""One directory for everything the reliability tests produce, so the secrets scan
(test_z_secrets.py, collected last) can read every log, instance and file they left."""

import pytest


@pytest.fixture(scope="session")
def rel_root(tmp_path_factory):
    return tmp_path_factory.mktemp("reliability")
