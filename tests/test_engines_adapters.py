"""The engine adapters on the real local servers: apply, load, analyze, explain, clean up."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pymysql
import pytest

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import MARIADB_URL, POSTGRESQL_URL
except ImportError:
    from conftest import MARIADB_URL, POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.engines import Engine, engine_class, engine_for
from dbarch.errors import EngineError

DDL = """
-- two tables; a semicolon inside a literal must not split the statement
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email VARCHAR(100) NOT NULL,
  note VARCHAR(20) DEFAULT 'a;b',
  CONSTRAINT users_email_key UNIQUE (email)
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  created_at TIMESTAMP NOT NULL,
  status VARCHAR(10) NOT NULL
);
CREATE INDEX orders_user_id_created_at_idx ON orders (user_id, created_at);
"""

USERS = 2_000
ORDERS = 20_000
START = datetime(2026, 1, 1)


def _load(engine: Engine) -> None:
    users = [(i, f"user{i}@example.com") for i in range(1, USERS + 1)]
    engine.load("users", ["id", "email"], users)
    engine.load(
        "orders",
        ["id", "user_id", "created_at", "status"],
        [(i, 1 + i % USERS, START + timedelta(minutes=i), "paid") for i in range(1, ORDERS + 1)],
    )
    engine.analyze()


def test_apply_load_explain(engine_url: str) -> None:
    with engine_for(engine_url) as engine:
        assert engine.apply(DDL) == 3
        _load(engine)
        assert engine.query("SELECT count(*) FROM orders") == [(ORDERS,)]

        served = engine.explain(
            "SELECT * FROM orders WHERE user_id = 42 ORDER BY created_at DESC LIMIT 20"
        )
        assert "orders_user_id_created_at_idx" in served.indexes
        assert served.full_scans == []
        assert served.uses_index
        assert "orders_user_id_created_at_idx" in served.access_path

        # Nothing gives the orders in status order: every engine sorts them itself.
        assert engine.explain("SELECT * FROM orders ORDER BY status LIMIT 5").sorts
        assert not engine.explain("SELECT id FROM orders WHERE id = 7").sorts

        # No index on status: whatever the engine, it must read the whole table.
        scan = engine.explain("SELECT * FROM orders WHERE status = 'lost'")
        assert scan.full_scans == ["orders"]
        assert not scan.uses_index
        assert "orders" in scan.access_path


def test_plan_numbers(engine_url: str) -> None:
    """PostgreSQL reports a cost; PostgreSQL and MariaDB an estimate of the rows."""
    with engine_for(engine_url) as engine:
        engine.apply(DDL)
        _load(engine)
        plan = engine.explain("SELECT * FROM orders WHERE user_id = 42")
        if engine.name == "postgresql":
            assert plan.cost is not None and plan.cost > 0
        if engine.name in ("postgresql", "mariadb"):
            # 20,000 orders over 2,000 users: 10 each; the estimate must be near it.
            assert plan.rows is not None and 1 <= plan.rows <= 40


def test_indexes_name_the_unique_constraint(engine_url: str) -> None:
    with engine_for(engine_url) as engine:
        engine.apply(DDL)
        found = engine.indexes("users")
        emails = [name for name, cols in found.items() if cols == ["email"]]
        assert len(emails) == 1
        if engine.name != "sqlite":  # SQLite calls it sqlite_autoindex_users_N
            assert emails == ["users_email_key"]
        orders = engine.indexes("orders")
        assert orders["orders_user_id_created_at_idx"] == ["user_id", "created_at"]


def test_failing_statement_is_located(engine_url: str) -> None:
    with engine_for(engine_url) as engine, pytest.raises(EngineError) as info:
        engine.apply("CREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE a (id INTEGER);")
    message = str(info.value)
    assert "statement 2 of 2" in message
    assert "CREATE TABLE a (id INTEGER)" in message
    assert engine_url.split("://")[0] in message


def test_foreign_keys_are_enforced(engine_url: str) -> None:
    """A sample that broke a reference would be refused: the premise of the sample tests."""
    with engine_for(engine_url) as engine:
        engine.apply(DDL)
        with pytest.raises(EngineError, match="loading"):
            engine.load("orders", ["id", "user_id", "created_at", "status"],
                        [(1, 999, START, "paid")])


def test_postgresql_schema_dropped_on_close() -> None:
    with engine_for(POSTGRESQL_URL) as engine:
        engine.apply(DDL)
        name = engine.namespace
    with psycopg.connect(POSTGRESQL_URL) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = %s", (name,)
        ).fetchall()
    assert rows == []


def test_postgresql_schema_kept_when_asked() -> None:
    with engine_for(POSTGRESQL_URL, keep=True) as engine:
        engine.apply(DDL)
        name = engine.namespace
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (name,)
        ).fetchall()
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    assert tables == [("orders",), ("users",)]


def test_mariadb_database_dropped_on_close() -> None:
    with engine_for(MARIADB_URL) as engine:
        engine.apply(DDL)
        name = engine.namespace
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES LIKE %s", (name,))
            assert cur.fetchall() == ()
    finally:
        conn.close()


def test_sqlite_file_deleted_on_close(tmp_path: Path) -> None:
    path = tmp_path / "verify.db"
    with engine_for(f"sqlite:///{path}") as engine:
        engine.apply(DDL)
        assert path.exists()
    assert not path.exists()


def test_sqlite_file_kept_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "kept.db"
    with engine_for(f"sqlite:///{path}", keep=True) as engine:
        engine.apply(DDL)
    tables = sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1"
    ).fetchall()
    assert tables == [("orders",), ("users",)]


def test_sqlite_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "precious.db"
    path.write_bytes(b"")
    with pytest.raises(EngineError, match="already exists"):
        engine_for(f"sqlite:///{path}")
    assert path.exists()


def test_unreachable_server_names_url_without_password() -> None:
    with pytest.raises(EngineError) as info:
        engine_for("postgresql://postgres:s3cret@127.0.0.1:1/test", timeout=1)
    message = str(info.value)
    assert "postgresql at postgresql://postgres:***@127.0.0.1:1/test" in message
    assert "cannot connect" in message
    assert "s3cret" not in message


def test_unreachable_mariadb_names_url_without_password() -> None:
    with pytest.raises(EngineError) as info:
        engine_for("mysql://root:s3cret@127.0.0.1:1/test", timeout=1)
    assert "mariadb at mysql://root:***@127.0.0.1:1/test: cannot connect" in str(info.value)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite://", "sqlite"),
        ("sqlite:///tmp/x.db", "sqlite"),
        ("postgresql://u@h/db", "postgresql"),
        ("postgres://u@h/db", "postgresql"),
        ("postgresql+psycopg://u@h/db", "postgresql"),
        ("mysql://u@h/db", "mariadb"),
        ("mariadb://u@h/db", "mariadb"),
    ],
)
def test_engine_class_by_scheme(url: str, name: str) -> None:
    assert engine_class(url).name == name


def test_unknown_scheme() -> None:
    with pytest.raises(EngineError, match="unknown engine scheme 'oracle'"):
        engine_class("oracle://scott:tiger@h/db")


def test_versions(engine_url: str) -> None:
    with engine_for(engine_url) as engine:
        version = engine.version()
    expected = {"sqlite": "SQLite 3.", "postgresql": "PostgreSQL 15.", "mariadb": "MariaDB 10.11."}
    assert version.startswith(expected[engine.name])


def test_postgresql_prices_a_plan_without_an_index_and_rolls_back() -> None:
    with engine_for(POSTGRESQL_URL) as engine:
        engine.apply(DDL)
        _load(engine)
        sql = "SELECT * FROM orders WHERE user_id = 42"
        chosen = engine.explain(sql)
        without = engine.explain_without(sql, ["orders_user_id_created_at_idx"])
        assert without is not None and without.full_scans == ["orders"]
        assert chosen.cost is not None and without.cost is not None
        assert without.cost > 10 * chosen.cost
        # The DROP INDEX was rolled back, and the diagnostics leave no setting behind.
        assert "orders_user_id_created_at_idx" in engine.indexes("orders")
        assert engine.explain(sql).indexes == ["orders_user_id_created_at_idx"]
        # Every row matches: the planner reads the table, unless sequential scans are off.
        everything = "SELECT * FROM orders WHERE user_id > 0"
        assert engine.explain(everything).full_scans == ["orders"]
        forced = engine.explain_without_scans(everything)
        assert forced is not None and forced.full_scans == []
        assert forced.indexes == ["orders_user_id_created_at_idx"]
        assert engine.query("SHOW enable_seqscan") == [("on",)]


def test_diagnostics_are_postgresql_only(engine_url: str) -> None:
    with engine_for(engine_url) as engine:
        engine.apply(DDL)
        sql = "SELECT * FROM orders WHERE user_id = 42"
        if engine.name == "postgresql":
            assert engine.explain_without(sql, ["users_email_key"]) is None  # a constraint's
        else:
            assert engine.explain_without(sql, ["orders_user_id_created_at_idx"]) is None
            assert engine.explain_without_scans(sql) is None
