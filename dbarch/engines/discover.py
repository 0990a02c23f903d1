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


PART_SERVERS: tuple[str, ...] = ("redis://127.0.0.1:6379/0", LOCAL_SERVERS[0])
"""Local servers the non-relational parts' verifiers run on: Redis 7 for key-value parts, the
local PostgreSQL for time-series parts."""


def answering_parts(urls: tuple[str, ...] | list[str] = PART_SERVERS,
                    timeout: float = 2.0) -> list[str]:
    """The part servers among `urls` that answer within `timeout` seconds."""
    from dbarch.engines import redis

    found = []
    for url in urls:
        if url.startswith("redis"):
            if redis.answers(url, timeout=timeout):
                found.append(url)
        elif answering([url], timeout=timeout):
            found.append(url)
    return found


def default_urls(timeout: float = 2.0) -> list[str]:
    """SQLite in memory (always there) followed by the local servers that answer, the
    relational ones first, then those only the non-relational parts use."""
    relational = ["sqlite://", *answering(LOCAL_SERVERS, timeout=timeout)]
    parts = answering_parts([u for u in PART_SERVERS if u not in LOCAL_SERVERS], timeout=timeout)
    return [*relational, *parts]
