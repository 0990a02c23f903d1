"""What a live database's catalog says about its tables, for `dbarch lint --db URL`.

Unlike the adapters in this package, fetching a catalog writes nothing: no scratch schema, no
temporary table. The session is made read-only before the first query, so pointing `--db` at a
production replica (which refuses writes anyway) or at the primary is equally safe. Only the
system catalogs are read, except for a table that was never analyzed: its rows are counted, up
to a bound, since the catalog has no estimate for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from dbarch.engines import engine_class
from dbarch.engines.base import redact
from dbarch.errors import EngineError
from dbarch.lint.catalog import Catalog, TableStats

_STATEMENT_TIMEOUT_MS = 30_000
"""A catalog read that takes longer than this is a server in trouble; stop rather than wait."""

COUNT_LIMIT = 1_000_000
"""A never-analyzed table is counted up to this many rows: enough to tell small from large."""

_PG_SYSTEM = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
)
_MYSQL_SYSTEM = ("mysql", "information_schema", "performance_schema", "sys")

# A validated CHECK whose whole expression is `column IS NOT NULL`, read from its stored node
# tree (nulltesttype 1 is IS_NOT_NULL in PostgreSQL's NullTestType) rather than deparsed with
# pg_get_expr, which would open each table and fail on one dropped while we read.
_NOT_NULL_CHECK = r"^\{NULLTEST :arg \{VAR [^{}]*\} :nulltesttype 1 :argisrow false"


def fetch_catalog(url: str, *, timeout: float = 5.0) -> Catalog:
    """Table sizes, row estimates, indexes, constraints and the server version at `url`.

    PostgreSQL: every table of every non-system schema, keyed `schema.table` and, for the
    schemas on the session's search_path (set one with `?options=-csearch_path%3Dapp`), by the
    bare name too. MariaDB/MySQL: every table of every non-system database, keyed `db.table`,
    and bare for the database the URL names.
    """
    name = engine_class(url).name
    if name == "postgresql":
        return _postgresql(_normalised(url), timeout)
    if name == "mariadb":
        return _mysql(url, timeout)
    raise EngineError(f"{redact(url)}: --db needs a PostgreSQL or MySQL/MariaDB server, not {name}")


def _normalised(url: str) -> str:
    """postgres:// and SQLAlchemy's postgresql+psycopg:// as libpq reads them."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.split("+")[0] in ("postgres", "postgresql") else url


def _postgresql(url: str, timeout: float) -> Catalog:
    import psycopg
    from psycopg import sql as pgsql

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)))
    except psycopg.Error as exc:
        raise _fail(url, "cannot connect", exc) from exc
    with conn:
        try:
            conn.execute("SET default_transaction_read_only = on")
            conn.execute(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}")
            version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])
            search_path = [r[0] for r in conn.execute(
                "SELECT unnest(current_schemas(false))").fetchall()]
            rows = conn.execute(_pg_tables_sql(version_num)).fetchall()
            indexes = conn.execute(
                "SELECT x.indrelid, i.relname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid ORDER BY i.relname").fetchall()
            constraints = conn.execute(
                "SELECT c.conrelid, c.conname, c.contype = 'c' AND c.convalidated "
                "  AND c.conbin::text ~ %s, a.attname "
                "FROM pg_constraint c "
                "LEFT JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "WHERE c.conrelid <> 0 ORDER BY c.conname", (_NOT_NULL_CHECK,)).fetchall()
        except psycopg.Error as exc:
            raise _fail(url, "reading the catalog failed", exc) from exc
        by_oid: dict[int, TableStats] = {}
        keyed: list[tuple[str, str, TableStats]] = []
        for oid, schema, table, reltuples, size in rows:
            stats = TableStats(name=f"{schema}.{table}", bytes=int(size or 0))
            if reltuples is not None and reltuples >= 0:
                stats.rows = int(reltuples)
            elif size:
                # Never analyzed (reltuples is -1 on PG 14+, 0 with relpages 0 before).
                query = pgsql.SQL("SELECT count(*) FROM (SELECT FROM {}.{} LIMIT {}) s").format(
                    pgsql.Identifier(schema), pgsql.Identifier(table), pgsql.Literal(COUNT_LIMIT))
                try:
                    stats.rows = int(conn.execute(query).fetchone()[0])
                except psycopg.Error:
                    stats.rows = 0  # dropped or unreadable meanwhile: its size still speaks
            by_oid[oid] = stats
            keyed.append((schema, table, stats))
    for oid, index in indexes:
        if oid in by_oid:
            by_oid[oid].indexes.append(index)
    for oid, constraint, not_null_check, column in constraints:
        if oid in by_oid:
            by_oid[oid].constraints.append(constraint)
            if not_null_check and column:
                by_oid[oid].not_null_checked.append(column.lower())
    return Catalog(dialect="postgresql", server_version=version_num // 10000,
                   tables=_keys(keyed, search_path))


def _pg_tables_sql(version_num: int) -> str:
    """Tables, partitioned tables and materialized views with rows and total bytes.

    A partitioned table holds no rows itself: from PostgreSQL 12 its figures are the sums over
    its leaf partitions (pg_partition_tree), which is what a rewrite of it would touch.
    """
    own = "c.reltuples::float8, pg_total_relation_size(c.oid)"
    if version_num >= 120000:
        own = (
            "CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(l.reltuples, 0)), 0) "
            "  FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf) "
            "  ELSE c.reltuples::float8 END, "
            "CASE WHEN c.relkind = 'p' THEN (SELECT "
            "  coalesce(sum(pg_total_relation_size(t.relid)), 0) "
            "  FROM pg_partition_tree(c.oid) t WHERE t.isleaf) "
            "  ELSE pg_total_relation_size(c.oid) END"
        )
    return (
        f"SELECT c.oid, n.nspname, c.relname, {own} "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'p', 'm') AND {_PG_SYSTEM} "
        "ORDER BY n.nspname, c.relname"
    )


