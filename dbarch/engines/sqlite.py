"""SQLite through the standard library: always available, the default verification engine."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from dbarch.engines.base import Engine, Plan
from dbarch.errors import EngineError
from dbarch.render.query import sqlite_timestamp

# EXPLAIN QUERY PLAN detail lines, e.g. "SEARCH orders USING INDEX orders_user_idx (user_id=?)",
# "SCAN orders USING COVERING INDEX x", "SEARCH users USING INTEGER PRIMARY KEY (rowid=?)",
# "SCAN orders" (the whole table).
_DETAIL = re.compile(
    r"^(?P<op>SCAN|SEARCH) (?P<table>\S+)(?: AS \S+)?"
    r"(?: USING (?:(?P<auto>AUTOMATIC )?(?:COVERING |PARTIAL )*INDEX (?P<index>\S+)"
    r"|(?P<pk>INTEGER PRIMARY KEY)|(?P<primary>PRIMARY KEY))"
    r"|(?P<virtual> VIRTUAL TABLE INDEX \d+:(?P<plan>\S*)))?"
)

PRIMARY = "PRIMARY"
"""The name a plan gives to a rowid (INTEGER PRIMARY KEY) lookup, as MariaDB names its PK."""


def _path_of(url: str) -> str:
    """`sqlite://` and `sqlite:///:memory:` are in memory; `sqlite:///x.db` is a file."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise EngineError(f"not a SQLite URL: {url}")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return path or ":memory:"


def _adapt(value: Any) -> Any:
    """Python values sqlite3 cannot bind, as the text SQLite stores for them (timestamps as
    the DDL's own default writes them, so stored values and literals compare in time order)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return sqlite_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str)
    return value


class SQLiteEngine(Engine):
    """An in-memory database, or a new file that is deleted on close unless kept."""

    name = "sqlite"
    dialect = "sqlite"

    def __init__(self, url: str, *, keep: bool = False) -> None:
        super().__init__(url, keep=keep)
        self.path = _path_of(url)
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def connect(cls, url: str, *, keep: bool = False, timeout: float = 5.0) -> Self:
        """Open a fresh database; refuse a file that already exists rather than write into it."""
        engine = cls(url, keep=keep)
        if engine.path != ":memory:" and Path(engine.path).exists():
            raise EngineError(
                f"sqlite at {url}: {engine.path} already exists; verification writes only into "
                "a new file"
            )
        try:
            engine._conn = sqlite3.connect(engine.path, timeout=timeout, isolation_level=None)
            # Without this pragma SQLite ignores FOREIGN KEY clauses, and a sample that breaks
            # them would load silently.
            engine._conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise engine.fail("cannot open the database", exc) from exc
        engine.namespace = engine.path
        return engine

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise EngineError(f"sqlite at {self.safe_url}: not connected")
        return self._conn

    def version(self) -> str:
        """`SQLite 3.40.1`."""
        return f"SQLite {sqlite3.sqlite_version}"

    def _execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(sql, tuple(params)).fetchall()]

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """executemany inside one transaction: one fsync for the whole table."""
        cols = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        data = [tuple(_adapt(v) for v in row) for row in rows]
        try:
            self.conn.execute("BEGIN")
            self.conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', data)
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise self.fail(f"loading {len(data)} rows into {table} failed", exc) from exc
        return len(data)

    def analyze(self) -> None:
        """ANALYZE fills sqlite_stat1, which the planner reads for index selectivity."""
        self.execute("ANALYZE")

    def explain(self, sql: str) -> Plan:
        """EXPLAIN QUERY PLAN, one detail line per table access."""
        rows = self.query(f"EXPLAIN QUERY PLAN {sql}")
        plan = Plan(raw=[r[3] for r in rows])
        steps: list[str] = []
        for _id, _parent, _unused, detail in rows:
            steps.append(detail)
            if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
                plan.sorts = True
            m = _DETAIL.match(detail)
            if not m:
                continue
            if m["virtual"] is not None:
                # An FTS5 table answers with its own index when the query uses MATCH
                # (idxStr starting with M); with no constraint it reads everything.
                if m["plan"]:
                    plan.indexes.append(m["table"])
                else:
                    plan.full_scans.append(m["table"])
            elif m["index"] and not m["auto"]:
                plan.indexes.append(m["index"])
                if m["op"] == "SCAN":  # the whole index, in order, without a search condition
                    plan.full_index_scans.append(m["index"])
            elif m["pk"] or m["primary"]:
                plan.indexes.append(PRIMARY)
                if m["op"] == "SCAN":
                    plan.full_index_scans.append(PRIMARY)
            elif m["op"] == "SCAN" and not m["index"]:
                plan.full_scans.append(m["table"])
            elif m["auto"]:
                # A transient index SQLite builds for this query alone: the table is read in full.
                plan.full_scans.append(m["table"])
        plan.access_path = "; ".join(steps)
        return plan

    def indexes(self, table: str) -> dict[str, list[str]]:
        """Every index of `table`, including the autoindexes behind UNIQUE and PRIMARY KEY."""
        found: dict[str, list[str]] = {}
        for _seq, name, _unique, _origin, _partial in self.query(f"PRAGMA index_list(\"{table}\")"):
            info = self.query(f"PRAGMA index_info(\"{name}\")")
            found[name] = [r[2] for r in sorted(info)]
        info = sorted(self.query(f"PRAGMA table_info(\"{table}\")"), key=lambda r: r[5])
        pk = [r[1] for r in info if r[5] > 0]
        if pk:
            found[PRIMARY] = pk
        return found

    def _drop_namespace(self) -> None:
        if self.path == ":memory:":
            return
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        Path(self.path).unlink(missing_ok=True)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
