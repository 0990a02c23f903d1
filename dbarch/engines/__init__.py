"""Engine adapters: the only code in dbarch that opens database connections.

`engine_for(url)` picks the adapter by URL scheme and returns it connected, working inside a
fresh throwaway namespace that `close()` drops.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from dbarch.engines.base import Engine, Plan, redact
from dbarch.errors import EngineError

SCHEMES: dict[str, str] = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mariadb",
    "mariadb": "mariadb",
}
"""URL scheme → engine name."""


def engine_class(url: str) -> type[Engine]:
    """The adapter class for a URL, by its scheme; EngineError for an unknown scheme."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    name = SCHEMES.get(scheme)
    if name == "sqlite":
        from dbarch.engines.sqlite import SQLiteEngine

        return SQLiteEngine
    if name == "postgresql":
        from dbarch.engines.postgresql import PostgreSQLEngine

        return PostgreSQLEngine
    if name == "mariadb":
        from dbarch.engines.mariadb import MariaDBEngine

        return MariaDBEngine
    known = ", ".join(f"{s}://" for s in SCHEMES)
    raise EngineError(f"{redact(url)}: unknown engine scheme {scheme!r}; expected one of {known}")


def engine_for(url: str, *, keep: bool = False, timeout: float = 5.0) -> Engine:
    """A connected adapter for `url` (sqlite://, sqlite:///file.db, postgresql://, mysql://,
    mariadb://), in a fresh namespace. Use it as a context manager so the namespace is dropped."""
    cls = engine_class(url)
    if "+" in urlsplit(url).scheme:  # SQLAlchemy-style postgresql+psycopg://: drop the driver
        url = url.split("+", 1)[0] + url[url.index("://") :]
    if cls.name == "postgresql" and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    return cls.connect(url, keep=keep, timeout=timeout)


__all__ = ["Engine", "EngineError", "Plan", "engine_class", "engine_for", "redact"]
