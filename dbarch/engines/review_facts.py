"""What `dbarch review` reads from a live database beyond the schema: rows, sizes, column
statistics, key generators' values and index usage, as `dbarch.review.facts.Facts`.

Read-only sessions with a statement timeout; only catalogs and statistics views are read on
PostgreSQL. MariaDB/MySQL and SQLite keep no per-column statistics a client can read, so
their null fractions and distinct counts come from the first `sample_rows` rows of each table
(one bounded query per table), and the report says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from dbarch.engines.base import redact
from dbarch.errors import EngineError, InputError, Problem
from dbarch.parse import ParsedSchema
from dbarch.review.facts import (
    COLUMN_STATS,
    INDEX_USAGE,
    ROWS,
    SEQUENCES,
    ColumnStats,
    Facts,
    SequenceFacts,
    TableFacts,
)
from dbarch.review.spec_patterns import STATEMENTS_READ, StatementFacts, StatementLog
from dbarch.schema.model import Table, TypeKind

_TIMEOUT_MS = 30_000
_TEXT = (TypeKind.string, TypeKind.text)

_PG_TABLES = """
SELECT c.relname, c.reltuples::float8, pg_total_relation_size(c.oid),
       s.seq_scan + coalesce(s.idx_scan, 0),
       EXISTS (SELECT FROM pg_stats ps WHERE ps.schemaname = n.nspname
               AND ps.tablename = c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

# Common values are read only for columns with few distinct values (the CHECK a fix proposes);
# anyarray goes through text to text[].
_PG_STATS = """
SELECT tablename, attname, null_frac, n_distinct,
       CASE WHEN n_distinct BETWEEN 1 AND %s THEN most_common_vals::text::text[] END
FROM pg_stats WHERE schemaname = current_schema()
ORDER BY tablename, attname, inherited DESC
"""

# The sequence behind each serial or identity column of the schema, with its last value.
_PG_SEQUENCES = """
SELECT t.relname, a.attname, quote_ident(sn.nspname) || '.' || quote_ident(sc.relname),
       ps.last_value
FROM pg_depend d
JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
JOIN pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = sc.relname
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND t.relnamespace = current_schema()::regnamespace
  AND ps.last_value IS NOT NULL
"""


def read_live(url: str, *, sample_rows: int, values_upto: int) -> tuple[ParsedSchema, Facts, str]:
    """The schema at `url`, its facts, and its dialect (postgresql, mysql or sqlite).

    `values_upto`: a text column with at most this many distinct values gets them listed.
    """
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme == "sqlite":
        path = _sqlite_path(url)
        from dbarch.engines.introspect import introspect_sqlite

        parsed = introspect_sqlite(path)
        return parsed, _sqlite_facts(path, parsed, sample_rows, values_upto), "sqlite"
    from dbarch.engines.introspect import introspect, url_dialect

    parsed = introspect(url)
    dialect = url_dialect(url)
    if dialect == "postgresql":
        return parsed, _postgresql_facts(url, values_upto), dialect
    return parsed, _mysql_facts(url, parsed, sample_rows, values_upto), dialect


# ---------------------------------------------------------------------------- PostgreSQL


def _postgresql_facts(url: str, values_upto: int) -> Facts:
    import psycopg

    from dbarch.engines.index_catalog import fail, fetch_indexes, session

    conn = session(url)
    with conn:
        try:
            schema = str(conn.execute("SELECT current_schema()").fetchone()[0])
            version = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
            tables = conn.execute(_PG_TABLES).fetchall()
            stats = conn.execute(_PG_STATS, (values_upto,)).fetchall()
            sequences = conn.execute(_PG_SEQUENCES).fetchall()
        except psycopg.Error as exc:
            raise fail(url, "reading the statistics failed", exc) from exc
        indexes = [i for i in fetch_indexes(conn) if i.table.split(".", 1)[0] == schema]
        statements = _pg_statements(url, conn, schema)
    facts = StatementFacts(
        source=f"PostgreSQL {version} (pg_class, pg_stats, pg_stat_user_indexes)",
        provides=frozenset({ROWS, COLUMN_STATS, SEQUENCES, INDEX_USAGE}), indexes=indexes,
        statements=statements)
    for name, reltuples, size, reads, analyzed in tables:
        rows = max(int(reltuples or 0), 0)
        facts.tables[name] = TableFacts(rows=rows, bytes=int(size or 0),
                                        stats_rows=rows if analyzed else 0,
                                        reads=None if reads is None else int(reads))
    for table, column, null_frac, n_distinct, common in stats:
        found = facts.tables.get(table)
        if found is None or column in found.columns:
            continue
        # a negative n_distinct is a fraction of the rows (the count grows with the table)
        distinct = float(n_distinct) if n_distinct >= 0 else -float(n_distinct) * found.rows
        found.columns[column] = ColumnStats(null_frac=float(null_frac), n_distinct=distinct,
                                            common_values=tuple(common or ()))
    facts.sequences = [SequenceFacts(table=t, column=c, last_value=int(v), sequence=s)
                       for t, c, s, v in sequences]
    return facts


# The clocks the statement counts may have started by, best first: pg_stat_statements' own
# reset (PostgreSQL 14+; `{}` is the extension's schema), the database's statistics reset,
# the server's start (an upper bound on the time: the counts may survive a restart).
_PG_CLOCKS = (
    ("pg_stat_statements_info.stats_reset",
     "SELECT extract(epoch FROM now() - stats_reset)::float8, stats_reset::text "
     "FROM {}.pg_stat_statements_info"),
    ("pg_stat_database.stats_reset",
     "SELECT extract(epoch FROM now() - stats_reset)::float8, stats_reset::text "
     "FROM pg_stat_database WHERE datname = current_database()"),
    ("the server's start (pg_postmaster_start_time(); the statistics may be older)",
     "SELECT extract(epoch FROM now() - pg_postmaster_start_time())::float8, "
     "pg_postmaster_start_time()::text"),
)


_USER_SCHEMAS_SQL = ("n.nspname NOT IN ('pg_catalog', 'information_schema') "
                     "AND n.nspname !~ '^pg_(toast|temp)'")


def _pg_statements(url: str, conn: Any, schema: str) -> StatementLog:
    """pg_stat_statements' statements of this database (through `fetch_statements`), the
    rows each returned on average, and how long they have been counted; when the view cannot
    be read, why (the spec says how to get it)."""
    import psycopg
    from psycopg import sql as pgsql

    from dbarch.engines.index_catalog import fail, fetch_statements

    try:
        stats = fetch_statements(url, limit=STATEMENTS_READ)
    except EngineError as exc:
        return StatementLog(schema, missing=str(exc).split(": ", 1)[-1])
    log = StatementLog(schema, rows=[(s.queryid, s.query, s.calls, s.total_exec_time)
                                     for s in stats])
    try:
        found = conn.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                             "n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'"
                             ).fetchone()
        where = pgsql.Identifier(str(found[0]))
        view = pgsql.SQL("{}.pg_stat_statements").format(where)
        for queryid, mean, in conn.execute(pgsql.SQL(
                "SELECT s.queryid, sum(s.rows)::float8 / nullif(sum(s.calls), 0) FROM {} s "
                "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() "
                "AND s.queryid IS NOT NULL GROUP BY s.queryid").format(view)).fetchall():
            log.mean_rows[int(queryid)] = float(mean or 0.0)
        log.other_schemas = int(conn.execute(
            "SELECT count(DISTINCT c.relnamespace) FROM pg_class c JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname <> "
            f"current_schema() AND {_USER_SCHEMAS_SQL}").fetchone()[0])
        log.total = int(conn.execute(pgsql.SQL(
            "SELECT count(*) FROM {} s JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND s.queryid IS NOT NULL").format(view)
        ).fetchone()[0])
        for clock, query in _PG_CLOCKS:
            try:
                row = conn.execute(pgsql.SQL(query).format(where)).fetchone()
            except psycopg.errors.UndefinedTable:  # PostgreSQL 13 and older: no _info view
                continue
            if row and row[0] is not None and row[0] > 0:
                log.seconds, log.since, log.clock = float(row[0]), str(row[1]), clock
                break
    except psycopg.Error as exc:  # the review goes on without the patterns
        why = str(fail(url, "reading pg_stat_statements failed", exc)).split(": ", 1)[-1]
        return StatementLog(schema, missing=why)
    return log


