"""PostgreSQL for the time-series part: the partitions of a table, synthetic ingest, window
aggregates and the partitions their plans scan.

Works inside a PostgreSQLEngine's throwaway schema; the verifier (dbarch/verify/timeseries.py)
decides what to run and what counts as passing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from dbarch.engines.postgresql import PostgreSQLEngine


def connect(url: str) -> PostgreSQLEngine:
    """A connection with its own scratch schema, dropped on close."""
    return PostgreSQLEngine.connect(url)


def inline(engine: PostgreSQLEngine, sql: str, params: dict[str, Any]) -> str:
    """`sql` with its %(name)s parameters as literals: EXPLAIN then prunes at plan time, as
    it does for the custom plan of a prepared statement."""
    return psycopg.ClientCursor(engine.conn).mogrify(sql, params)


def run(engine: PostgreSQLEngine, sql: str, params: dict[str, Any] | None = None
        ) -> list[tuple[Any, ...]]:
    """Rows of one statement with its parameters inlined."""
    return engine.query(inline(engine, sql, params or {}))


def execute(engine: PostgreSQLEngine, sql: str, params: dict[str, Any]) -> None:
    """Run one statement that returns no rows, its parameters inlined."""
    engine.execute(inline(engine, sql, params))


def partitions(engine: PostgreSQLEngine, table: str) -> list[tuple[str, datetime, datetime]]:
    """(name, lower, upper) of each range partition of `table`, oldest first."""
    rows = engine.query(
        "SELECT c.relname, m[1]::timestamptz, m[2]::timestamptz FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid CROSS JOIN LATERAL regexp_match("
        "pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') m "
        "WHERE i.inhparent = %s::regclass AND m IS NOT NULL ORDER BY 2",
        (f"{engine.namespace}.{table}",))
    return [(str(n), lo, hi) for n, lo, hi in rows]


def odd_partitions(engine: PostgreSQLEngine, table: str, unit: str) -> list[str]:
    """Partitions of `table` whose range is not exactly one `unit` (hour, day, week, month)."""
    rows = engine.query(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), "
        "'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') m "
        "WHERE i.inhparent = %s::regclass AND m IS NOT NULL "
        "AND m[2]::timestamptz <> m[1]::timestamptz + ('1 ' || %s)::interval",
        (f"{engine.namespace}.{table}", unit))
    return [str(r[0]) for r in rows]


def rows_by_partition(engine: PostgreSQLEngine, table: str) -> dict[str, int]:
    """Row count of each partition of `table` that holds rows (the DEFAULT one included)."""
    rows = engine.query(f"SELECT tableoid::regclass::text, count(*) FROM {table} GROUP BY 1")
    return {str(name).rsplit(".", 1)[-1]: int(n) for name, n in rows}


def scanned(engine: PostgreSQLEngine, sql: str, params: dict[str, Any]) -> list[str]:
    """The relations the plan of `sql` reads (partitions after pruning)."""
    doc = engine.query(f"EXPLAIN (FORMAT JSON) {inline(engine, sql, params)}")[0][0]
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.append(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(doc[0]["Plan"])
    return sorted(set(found))


def missing_functions(engine: PostgreSQLEngine, names: list[str]) -> list[str]:
    """Those of `names` that no function in pg_proc is called."""
    rows = engine.query("SELECT DISTINCT proname FROM pg_proc WHERE proname = ANY(%s)",
                        (list(names),))
    have = {str(r[0]) for r in rows}
    return [n for n in names if n not in have]
