"""PostgreSQL through psycopg 3: a throwaway schema per run, COPY to load, EXPLAIN (FORMAT JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Self

import psycopg
from psycopg import sql as pgsql

from dbarch.engines.base import Engine, Plan, namespace_name
from dbarch.errors import EngineError

_STATEMENT_TIMEOUT_MS = 60_000
"""No single statement of a verification run should take a minute; past that, stop it."""


def _adapt(value: Any, data_type: str) -> Any:
    """json/jsonb columns take their text form (psycopg has no default dumper for dict); a
    point given as 'lat,lon' becomes (x, y) = (lon, lat), the order geometry uses."""
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    if data_type == "point" and isinstance(value, str) and "," in value:
        lat, lon = value.split(",", 1)
        return f"({lon},{lat})"
    return value


def _describe(node: dict[str, Any]) -> str:
    """One plan node as EXPLAIN's text format names it: `Index Scan using i on t`."""
    kind = node["Node Type"]
    if node.get("Scan Direction") == "Backward":
        kind += " Backward"
    if "Index Name" in node:
        kind += f" using {node['Index Name']}"
    if "Relation Name" in node:
        kind += f" on {node['Relation Name']}"
    return kind


def parse_plan(document: list[dict[str, Any]]) -> Plan:
    """Reduce an `EXPLAIN (FORMAT JSON)` document to a Plan."""
    top = document[0]["Plan"]
    plan = Plan(cost=float(top["Total Cost"]), rows=int(top["Plan Rows"]), raw=document)
    chain: list[str] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        kind = node["Node Type"]
        if "Index Name" in node:
            plan.indexes.append(node["Index Name"])
            if "Index Cond" not in node:
                plan.full_index_scans.append(node["Index Name"])
        if kind == "Seq Scan":
            plan.full_scans.append(node["Relation Name"])
        if kind in ("Sort", "Incremental Sort"):
            plan.sorts = True
        if depth == len(chain):
            chain.append(_describe(node))
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(top, 0)
    plan.access_path = " → ".join(chain)
    return plan


class PostgreSQLEngine(Engine):
    """A new schema in the URL's database, first on the search_path, dropped on close."""

    name = "postgresql"
    dialect = "postgresql"

    def __init__(self, url: str, *, keep: bool = False) -> None:
        super().__init__(url, keep=keep)
        self._conn: psycopg.Connection[Any] | None = None

    @classmethod
    def connect(cls, url: str, *, keep: bool = False, timeout: float = 5.0) -> Self:
        """Connect (autocommit) and create the run's schema."""
        engine = cls(url, keep=keep)
        try:
            engine._conn = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=max(1, int(timeout)),
                options=f"-c statement_timeout={_STATEMENT_TIMEOUT_MS}",
            )
        except psycopg.Error as exc:
            raise engine.fail("cannot connect", exc) from exc
        engine.namespace = namespace_name()
        try:
            ident = pgsql.Identifier(engine.namespace)
            engine.conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(ident))
            engine.conn.execute(pgsql.SQL("SET search_path TO {}, public").format(ident))
        except psycopg.Error as exc:
            engine._disconnect()
            raise engine.fail(f"cannot create schema {engine.namespace}", exc) from exc
        return engine

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise EngineError(f"postgresql at {self.safe_url}: not connected")
        return self._conn

    def version(self) -> str:
        """`PostgreSQL 15.20`."""
        row = self.query("SHOW server_version")[0]
        return f"PostgreSQL {str(row[0]).split()[0]}"

    def _execute(self, sql: str) -> None:
        self.conn.execute(sql.encode())  # bytes: a literal % in DDL is not a placeholder

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if params:
            return list(self.conn.execute(sql.encode(), tuple(params)).fetchall())
        return list(self.conn.execute(sql.encode()).fetchall())

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """COPY FROM STDIN: an order of magnitude faster than INSERTs, and it writes explicit
        values into GENERATED ALWAYS identity columns, so sample foreign keys stay exact."""
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
        )
        types = dict(self.query(
            "SELECT column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s", (self.namespace, table),
        ))
        kinds = [str(types.get(c, "")) for c in columns]
        count = 0
        try:
            with self.conn.cursor() as cur, cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row([_adapt(v, k) for v, k in zip(row, kinds, strict=True)])
                    count += 1
        except psycopg.Error as exc:
            raise self.fail(f"loading rows into {table} failed", exc) from exc
        return count

    def analyze(self) -> None:
        """ANALYZE each table of the run's schema (not the whole database)."""
        tables = self.query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
            (self.namespace,),
        )
        for (table,) in tables:
            self.execute(f'ANALYZE "{table}"')

    def explain(self, sql: str) -> Plan:
        """EXPLAIN (FORMAT JSON): costs in the planner's units, estimated rows."""
        rows = self.query(f"EXPLAIN (FORMAT JSON) {sql}")
        document = rows[0][0]
        if isinstance(document, str):
            document = json.loads(document)
        return parse_plan(document)

    def explain_without_scans(self, sql: str) -> Plan | None:
        """EXPLAIN with enable_seqscan off, in a transaction rolled back right after."""
        try:
            with self.conn.transaction(force_rollback=True):
                self.conn.execute(b"SET LOCAL enable_seqscan = off")
                rows = self._query(f"EXPLAIN (FORMAT JSON) {sql}")
        except psycopg.Error as exc:
            raise self.fail("EXPLAIN with enable_seqscan off failed", exc) from exc
        document = rows[0][0]
        return parse_plan(json.loads(document) if isinstance(document, str) else document)

    def explain_without(self, sql: str, indexes: list[str]) -> Plan | None:
        """EXPLAIN after DROP INDEX, in a transaction rolled back right after (PostgreSQL's DDL
        is transactional). None when an index backs a constraint and cannot be dropped alone."""
        try:
            with self.conn.transaction(force_rollback=True):
                for name in indexes:
                    self.conn.execute(
                        pgsql.SQL("DROP INDEX {}").format(pgsql.Identifier(name))
                    )
                rows = self._query(f"EXPLAIN (FORMAT JSON) {sql}")
        except psycopg.Error:
            return None
        document = rows[0][0]
        return parse_plan(json.loads(document) if isinstance(document, str) else document)

    def indexes(self, table: str) -> dict[str, list[str]]:
        """Index name → columns (an expression column shows as `expr`), including the indexes
        of the table's partitions, which plans name instead of the parent's."""
        rows = self.query(
            "SELECT i.relname, array_agg(coalesce(a.attname, 'expr') ORDER BY k.ord) "
            "FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
            "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE n.nspname = %s AND (t.relname = %s OR t.oid IN ("
            "  SELECT inhrelid FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent "
            "  WHERE p.relname = %s AND p.relnamespace = n.oid)) "
            "AND k.ord <= x.indnkeyatts "
            "GROUP BY i.relname",
            (self.namespace, table, table),
        )
        return {name: list(cols) for name, cols in rows}

    def _drop_namespace(self) -> None:
        if self._conn is None or self.namespace is None:
            return
        try:
            self.conn.execute(
                pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    pgsql.Identifier(self.namespace)
                )
            )
        except psycopg.Error as exc:
            raise self.fail(f"cannot drop schema {self.namespace}", exc) from exc

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
