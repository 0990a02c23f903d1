"""Shared fixtures: where the real local servers are. Engine tests use them; none is mocked."""

from __future__ import annotations

import pytest

SQLITE_URL = "sqlite://"
POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql://root@127.0.0.1:3306/test"
ENGINE_URLS = {"sqlite": SQLITE_URL, "postgresql": POSTGRESQL_URL, "mariadb": MARIADB_URL}


@pytest.fixture(params=sorted(ENGINE_URLS))
def engine_url(request: pytest.FixtureRequest) -> str:
    """Each local engine's URL in turn: sqlite, postgresql, mariadb."""
    return ENGINE_URLS[request.param]