# ---------------------------------------------------------------------------- MariaDB/MySQL


def _mysql_facts(url: str, parsed: ParsedSchema, sample_rows: int, values_upto: int) -> Facts:
    import pymysql

    parts = urlsplit(url)
    try:
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
            user=unquote(parts.username or "root"), password=unquote(parts.password or ""),
            database=parts.path.lstrip("/") or None, connect_timeout=5, autocommit=True,
            charset="utf8mb4")
    except pymysql.Error as exc:
        raise _fail(url, "cannot connect", exc) from exc
    facts = Facts(provides=frozenset({ROWS, COLUMN_STATS, SEQUENCES}), sampled=sample_rows,
                  unavailable={INDEX_USAGE: "MariaDB/MySQL keeps no index usage a client can "
                               "read without userstat=ON or performance_schema"})
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute("SELECT VERSION()")
            version = str(cur.fetchone()[0])
            if "mariadb" in version.lower():
                cur.execute(f"SET SESSION max_statement_time = {_TIMEOUT_MS / 1000}")
            cur.execute(
                "SELECT TABLE_NAME, coalesce(TABLE_ROWS, 0), coalesce(DATA_LENGTH, 0) + "
                "coalesce(INDEX_LENGTH, 0), AUTO_INCREMENT FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
            counters = {}
            for name, rows, size, auto in cur.fetchall():
                facts.tables[name] = TableFacts(rows=int(rows), bytes=int(size))
                if auto is not None:
                    counters[name] = int(auto)
            cur.execute("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                        "TABLE_SCHEMA = DATABASE() AND EXTRA LIKE '%auto_increment%'")
            for table, column in cur.fetchall():
                if counters.get(table, 0) > 1:
                    facts.sequences.append(SequenceFacts(table, column, counters[table] - 1))
            _add_column_checks(cur, parsed)
            for table in parsed.schema.tables:
                _sample(cur, _backtick, table, facts, sample_rows, values_upto)
    except pymysql.Error as exc:
        raise _fail(url, "reading the statistics failed", exc) from exc
    facts.source = (f"MariaDB/MySQL {version.split('-')[0]} (information_schema; column "
                    f"statistics from the first {sample_rows:,} rows of each table)")
    return facts


def _add_column_checks(cur: Any, parsed: ParsedSchema) -> None:
    """The CHECK constraints SQLAlchemy's MySQL reflection misses (MariaDB's column-level
    ones, written inside a column definition), added to the schema read."""
    import pymysql

    from dbarch.schema.model import Check

    try:  # MariaDB names each check's table (two tables may both have a check `status`)
        cur.execute("SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM "
                    "information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()")
    except pymysql.err.OperationalError:  # MySQL 8: through TABLE_CONSTRAINTS
        cur.execute(
            "SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM "
            "information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.CHECK_CONSTRAINTS "
            "cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = "
            "tc.CONSTRAINT_NAME WHERE tc.CONSTRAINT_TYPE = 'CHECK' "
            "AND tc.TABLE_SCHEMA = DATABASE()")
    tables = {t.name: t for t in parsed.schema.tables}
    for table_name, name, clause in cur.fetchall():
        table = tables.get(table_name)
        if table is None or any(c.name == name for c in table.checks):
            continue
        column = next((c.name for c in table.columns if f"`{c.name}`" in clause), "")
        table.checks.append(Check(name=name, column=column,
                                  expression=str(clause).replace("`", "")))


def _backtick(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# ---------------------------------------------------------------------------- SQLite


def _sqlite_path(url: str) -> str:
    path = url.split("://", 1)[1]
    path = path[1:] if path.startswith("/") else path  # sqlite:///rel.db, sqlite:////abs.db
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        raise InputError([Problem(redact(url), "an in-memory SQLite database is empty",
                                  hint="give a file: sqlite:///path/to/app.db")])
    if not Path(path).is_file():
        raise InputError([Problem(path, "no such SQLite database file")])
    return path


def _sqlite_facts(path: str, parsed: ParsedSchema, sample_rows: int, values_upto: int) -> Facts:
    import sqlite3

    facts = Facts(provides=frozenset({ROWS, COLUMN_STATS, SEQUENCES}), sampled=sample_rows,
                  unavailable={INDEX_USAGE: "SQLite keeps no index usage statistics"},
                  source=f"SQLite (row counts; column statistics from the first "
                         f"{sample_rows:,} rows of each table)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise EngineError(f"{path}: cannot open: {exc}") from exc
    try:
        cur = conn.cursor()
        for table in parsed.schema.tables:
            facts.tables[table.name] = TableFacts()
            _sample(cur, _double_quote, table, facts, sample_rows, values_upto)
            facts.tables[table.name].rows = facts.tables[table.name].stats_rows
        has_sequences = cur.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name = 'sqlite_sequence'").fetchone()[0]
        if has_sequences:
            keys = {t.name: t.primary_key[0] for t in parsed.schema.tables
                    if len(t.primary_key) == 1}
            for name, value in cur.execute("SELECT name, seq FROM sqlite_sequence"):
                if name in keys:
                    facts.sequences.append(SequenceFacts(name, keys[name], int(value)))
    except sqlite3.Error as exc:
        raise EngineError(f"{path}: reading the statistics failed: {exc}") from exc
    finally:
        conn.close()
    return facts


def _double_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------- sampling


def _sample(cur: Any, q: Callable[[str], str], table: Table, facts: Facts, sample_rows: int,
            values_upto: int) -> None:
    """Null fractions and distinct counts of `table` from its first `sample_rows` rows, in one
    query; then the values of text columns with at most `values_upto` of them."""
    found = facts.tables.setdefault(table.name, TableFacts())
    if not table.columns:
        return
    texts = [c for c in table.columns if c.type.kind in _TEXT]
    sample = (f"(SELECT {', '.join(q(c.name) for c in table.columns)} FROM {q(table.name)} "
              f"LIMIT {int(sample_rows)}) s")
    counts = ["COUNT(*)", *(f"COUNT({q(c.name)})" for c in table.columns),
              *(f"COUNT(DISTINCT {q(c.name)})" for c in texts)]
    cur.execute(f"SELECT {', '.join(counts)} FROM {sample}")
    row = cur.fetchone()
    total = int(row[0])
    found.stats_rows = total
    if total < sample_rows:  # the sample read the whole table: an exact count, not an estimate
        found.rows = total
    if not total:
        return
    distinct = dict(zip((c.name for c in texts), row[1 + len(table.columns):], strict=True))
    for column, present in zip(table.columns, row[1:1 + len(table.columns)], strict=True):
        n = distinct.get(column.name)
        values: tuple[str, ...] = ()
        if n is not None and 1 <= int(n) <= values_upto:
            cur.execute(f"SELECT DISTINCT {q(column.name)} FROM {sample} "
                        f"WHERE {q(column.name)} IS NOT NULL")
            values = tuple(str(v[0]) for v in cur.fetchall())
        found.columns[column.name] = ColumnStats(
            null_frac=1 - int(present) / total,
            n_distinct=None if n is None else float(n), common_values=values)


def _fail(url: str, what: str, exc: BaseException) -> EngineError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return EngineError(f"{redact(url)}: {what}: {message}")