def _mysql(url: str, timeout: float) -> Catalog:
    import pymysql

    parts = urlsplit(url)
    database = parts.path.lstrip("/") or None
    try:
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
            user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
            database=database, connect_timeout=max(1, int(timeout)), autocommit=True,
            charset="utf8mb4",
        )
    except pymysql.Error as exc:
        raise _fail(url, "cannot connect", exc) from exc
    marks = ", ".join(["%s"] * len(_MYSQL_SYSTEM))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            cur.execute(
                "SELECT TABLE_SCHEMA, TABLE_NAME, coalesce(TABLE_ROWS, 0), "
                "  coalesce(DATA_LENGTH, 0) + coalesce(INDEX_LENGTH, 0) "
                "FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' "
                f"AND TABLE_SCHEMA NOT IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME",
                _MYSQL_SYSTEM)
            tables = cur.fetchall()
            cur.execute(
                "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME FROM "
                f"information_schema.STATISTICS WHERE TABLE_SCHEMA NOT IN ({marks}) "
                "ORDER BY INDEX_NAME", _MYSQL_SYSTEM)
            indexes = cur.fetchall()
            cur.execute(
                "SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME FROM "
                f"information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA NOT IN ({marks}) "
                "ORDER BY CONSTRAINT_NAME", _MYSQL_SYSTEM)
            constraints = cur.fetchall()
    except pymysql.Error as exc:
        raise _fail(url, "reading the catalog failed", exc) from exc
    found: dict[tuple[str, str], TableStats] = {}
    keyed = []
    for schema, table, rows, size in tables:
        stats = TableStats(name=f"{schema}.{table}", rows=int(rows), bytes=int(size))
        found[(schema, table)] = stats
        keyed.append((schema, table, stats))
    for schema, table, name in indexes:
        if (schema, table) in found:
            found[(schema, table)].indexes.append(name)
    for schema, table, name in constraints:
        if (schema, table) in found and name not in found[(schema, table)].constraints:
            found[(schema, table)].constraints.append(name)
    return Catalog(dialect="mysql", server_version=int(version.split(".", 1)[0]),
                   tables=_keys(keyed, [database] if database else []))


def _keys(tables: Iterable[tuple[str, str, TableStats]], path: list[str]) -> dict[str, TableStats]:
    """`schema.table` for every table; the bare name for the first schema on the path that has
    it, as the server resolves an unqualified name in a migration, or else for the one schema
    that has a table of that name (a migration that sets its own search_path names it so)."""
    keyed: dict[str, TableStats] = {}
    on_path: dict[str, tuple[int, TableStats]] = {}
    elsewhere: dict[str, list[TableStats]] = {}
    rank = {schema: position for position, schema in enumerate(path)}
    for schema, table, stats in tables:
        keyed[f"{schema}.{table}".lower()] = stats
        position = rank.get(schema)
        if position is None:
            elsewhere.setdefault(table.lower(), []).append(stats)
            continue
        held = on_path.get(table.lower())
        if held is None or position < held[0]:
            on_path[table.lower()] = (position, stats)
    for table, (_, stats) in on_path.items():
        keyed.setdefault(table, stats)
    for table, candidates in elsewhere.items():
        if len(candidates) == 1 and table not in on_path:
            keyed.setdefault(table, candidates[0])
    return keyed


def _fail(url: str, what: str, exc: Any) -> EngineError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    password = urlsplit(url).password
    if password:
        message = message.replace(password, "***")
    return EngineError(f"{redact(url)}: {what}: {message}")
