"""MariaDB (and MySQL) through PyMySQL: a throwaway database per run, EXPLAIN FORMAT=JSON."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import pymysql

from dbarch.engines.base import Engine, Plan, namespace_name
from dbarch.errors import EngineError

_STATEMENT_TIMEOUT_S = 60
"""MariaDB's max_statement_time, in seconds: no verification statement should take a minute."""

_FULL_SCAN = {"ALL"}
"""Access types that read every row of the table (EXPLAIN's `type` column)."""


_GEOMETRY = {"point", "geometry"}


def _adapt(value: Any, data_type: str) -> Any:
    """Values PyMySQL cannot escape, as MariaDB stores them in a column of `data_type`.

    A UUID in BINARY(16) is its 16 bytes (dbarch/data/types.yaml maps uuid so); a point given
    as 'lat,lon' text is written in MariaDB's internal geometry format (4-byte SRID, then WKB),
    which a plain parameter can carry, so the rows still go in one multi-row INSERT.
    """
    if isinstance(value, uuid.UUID):
        return value.bytes if data_type in ("binary", "varbinary") else str(value)
    if data_type in _GEOMETRY and isinstance(value, str) and "," in value:
        lat, lon = (float(part) for part in value.split(",", 1))
        return struct.pack("<IBIdd", 0, 1, 1, lon, lat)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str)
    return value


def _tables(node: Any) -> Iterable[dict[str, Any]]:
    """Every table access in an EXPLAIN FORMAT=JSON document, in document order."""
    if isinstance(node, dict):
        if "table_name" in node:
            yield node
        for value in node.values():
            yield from _tables(value)
    elif isinstance(node, list):
        for item in node:
            yield from _tables(item)


def parse_plan(document: dict[str, Any]) -> Plan:
    """Reduce an `EXPLAIN FORMAT=JSON` document to a Plan."""
    plan = Plan(raw=document)
    block = document.get("query_block", {})
    if "cost" in block:
        plan.cost = float(block["cost"])
    steps: list[str] = []
    text = json.dumps(document)
    for table in _tables(document):
        access = table.get("access_type", "")
        name = table["table_name"]
        key = table.get("key")
        if access in _FULL_SCAN:
            plan.full_scans.append(name)
        elif key:
            plan.indexes.append(key)
            if access == "index":  # the whole index, in order, without a search condition
                plan.full_index_scans.append(key)
        step = f"{access} on {name}" + (f" using {key}" if key else "")
        if "rows" in table:
            step += f" (rows {table['rows']})"
            if plan.rows is None:
                plan.rows = int(table["rows"])
        steps.append(step)
    if not steps and "message" in json.dumps(block):
        steps.append(str(_first_message(block)))
    if '"filesort"' in text:
        plan.sorts = True
        steps.append("filesort")
    plan.access_path = "; ".join(steps)
    return plan


def _first_message(node: Any) -> str | None:
    if isinstance(node, dict):
        if isinstance(node.get("message"), str):
            return node["message"]
        for value in node.values():
            found = _first_message(value)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _first_message(item)
            if found:
                return found
    return None


class MariaDBEngine(Engine):
    """A new database on the server, selected with USE, dropped on close."""

    name = "mariadb"
    dialect = "mysql"
    quote_char = "`"

    def __init__(self, url: str, *, keep: bool = False) -> None:
        super().__init__(url, keep=keep)
        self._conn: pymysql.connections.Connection | None = None

    @classmethod
    def connect(cls, url: str, *, keep: bool = False, timeout: float = 5.0) -> Self:
        """Connect (autocommit) and create the run's database."""
        engine = cls(url, keep=keep)
        parts = urlsplit(url)
        try:
            engine._conn = pymysql.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or "root"),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/") or None,
                connect_timeout=max(1, int(timeout)),
                autocommit=True,
                charset="utf8mb4",
            )
        except pymysql.Error as exc:
            raise engine.fail("cannot connect", exc) from exc
        engine.namespace = namespace_name()
        try:
            engine._execute(f"CREATE DATABASE `{engine.namespace}` CHARACTER SET utf8mb4")
            engine._execute(f"USE `{engine.namespace}`")
            engine._execute(f"SET SESSION max_statement_time = {_STATEMENT_TIMEOUT_S}")
        except pymysql.Error as exc:
            engine._disconnect()
            raise engine.fail(f"cannot create database {engine.namespace}", exc) from exc
        return engine

    @property
    def conn(self) -> pymysql.connections.Connection:
        if self._conn is None:
            raise EngineError(f"mariadb at {self.safe_url}: not connected")
        return self._conn

    def version(self) -> str:
        """`MariaDB 10.11.19`."""
        raw = str(self.query("SELECT VERSION()")[0][0])
        number = raw.split("-")[0]
        return f"MariaDB {number}" if "mariadb" in raw.lower() else f"MySQL {number}"

    def _execute(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()  # ANALYZE TABLE and friends return rows; drain them

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            # Without params PyMySQL sends the text as is: a literal % needs no escaping.
            cur.execute(sql, tuple(params) if params else None)
            return list(cur.fetchall())

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """PyMySQL's executemany folds the rows into multi-row INSERTs."""
        cols = ", ".join(f"`{c}`" for c in columns)
        marks = ", ".join("%s" for _ in columns)
        types = dict(self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s", (self.namespace, table),
        ))
        kinds = [str(types.get(c, "")).lower() for c in columns]
        data = [tuple(_adapt(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
        statement = f"INSERT INTO `{table}` ({cols}) VALUES ({marks})"
        try:
            # One transaction per table: autocommit would flush the redo log once per batch.
            self.conn.begin()
            with self.conn.cursor() as cur:
                for start in range(0, len(data), 2000):
                    cur.executemany(statement, data[start : start + 2000])
            self.conn.commit()
        except pymysql.Error as exc:
            self.conn.rollback()
            raise self.fail(f"loading {len(data)} rows into {table} failed", exc) from exc
        return len(data)

    def analyze(self) -> None:
        """ANALYZE TABLE each table, so the optimizer's estimates match the sample."""
        tables = self.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE'", (self.namespace,),
        )
        for (table,) in tables:
            self.execute(f"ANALYZE TABLE `{table}`")

    def explain(self, sql: str) -> Plan:
        """EXPLAIN FORMAT=JSON: access type, key and estimated rows per table."""
        rows = self.query(f"EXPLAIN FORMAT=JSON {sql}")
        return parse_plan(json.loads(rows[0][0]))

    def indexes(self, table: str) -> dict[str, list[str]]:
        """Index name → columns; the primary key is named PRIMARY."""
        rows = self.query(
            "SELECT index_name, column_name FROM information_schema.statistics "
            "WHERE table_schema = %s AND table_name = %s ORDER BY index_name, seq_in_index",
            (self.namespace, table),
        )
        found: dict[str, list[str]] = {}
        for name, column in rows:
            found.setdefault(name, []).append(column)
        return found

    def _drop_namespace(self) -> None:
        if self._conn is None or self.namespace is None:
            return
        try:
            self._execute(f"DROP DATABASE IF EXISTS `{self.namespace}`")
        except pymysql.Error as exc:
            raise self.fail(f"cannot drop database {self.namespace}", exc) from exc

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
