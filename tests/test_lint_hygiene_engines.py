"""The hygiene rules' claims (L901–L906) on the real PostgreSQL 15 and MariaDB 10.11.

What each rule says happens is made to happen: PostgreSQL truncates a long name to exactly the
one L905 predicts and MariaDB refuses it; a statement L906 flags fails on its second run and
its fix runs twice; the fixes of L901–L904 execute and give the column the type they promise;
and the failures those rules guard against (integer overflow, a timestamp read in another
zone) are shown on the server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import psycopg
import pymysql
import pytest

from dbarch.lint.config import LintConfig
from dbarch.lint.run import lint_text
from tests.conftest import MARIADB_URL, POSTGRESQL_URL

pytestmark = pytest.mark.engine


def _findings(sql: str, code: str, dialect: str = "postgresql") -> list:
    config = LintConfig.from_mapping({"dialect": dialect, "enable": [code]})
    report = lint_text(sql, config)
    assert not report.problems, report.problems
    return [f for f in report.findings if f.code == code]


@pytest.fixture
def pg() -> Iterator[psycopg.Connection]:
    """A connection whose search_path is a scratch schema, dropped afterwards."""
    schema = f"hyg_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path = {schema}")
        try:
            yield conn
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def maria() -> Iterator[pymysql.connections.Connection]:
    """A connection to a scratch MariaDB database, dropped afterwards."""
    url = urlparse(MARIADB_URL)
    database = f"hyg_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username,
                           password=url.password or "", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {database}")
        cur.execute(f"USE {database}")
    try:
        yield conn
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE {database}")
        conn.close()


def _pg_error(conn: psycopg.Connection, sql: str) -> str | None:
    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def _maria_error(conn: pymysql.connections.Connection, sql: str) -> int | None:
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
        except pymysql.MySQLError as exc:
            return int(exc.args[0])
    return None


# --- L905 -------------------------------------------------------------------------------------
LONG = "customer_subscription_billing_period_adjustments_history_archive_v2"  # 67 bytes


def test_l905_postgresql_stores_the_truncated_name_it_predicts(pg: psycopg.Connection) -> None:
    sql = f"CREATE TABLE {LONG} (id bigint)"
    (finding,) = _findings(sql + ";", "L905")
    pg.execute(sql)
    (stored,) = pg.execute("SELECT relname FROM pg_class WHERE relnamespace = "
                           "current_schema()::regnamespace AND relkind = 'r'").fetchone()
    assert len(stored.encode()) == 63 and stored != LONG
    assert repr(stored) in finding.message
    # the fix writes the stored name; a second long name with the same 63 bytes collides
    pg.execute(f"DROP TABLE {stored}")
    pg.execute(finding.fix)
    assert _pg_error(pg, f"CREATE TABLE {LONG[:63]}_other_suffix (id bigint)") == "42P07"


def test_l905_postgresql_cuts_bytes_at_a_character_boundary(pg: psycopg.Connection) -> None:
    name = "_".join(["ünïcödé"] * 6)  # 47 characters, 71 bytes
    sql = f"CREATE TABLE t (id bigint, {name} int)"
    (finding,) = _findings(sql + ";", "L905")
    pg.execute(sql)
    (stored,) = pg.execute("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass "
                           "AND attnum = 2").fetchone()
    assert repr(stored) in finding.message
    assert len(stored.encode()) <= 63 and name.startswith(stored)


@pytest.mark.parametrize(("template", "error"), [
    ("CREATE TABLE {name} (id INT)", 1103),
    ("CREATE TABLE t_{n} ({name} INT)", 1059),
    ("CREATE TABLE t_{n} (a INT, INDEX {name} (a))", 1059),
    ("CREATE TABLE t_{n} (a INT, CONSTRAINT {name} CHECK (a > 0))", 1059),
])
def test_l905_mariadb_refuses_65_characters(maria: pymysql.connections.Connection,
                                            template: str, error: int) -> None:
    too_long = template.format(name="x" * 65, n=1)
    fits = template.format(name="x" * 64, n=2)
    assert _maria_error(maria, too_long) == error
    (finding,) = _findings(too_long + ";", "L905", "mysql")
    assert str(error) in finding.message
    assert _maria_error(maria, finding.fix) is None  # the fix's name has 64 characters
    assert not _findings(fits + ";", "L905", "mysql")


# --- L906 -------------------------------------------------------------------------------------
# (state before, statement L906 flags)
PG_RERUNS = [
    ("", "CREATE TABLE audit (id bigint PRIMARY KEY)"),
    ("CREATE TABLE audit (id bigint, body text)", "CREATE INDEX audit_body_idx ON audit (body)"),
    ("CREATE TABLE audit (id bigint, legacy text)",
     "ALTER TABLE audit ADD COLUMN note text, DROP COLUMN legacy"),
    ("CREATE TABLE audit (id bigint, c int CONSTRAINT audit_c_ck CHECK (c > 0))",
     "ALTER TABLE audit DROP CONSTRAINT audit_c_ck"),
    ("", "CREATE SEQUENCE audit_seq"),
    ("CREATE TABLE audit (id bigint)", "CREATE VIEW audit_ids AS SELECT id FROM audit"),
    ("CREATE TABLE audit (id bigint)", "CREATE MATERIALIZED VIEW audit_mv AS SELECT id FROM audit"),
    ("CREATE TABLE audit (id bigint)", "DROP TABLE audit"),
    ("CREATE TABLE audit (id bigint, body text); CREATE INDEX audit_body_idx ON audit (body)",
     "DROP INDEX audit_body_idx"),
]


@pytest.mark.parametrize(("before", "sql"), PG_RERUNS)
def test_l906_flagged_statements_fail_twice_and_their_fixes_do_not(
        pg: psycopg.Connection, before: str, sql: str) -> None:
    (finding,) = _findings(sql + ";", "L906")
    for attempt in (sql, finding.fix):
        _reset(pg, before)
        assert _pg_error(pg, attempt) is None, attempt
        second = _pg_error(pg, attempt)
        if attempt is sql:
            assert second is not None, f"ran twice without failing: {sql}"
        else:
            assert second is None, f"the fix failed on its second run: {attempt}"


def _reset(pg: psycopg.Connection, before: str) -> None:
    """Empty the scratch schema and set up the state the statement starts from."""
    schema = pg.execute("SELECT current_schema()").fetchone()[0]
    pg.execute(f"DROP SCHEMA {schema} CASCADE")
    pg.execute(f"CREATE SCHEMA {schema}")
    for statement in filter(str.strip, before.split(";")):
        pg.execute(statement)


def test_l906_mariadb(maria: pymysql.connections.Connection) -> None:
    for sql in ("CREATE TABLE audit (id BIGINT PRIMARY KEY)", "CREATE VIEW v AS SELECT 1 AS a",
                "DROP TABLE audit"):
        (finding,) = _findings(sql + ";", "L906", "mysql")
        assert _maria_error(maria, sql) is None
        assert _maria_error(maria, sql) is not None
        assert _maria_error(maria, finding.fix) is None
        assert _maria_error(maria, finding.fix) is None


# --- L901–L904: the fixes run and give the promised types -------------------------------------
def _column_type(pg: psycopg.Connection, table: str, column: str) -> tuple[str, str]:
    return pg.execute(
        "SELECT format_type(atttypid, atttypmod), attidentity FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attname = %s", (table, column)).fetchone()


@pytest.mark.parametrize(("code", "sql", "column", "expected"), [
    ("L901", "CREATE TABLE orders (id serial PRIMARY KEY, qty int NOT NULL)", "id",
     ("bigint", "a")),
    ("L901", "CREATE TABLE orders (id bigint PRIMARY KEY, qty int NOT NULL)", "qty",
     ("bigint", "")),
    ("L902", "CREATE TABLE orders (id serial PRIMARY KEY, qty int)", "id", ("integer", "a")),
    ("L903", "CREATE TABLE orders (id bigint PRIMARY KEY, code char(3))", "code", ("text", "")),
    ("L904", "CREATE TABLE orders (id bigint PRIMARY KEY, at timestamp(3) DEFAULT now())",
     "at", ("timestamp(3) with time zone", "")),
])
def test_hygiene_fixes_run(pg: psycopg.Connection, code: str, sql: str, column: str,
                           expected: tuple[str, str]) -> None:
    findings = [f for f in _findings(sql + ";", code) if f".{column} " in f.message]
    assert len(findings) == 1, [f.message for f in findings]
    for statement in findings[0].fix.split(";\n"):
        if statement.strip() and not statement.lstrip().startswith("--"):
            pg.execute(statement)
    assert _column_type(pg, "orders", column) == expected


def test_l903_constraint_fix_on_an_existing_table_validates_online(
        pg: psycopg.Connection) -> None:
    pg.execute("CREATE TABLE users (id bigint PRIMARY KEY)")
    pg.execute("INSERT INTO users SELECT g FROM generate_series(1, 100) g")
    (finding,) = _findings("ALTER TABLE users ADD COLUMN nick varchar(5);", "L903")
    for statement in finding.fix.split("\n"):
        if statement.strip() and not statement.startswith("--"):
            pg.execute(statement)
    assert _column_type(pg, "users", "nick") == ("text", "")
    assert _pg_error(pg, "INSERT INTO users VALUES (1000, 'toolong')") == "23514"
    pg.execute("INSERT INTO users VALUES (1001, 'short')")


def test_l901_the_limit_it_names_is_the_server_limit(pg: psycopg.Connection) -> None:
    (finding,) = _findings("CREATE TABLE c (n integer);", "L901")
    assert "2,147,483,647" in finding.message
    pg.execute("CREATE TABLE c (n integer)")
    pg.execute("INSERT INTO c VALUES (2147483647)")
    assert _pg_error(pg, "UPDATE c SET n = n + 1") == "22003"  # integer out of range


def test_l904_timestamp_means_different_instants_per_session_zone(
        pg: psycopg.Connection) -> None:
    pg.execute("CREATE TABLE e (plain timestamp, zoned timestamptz)")
    pg.execute("SET TimeZone = 'UTC'")
    pg.execute("INSERT INTO e VALUES ('2024-01-01 12:00', '2024-01-01 12:00')")
    instants = {}
    for zone in ("UTC", "America/New_York"):
        pg.execute(f"SET TimeZone = '{zone}'")
        instants[zone] = pg.execute(
            "SELECT extract(epoch FROM plain::timestamptz), extract(epoch FROM zoned) FROM e"
        ).fetchone()
    assert instants["UTC"][0] != instants["America/New_York"][0]  # timestamp drifts
    assert instants["UTC"][1] == instants["America/New_York"][1]  # timestamptz does not
