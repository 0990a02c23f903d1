"""A live PostgreSQL's indexes and statement statistics, for `dbarch indexes`.

Both reads are made in a read-only session with a statement timeout: pointing `--db` at a
production primary writes nothing there. The indexes come back as the pure
`dbarch.advisor.existing.ExistingIndex`, so judging them needs no server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql as pgsql

from dbarch.advisor.existing import ExistingIndex
from dbarch.engines.base import redact
from dbarch.errors import EngineError

STATEMENT_TIMEOUT_MS = 30_000
"""A catalog read that takes longer than this is a server in trouble; stop rather than wait."""

_USER_SCHEMAS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
)

# One row per index, its items (key columns, then INCLUDE columns) as three arrays: the column
# name (from pg_attribute, unquoted) or the expression's text, whether it is an expression, and
# what follows it: a non-default collation or operator class, then the sort options that differ
# from the default. Indexes attached to a partitioned parent are left out: they cannot be
# dropped on their own.
_INDEXES_SQL = f"""
SELECT x.indexrelid::int8, n.nspname, i.relname, tn.nspname, t.relname,
       x.indisunique, x.indisprimary, x.indisvalid, i.relkind = 'I', con.conname, am.amname,
       pg_get_expr(x.indpred, x.indrelid, true), pg_relation_size(x.indexrelid),
       s.idx_scan, x.indnkeyatts, k.items, k.expressions, k.suffixes
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL (
    SELECT array_agg(coalesce(a.attname::text, pg_get_indexdef(x.indexrelid, k, true))
                     ORDER BY k) AS items,
           array_agg(x.indkey[k - 1] = 0 ORDER BY k) AS expressions,
           array_agg(
               CASE WHEN k > x.indnkeyatts OR x.indcollation[k - 1] IN (0, 100)
                         OR x.indcollation[k - 1] = a.attcollation THEN ''
                    ELSE ' COLLATE ' || quote_ident(co.collname) END
               || CASE WHEN k > x.indnkeyatts OR oc.opcdefault THEN ''
                       ELSE ' ' || oc.opcname END
               || CASE WHEN k > x.indnkeyatts OR am.amname <> 'btree' THEN ''
                       WHEN x.indoption[k - 1] & 3 = 3 THEN ' DESC'
                       WHEN x.indoption[k - 1] & 1 = 1 THEN ' DESC NULLS LAST'
                       WHEN x.indoption[k - 1] & 2 = 2 THEN ' NULLS FIRST'
                       ELSE '' END
               ORDER BY k) AS suffixes
    FROM generate_series(1, x.indnatts) k
    LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[k - 1]
         AND x.indkey[k - 1] > 0
    LEFT JOIN pg_collation co ON co.oid = x.indcollation[k - 1]
    LEFT JOIN pg_opclass oc ON oc.oid = x.indclass[k - 1]
) k
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
     AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
WHERE {_USER_SCHEMAS}
  AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)
