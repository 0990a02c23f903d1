"""The database servers this machine runs by default, and which of them answer right now."""

from __future__ import annotations

from dbarch.engines import engine_for
from dbarch.errors import EngineError

LOCAL_SERVERS: tuple[str, ...] = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "mysql://root@127.0.0.1:3306/test",
)
"""The local development servers: PostgreSQL 15 (trust auth) and MariaDB 10.11."""


def answering(urls: tuple[str, ...] | list[str] = LOCAL_SERVERS, timeout: float = 2.0) -> list[str]:
    """The URLs among `urls` that accept a connection within `timeout` seconds."""
    found: list[str] = []
    for url in urls:
        try:
            with engine_for(url, timeout=timeout):
                found.append(url)
        except EngineError:
            continue
    return found


def default_urls(timeout: float = 2.0) -> list[str]:
    """SQLite in memory (always there) followed by the local servers that answer."""
    return ["sqlite://", *answering(LOCAL_SERVERS, timeout=timeout)]
