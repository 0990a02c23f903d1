"""The fixes of the rename, drop and enum rules (L401–L411) run on PostgreSQL 15 and MariaDB.

A finding's fix is a claim about an engine: that the expand/contract script runs, and that
while it is half done both the running application (old names) and the next release (new
names) keep working. Each test takes the fix dbarch prints for a statement, fills in what a
linter cannot know (a column's type), runs it on a scratch schema/database with rows in it,
and plays both application versions against it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pymysql
import pytest
from pglast import split as pg_split
from psycopg import sql as pgsql

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import POSTGRESQL_URL
except ImportError:
    from conftest import POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.lint.config import LintConfig
from dbarch.lint.rule import Finding
from dbarch.lint.run import lint_text

ROWS = 200


def finding(code: str, text: str, **config: Any) -> Finding:
    """The one finding `code` reports on `text`."""
    report = lint_text(text, LintConfig.from_mapping({"enable": [code], **config}))
    assert not report.problems, report.problems
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


def phases(fix: str, **types: str) -> list[list[str]]:
    """The fix split at its `-- release` comments into lists of statements.

    `<type of X>` placeholders are filled from `types`; comment lines are dropped.
    """
    for column, type_ in types.items():
        fix = fix.replace(f"<type of {column}>", type_)
    assert "<" not in fix.replace("<=>", ""), f"unfilled placeholder in: {fix}"
    out = _releases(fix)
    return [[s for s in pg_split("\n".join(chunk)) if s.strip()] if chunk else []
            for chunk in out]


def _releases(fix: str) -> list[list[str]]:
    """The script's lines grouped by `-- release N` comment, comments dropped."""
    out: list[list[str]] = []
    for line in fix.splitlines():
        if line.startswith("-- release") or not out:
            out.append([])
        if not line.startswith("--"):
            out[-1].append(line)
    return out


# --- PostgreSQL -----------------------------------------------------------------------------------
@pytest.fixture
def pg() -> Iterator[psycopg.Connection[Any]]:
    """An autocommit session on a fresh scratch schema holding `orders` with ROWS rows."""
    schema = f"lint_ec_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    try:
        conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(schema)))
        conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
        conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total int NOT NULL DEFAULT 7,"
                     " note text, shipped_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO orders (id, total, note) "
                     "SELECT g, g * 10, 'n' || g FROM generate_series(1, %s) g", (ROWS,))
        yield conn
    finally:
        conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            pgsql.Identifier(schema)))
        conn.close()


