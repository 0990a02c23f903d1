"""What a live database says about the tables a migration touches (for `dbarch lint --db`).

Filled by `dbarch.engines` from the server's catalog; read here by pure code, so rules can
tell a rewrite of a 10-row table from one of a 50 GB table without opening a connection.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class TableStats(BaseModel):
    """One table as the catalog knows it: size, estimated rows, indexes and constraints."""

    name: str
    rows: int = 0
    bytes: int = 0
    indexes: list[str] = Field(default_factory=list)
    constraints: list[str] = Field(default_factory=list)
    # Columns guarded by a validated CHECK (col IS NOT NULL): SET NOT NULL skips its scan (PG 12+).
    not_null_checked: list[str] = Field(default_factory=list)


class Catalog(BaseModel):
    """The server version and the tables of one database."""

    dialect: str
    server_version: int | None = None  # major version, e.g. 15
    tables: dict[str, TableStats] = Field(default_factory=dict)

    def table(self, name: str) -> TableStats | None:
        """A table by name: qualified (`schema.table`) or bare as the search path resolves it."""
        # The catalog keys every table as schema.table, and bare names as the server would
        # resolve them; a qualified name never falls back to a same-named table elsewhere.
        return self.tables.get(name.lower())