ORDER BY tn.nspname, t.relname, i.relname
"""


@dataclass(frozen=True)
class StatementStats:
    """One row of pg_stat_statements: a normalized statement with `$n` placeholders."""

    queryid: int
    query: str
    calls: int
    total_exec_time: float  # milliseconds

    @property
    def mean_ms(self) -> float:
        return self.total_exec_time / self.calls if self.calls else 0.0


def session(url: str, *, timeout: float = 5.0, read_only: bool = True,
            statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> psycopg.Connection[Any]:
    """An autocommit psycopg connection to a PostgreSQL URL (postgres://, postgresql+psycopg://
    accepted), read-only unless told otherwise, with a statement timeout."""
    scheme, _, rest = url.partition("://")
    if scheme.split("+")[0].lower() in ("postgres", "postgresql"):
        url = f"postgresql://{rest}"
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)))
    except psycopg.Error as exc:
        raise fail(url, "cannot connect", exc) from exc
    try:
        conn.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
        if read_only:
            conn.execute("SET default_transaction_read_only = on")
    except psycopg.Error as exc:
        conn.close()
        raise fail(url, "cannot set up the session", exc) from exc
    return conn


def fetch_indexes(conn_or_url: psycopg.Connection[Any] | str) -> list[ExistingIndex]:
    """Every index of the user schemas, with its size, scan count and the statistics' age."""
    conn, owned = _open(conn_or_url)
    try:
        rows = conn.execute(_INDEXES_SQL).fetchall()
        since = conn.execute(
            "SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    except psycopg.Error as exc:
        raise fail(_where(conn), "reading the indexes failed", exc) from exc
    finally:
        if owned:
            conn.close()
    stats_since = since[0] if since else None
    indexes = []
    for (oid, schema, name, table_schema, table, unique, primary, valid, partitioned,
         constraint, method, predicate, size, scans, key_count, texts, expressions,
         suffixes) in rows:
        if texts is None or None in texts:
            # dropped by another session while the catalog was read: pg_get_indexdef found no
            # index, and there is none left to judge
            continue
        items = [(_parenthesized(text) if expression else text) + suffix
                 for text, expression, suffix in zip(texts, expressions, suffixes, strict=True)]
        indexes.append(ExistingIndex(
            name=f"{schema}.{name}", table=f"{table_schema}.{table}",
            keys=tuple(items[:key_count]), include=tuple(items[key_count:]),
            unique=unique, primary=primary, constraint=constraint, predicate=predicate,
            method=method, size_bytes=int(size or 0),
            idx_scan=None if scans is None else int(scans), stats_since=stats_since,
            valid=valid, partitioned=partitioned, oid=int(oid),
        ))
    return indexes


def fetch_statements(url: str, *, limit: int = 500) -> list[StatementStats]:
    """The current database's statements from pg_stat_statements, most total time first.

    EngineError, saying what to set, when the module is not preloaded or the extension is
    not created in this database.
    """
    conn, _ = _open(url)
    with conn:
        try:
            # the view lives in the extension's schema, which the URL's search_path may omit
            present = conn.execute(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'").fetchone()
        except psycopg.Error as exc:
            raise fail(url, "reading pg_extension failed", exc) from exc
        if not present:
            raise EngineError(
                f"{redact(url)}: pg_stat_statements is not installed in this database; run "
                "CREATE EXTENSION pg_stat_statements (the server must also have "
                "shared_preload_libraries = 'pg_stat_statements', which needs a restart)")
        try:
            view = pgsql.Identifier(str(present[0]), "pg_stat_statements")
            rows = conn.execute(pgsql.SQL(
                "SELECT s.queryid, s.query, s.calls, s.total_exec_time "
                "FROM {} s JOIN pg_database d ON d.oid = s.dbid "
                "WHERE d.datname = current_database() AND s.queryid IS NOT NULL "
                "ORDER BY s.total_exec_time DESC, s.queryid LIMIT %s").format(view),
                (int(limit),),
            ).fetchall()
        except psycopg.errors.ObjectNotInPrerequisiteState as exc:
            raise EngineError(
                f"{redact(url)}: pg_stat_statements is not loaded; set "
                "shared_preload_libraries = 'pg_stat_statements' (keeping any libraries already "
                "listed) in postgresql.conf or with ALTER SYSTEM, and restart the server"
            ) from exc
        except psycopg.Error as exc:
            raise fail(url, "reading pg_stat_statements failed", exc) from exc
    return [StatementStats(int(q), str(text), int(calls), float(total))
            for q, text, calls, total in rows]


def fail(url: str, what: str, exc: BaseException) -> EngineError:
    """An EngineError naming the server (password hidden) and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return EngineError(f"{redact(url)}: {what}: {message}")


def _open(conn_or_url: psycopg.Connection[Any] | str) -> tuple[psycopg.Connection[Any], bool]:
    if isinstance(conn_or_url, str):
        return session(conn_or_url), True
    return conn_or_url, False


def _where(conn: psycopg.Connection[Any]) -> str:
    info = conn.info
    return f"postgresql://{info.user}@{info.host}:{info.port}/{info.dbname}"


def _parenthesized(expression: str) -> str:
    """`(expr)`, as IndexCandidate writes an expression key; the catalog already wraps some
    (`(a + b)`) and not others (`lower(email)`)."""
    if expression.startswith("("):
        depth = 0
        for position, char in enumerate(expression):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                if position == len(expression) - 1:
                    return expression
                break
    return f"({expression})"
