"""Shared fixtures: where the real local servers are. Engine tests use them; none is mocked."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg

SQLITE_URL = "sqlite://"
POSTGRESQL_URL = "postgresql://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql://root@127.0.0.1:3306/test"
ENGINE_URLS = {"sqlite": SQLITE_URL, "postgresql": POSTGRESQL_URL, "mariadb": MARIADB_URL}


@pytest.fixture(params=sorted(ENGINE_URLS))
def engine_url(request: pytest.FixtureRequest) -> str:
    """Each local engine's URL in turn: sqlite, postgresql, mariadb."""
    return ENGINE_URLS[request.param]


@contextmanager
def scratch_schema(prefix: str = "dbarch_test") -> Iterator[tuple[str, psycopg.Connection]]:
    """A fresh PostgreSQL schema (`<prefix>_<random>`) and an autocommit connection to the
    test database; the schema is dropped, with everything in it, on the way out."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
        try:
            yield name, conn
        finally:
            conn.execute(f"DROP SCHEMA {name} CASCADE")
