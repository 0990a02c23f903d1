"""Kuzu, embedded: the graph engine `dbarch verify` runs graph parts on.

Kuzu runs in-process (no server, no URL), so the adapter opens a fresh database in a temporary
directory and removes it on close: like the SQL adapters' throwaway namespaces, a verification
leaves nothing behind. It applies Cypher DDL, bulk-loads nodes and relationships with COPY from
CSV files (Kuzu parses each column to its declared type, UUID and DECIMAL included), and runs
parameterised queries.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from dbarch.errors import EngineError

# Comment lines of the rendered Cypher files.
_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def statements(text: str) -> list[str]:
    """The statements of a Cypher file: comments dropped, split on the closing semicolons."""
    body = _COMMENT.sub("", text)
    return [s.strip() for s in body.split(";") if s.strip()]


class KuzuGraph:
    """One throwaway Kuzu database. Use it as a context manager."""

    name = "kuzu"

    def __init__(self) -> None:
        try:
            import kuzu
        except ImportError as exc:  # a missing wheel is a setup error the user can fix
            raise EngineError("kuzu is not installed: pip install 'kuzu>=0.6'") from exc
        self._dir = Path(tempfile.mkdtemp(prefix="dbarch-kuzu-"))
        self.version = str(kuzu.__version__)
        try:
            self._db = kuzu.Database(str(self._dir / "graph"))
            self._conn = kuzu.Connection(self._db)
        except RuntimeError as exc:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise EngineError(f"kuzu: cannot open a database in {self._dir}: {exc}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and delete the database directory."""
        self._conn.close()
        self._db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def execute(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement; its rows. A Kuzu error becomes an EngineError naming the statement."""
        try:
            result = self._conn.execute(cypher, params or {})
        except RuntimeError as exc:
            first = cypher.strip().splitlines()[0] if cypher.strip() else cypher
            raise EngineError(f"kuzu {self.version}: {exc} (in: {first})") from exc
        results = result if isinstance(result, list) else [result]
        rows: list[list[Any]] = []
        for r in results:
            while r.has_next():
                rows.append(list(r.get_next()))
        return rows

    def apply(self, ddl: str) -> list[str]:
        """Run the CREATE statements of a Cypher file (its queries are left for `execute`)."""
        done = []
        for stmt in statements(ddl):
            if stmt.upper().startswith("CREATE"):
                self.execute(stmt)
                done.append(stmt)
        return done

    def copy(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        """Bulk-load `rows` into a node table (key, properties…) or a relationship table
        (from key, to key, properties…) in the table's column order; the number loaded."""
        path = self._dir / f"{table}.csv"
        count = 0
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        if count:
            self.execute(f"COPY {table} FROM '{path.as_posix()}' (header=false)")
        return count
