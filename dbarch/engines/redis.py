"""The Redis adapter: one connection, one key prefix unique to the run, removed on close.

Redis has no schemas to create and drop, so the throwaway namespace of the SQL adapters is a
key prefix (`dbarch_verify_<hex>:`): every key a verification writes starts with it, and
`close()` deletes every key under it (SCAN + UNLINK), so a run leaves nothing behind on a
shared server even when a check failed half way.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from dbarch.engines.base import namespace_name, redact
from dbarch.errors import EngineError

SCHEMES: tuple[str, ...] = ("redis", "rediss")
"""URL schemes this adapter opens (rediss: TLS)."""

LOCAL_URL = "redis://127.0.0.1:6379/0"
"""The local development server."""


class RedisEngine:
    """A connected Redis client working under its own key prefix."""

    name = "redis"

    def __init__(self, client: Any, url: str, *, keep: bool = False) -> None:
        self.client = client
        self.url = url
        self.safe_url = redact(url)
        self.keep = keep
        self.prefix = namespace_name() + ":"
        self._closed = False

    @classmethod
    def connect(cls, url: str, *, keep: bool = False, timeout: float = 5.0) -> Self:
        """Open a connection (PING answered) or raise EngineError naming the URL."""
        import redis

        try:
            client = redis.Redis.from_url(url, socket_timeout=timeout,
                                          socket_connect_timeout=timeout)
            client.ping()
        except (redis.RedisError, ValueError, OSError) as exc:
            raise EngineError(f"{redact(url)}: cannot connect to Redis: {exc}") from None
        return cls(client, url, keep=keep)

    def version(self) -> str:
        """`redis 7.0.15`."""
        return f"redis {self._call(self.client.info, 'server')['redis_version']}"

    def config(self, name: str) -> str | None:
        """A server setting (CONFIG GET), None when the server hides it (managed services)."""
        import redis

        try:
            values: dict[str, str] = self.client.config_get(name)
        except redis.RedisError:
            return None
        value = values.get(name)
        return value.decode() if isinstance(value, bytes) else value

    def key(self, name: str) -> str:
        """The run's name for a designed key."""
        return self.prefix + name

    def command(self, *args: str | bytes | int | float) -> Any:
        """Run one command and return its reply."""
        return self._call(self.client.execute_command, *args)

    def pipeline(self, commands: Sequence[Sequence[str | bytes | int | float]], *,
                 transaction: bool = False) -> list[Any]:
        """Run commands in one round trip (inside MULTI/EXEC with `transaction`)."""
        pipe = self.client.pipeline(transaction=transaction)
        for args in commands:
            pipe.execute_command(*args)
        return list(self._call(pipe.execute))

    def memory_usage(self, key: str) -> int:
        """MEMORY USAGE of a key with every element counted (SAMPLES 0), in bytes."""
        return int(self.command("MEMORY", "USAGE", key, "SAMPLES", "0") or 0)

    def encoding(self, key: str) -> str:
        """OBJECT ENCODING of a key: embstr, raw, listpack, hashtable, skiplist, intset, …"""
        value = self.command("OBJECT", "ENCODING", key)
        return value.decode() if isinstance(value, bytes) else str(value)

    def keys_under_prefix(self) -> list[bytes]:
        """Every key this run wrote (SCAN, never KEYS: the server keeps serving)."""
        return list(self._call(lambda: list(self.client.scan_iter(match=self.prefix + "*",
                                                                  count=500))))

    def close(self) -> None:
        """Delete every key under the run's prefix (unless kept) and disconnect."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.keep:
                keys = self.keys_under_prefix()
                for i in range(0, len(keys), 500):
                    self._call(self.client.unlink, *keys[i:i + 500])
        finally:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _call(self, fn: Any, *args: Any) -> Any:
        import redis

        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise EngineError(f"{self.safe_url}: {exc}") from None


def answers(url: str = LOCAL_URL, timeout: float = 2.0) -> bool:
    """True when a Redis server at `url` answers PING within `timeout` seconds."""
    try:
        RedisEngine.connect(url, timeout=timeout).client.close()
    except EngineError:
        return False
    return True


def connect(url: str, *, keep: bool = False, timeout: float = 5.0) -> RedisEngine:
    """A connected RedisEngine for a redis:// or rediss:// URL."""
    return RedisEngine.connect(url, keep=keep, timeout=timeout)