def run_pg(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    for statement in statements:
        conn.execute(statement)


@pytest.mark.engine
def test_rename_column_recipe_keeps_both_versions_working_pg(pg: psycopg.Connection[Any]) -> None:
    fix = finding("L401", "ALTER TABLE orders RENAME COLUMN total TO amount;").fix
    expand, switch, contract = phases(fix or "", total="int")
    assert switch == []  # release 2 is the application's step
    run_pg(pg, expand)
    assert pg.execute("SELECT count(*) FROM orders WHERE amount IS DISTINCT FROM total"
                      ).fetchone() == (0,)
    # the running release writes total; the next one writes amount: both stay in step
    pg.execute("INSERT INTO orders (id, total) VALUES (1001, 5)")
    pg.execute("UPDATE orders SET total = 77 WHERE id = 1")
    pg.execute("INSERT INTO orders (id, amount) VALUES (1002, 9)")
    pg.execute("UPDATE orders SET amount = 88 WHERE id = 2")
    rows = pg.execute("SELECT id, total, amount FROM orders WHERE id IN (1, 2, 1001, 1002) "
                      "ORDER BY id").fetchall()
    assert rows == [(1, 77, 77), (2, 88, 88), (1001, 5, 5), (1002, 9, 9)]
    run_pg(pg, contract)
    assert pg.execute("SELECT amount FROM orders WHERE id = 3").fetchone() == (30,)
    columns = {r[0] for r in pg.execute("SELECT attname FROM pg_attribute WHERE attrelid = "
                                        "'orders'::regclass AND attnum > 0 AND NOT attisdropped")}
    assert "total" not in columns and "amount" in columns


@pytest.mark.engine
def test_rename_table_recipe_keeps_old_name_writable_pg(pg: psycopg.Connection[Any]) -> None:
    fix = finding("L402", "ALTER TABLE orders RENAME TO purchases;").fix
    expand, contract = phases(fix or "")
    run_pg(pg, expand)
    # the running release still writes through the old name; defaults of the table apply
    pg.execute("INSERT INTO orders (id) VALUES (1001)")
    pg.execute("UPDATE orders SET note = 'via view' WHERE id = 1")
    pg.execute("DELETE FROM orders WHERE id = 2")
    assert pg.execute("SELECT total, note FROM purchases WHERE id IN (1, 1001) ORDER BY id"
                      ).fetchall() == [(10, "via view"), (7, None)]
    assert pg.execute("SELECT count(*) FROM purchases").fetchone() == (ROWS,)
    run_pg(pg, contract)
    assert pg.execute("SELECT to_regclass('orders')").fetchone() == (None,)


@pytest.mark.engine
def test_drop_column_fix_runs_pg(pg: psycopg.Connection[Any]) -> None:
    fix = finding("L405", "ALTER TABLE orders DROP COLUMN note;").fix
    (release2,) = [p for p in phases(fix or "") if p]
    run_pg(pg, release2)
    assert pg.execute("SELECT count(*) FROM information_schema.columns WHERE "
                      "table_schema = current_schema() AND table_name = 'orders' AND "
                      "column_name = 'note'").fetchone() == (0,)


@pytest.mark.engine
def test_drop_not_null_fix_and_its_cheap_restore_pg(pg: psycopg.Connection[Any]) -> None:
    fix = finding("L409", "ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;").fix or ""
    (statements,) = phases(fix)
    run_pg(pg, statements)
    pg.execute("INSERT INTO orders (id, shipped_at) VALUES (1001, NULL)")
    pg.execute("DELETE FROM orders WHERE id = 1001")
    restore = fix.split("-- to restore later without a blocking scan: ", 1)[1]
    run_pg(pg, [s for s in pg_split(restore) if s.strip()])
    assert pg.execute("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass "
                      "AND attname = 'shipped_at'").fetchone() == (True,)


@pytest.mark.engine
def test_enum_value_rename_recipe_and_add_value_in_transaction_pg(
        pg: psycopg.Connection[Any]) -> None:
    pg.execute("CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')")
    pg.execute("ALTER TABLE orders ADD COLUMN status order_status NOT NULL DEFAULT 'paid'")
    # L411: inside a transaction on PostgreSQL 12+ the new value is unusable until COMMIT
    text = "BEGIN;\nALTER TYPE order_status ADD VALUE 'refunded';\nCOMMIT;"
    assert "unsafe use of new value" in finding("L411", text).message
    pg.execute("BEGIN")
    pg.execute("ALTER TYPE order_status ADD VALUE 'refunded'")
    with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage):
        pg.execute("UPDATE orders SET status = 'refunded' WHERE id = 1")
    pg.execute("ROLLBACK")
    # L404's recipe: add the new label after the old one, move the rows, old label unused
    fix = finding("L404", "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';").fix or ""
    fix = fix.replace("<table>", "orders").replace("<column>", "status")
    statements = [s for s in pg_split("\n".join(
        line for line in fix.splitlines() if not line.startswith("--"))) if s.strip()]
    run_pg(pg, statements)
    assert pg.execute("SELECT count(*) FROM orders WHERE status = 'settled'").fetchone() == (
        min(ROWS, 10000),)
    assert pg.execute("SELECT 'paid'::order_status < 'settled'::order_status AND "
                      "'settled'::order_status < 'shipped'::order_status").fetchone() == (True,)


@pytest.mark.engine
def test_schema_rename_recipe_search_path_spans_the_rename_pg(
        pg: psycopg.Connection[Any]) -> None:
    old, new = f"billing_{uuid.uuid4().hex[:8]}", f"invoicing_{uuid.uuid4().hex[:8]}"
    fix = finding("L403", f"ALTER SCHEMA {old} RENAME TO {new};").fix or ""
    assert f"search_path = {new}, {old}, public" in fix
    pg.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(old)))
    try:
        pg.execute(pgsql.SQL("CREATE TABLE {}.invoices (id int)").format(pgsql.Identifier(old)))
        # the session the recipe sets up: both names listed, queries unqualified
        pg.execute(pgsql.SQL("SET search_path = {}, {}").format(pgsql.Identifier(new),
                                                                 pgsql.Identifier(old)))
        pg.execute("INSERT INTO invoices VALUES (1)")
        pg.execute(pgsql.SQL("ALTER SCHEMA {} RENAME TO {}").format(pgsql.Identifier(old),
                                                                    pgsql.Identifier(new)))
        pg.execute("INSERT INTO invoices VALUES (2)")
        assert pg.execute("SELECT count(*) FROM invoices").fetchone() == (2,)
    finally:
        for name in (old, new):
            pg.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                pgsql.Identifier(name)))


# --- MariaDB --------------------------------------------------------------------------------------
@pytest.fixture
def maria() -> Iterator[Any]:
    """A cursor on a fresh scratch database holding `orders` with ROWS rows."""
    database = f"lint_ec_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    cursor = conn.cursor()
    try:
        cursor.execute(f"CREATE DATABASE {database}")
        cursor.execute(f"USE {database}")
        cursor.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT NOT NULL DEFAULT 7,"
                       " note VARCHAR(20))")
        cursor.executemany("INSERT INTO orders (id, total, note) VALUES (%s, %s, %s)",
                           [(i, i * 10, f"n{i}") for i in range(1, ROWS + 1)])
        yield cursor
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS {database}")
        conn.close()


def mysql_statements(chunk: list[str]) -> list[str]:
    """The fix's statements one by one (pglast's splitter keeps MySQL text intact here)."""
    return [s for s in chunk if s.strip()]


@pytest.mark.engine
def test_rename_column_recipe_keeps_both_versions_working_mariadb(maria: Any) -> None:
    fix = finding("L401", "ALTER TABLE orders RENAME COLUMN total TO amount;",
                  dialect="mysql").fix
    expand, switch, contract = (mysql_statements(p) for p in _mysql_phases(fix or "", "INT"))
    assert switch == []
    for statement in expand:
        maria.execute(statement)
    maria.execute("SELECT count(*) FROM orders WHERE NOT (amount <=> total)")
    assert maria.fetchone() == (0,)
    maria.execute("INSERT INTO orders (id, total) VALUES (1001, 5)")
    maria.execute("UPDATE orders SET total = 77 WHERE id = 1")
    maria.execute("INSERT INTO orders (id, amount) VALUES (1002, 9)")
    maria.execute("UPDATE orders SET amount = 88 WHERE id = 2")
    maria.execute("SELECT id, total, amount FROM orders WHERE id IN (1, 2, 1001, 1002) "
                  "ORDER BY id")
    assert maria.fetchall() == ((1, 77, 77), (2, 88, 88), (1001, 5, 5), (1002, 9, 9))
    for statement in contract:
        maria.execute(statement)
    maria.execute("SELECT amount FROM orders WHERE id = 3")
    assert maria.fetchone() == (30,)


@pytest.mark.engine
def test_rename_table_recipe_swaps_atomically_mariadb(maria: Any) -> None:
    fix = finding("L402", "ALTER TABLE orders RENAME TO purchases;", dialect="mysql").fix or ""
    statements = [line for line in fix.splitlines() if not line.startswith("--")]
    create_view, swap, drop_view = statements
    maria.execute(create_view)
    # the next release writes through the new name while the table is still `orders`
    maria.execute("INSERT INTO purchases (id, note) VALUES (1001, 'new name')")
    maria.execute(swap)
    maria.execute(drop_view)
    maria.execute("SELECT total, note FROM purchases WHERE id = 1001")
    assert maria.fetchone() == (7, "new name")
    maria.execute("SELECT count(*) FROM purchases")
    assert maria.fetchone() == (ROWS + 1,)
    maria.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = "
                  "DATABASE() AND table_name = 'purchases'")
    assert maria.fetchone() == ("BASE TABLE",)


@pytest.mark.engine
def test_drop_column_and_default_fixes_run_mariadb(maria: Any) -> None:
    for code, text in (("L410", "ALTER TABLE orders ALTER COLUMN total DROP DEFAULT;"),
                       ("L405", "ALTER TABLE orders DROP COLUMN note;")):
        fix = finding(code, text, dialect="mysql").fix or ""
        for line in fix.splitlines():
            if not line.startswith("--"):
                maria.execute(line.rstrip(";"))
    maria.execute("SELECT column_name, column_default FROM information_schema.columns WHERE "
                  "table_schema = DATABASE() AND table_name = 'orders' ORDER BY ordinal_position")
    assert maria.fetchall() == (("id", None), ("total", None))


def _mysql_phases(fix: str, type_: str) -> list[list[str]]:
    """Like `phases`, for MySQL scripts (one statement a line)."""
    fix = fix.replace("<type of total>", type_)
    return [[line.rstrip(";") for line in chunk] for chunk in _releases(fix)]
