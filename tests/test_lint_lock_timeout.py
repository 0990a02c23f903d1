"""L601's claim on the real servers: a blocking DDL without a lock timeout queues all traffic.

The scenario the rule describes: a transaction is using the table (here: one that read it and
stayed open). The migration's statement waits for it, and a plain SELECT that arrives next
waits behind the migration, though it does not conflict with the open transaction. With the
fix L601 prints (a lock timeout before the statement), the statement gives up instead and
the SELECT runs.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pymysql
import pytest
from psycopg import sql as pgsql

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import POSTGRESQL_URL
except ImportError:
    from conftest import POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.lint.config import LintConfig
from dbarch.lint.run import lint_text

DDL = "ALTER TABLE orders ADD COLUMN note text"


def l601(text: str, dialect: str) -> Any:
    report = lint_text(text, LintConfig.from_mapping({"dialect": dialect}))
    found = [f for f in report.findings if f.code == "L601"]
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


def wait_until(condition: Callable[[], bool]) -> bool:
    """Poll `condition`; a guard against hanging, not a timing assertion."""
    for _ in range(400):
        if condition():
            return True
        time.sleep(0.05)
    return False


class Background:
    """Run one statement on its own connection in a thread, keeping any error."""

    def __init__(self, run: Callable[[], Any]) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(run,))
        self.thread.start()

    def _run(self, run: Callable[[], Any]) -> None:
        try:
            run()
        except BaseException as exc:  # checked by the test
            self.error = exc

    def join(self) -> None:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()


# --- PostgreSQL -----------------------------------------------------------------------------------
@pytest.fixture
def schema() -> Iterator[str]:
    name = f"lint_lt_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(name)))
        conn.execute(pgsql.SQL("CREATE TABLE {}.orders (id int PRIMARY KEY)").format(
            pgsql.Identifier(name)))
        conn.execute(pgsql.SQL("INSERT INTO {}.orders SELECT generate_series(1, 100)").format(
            pgsql.Identifier(name)))
    yield name
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(pgsql.Identifier(name)))


def session(schema: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
    conn.execute("SET statement_timeout = '60s'")  # never leave a thread hanging
    return conn


def waiting(observer: psycopg.Connection[Any], pid: int) -> bool:
    row = observer.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                           (pid,)).fetchone()
    return bool(row and row[0])


@pytest.mark.engine
def test_without_lock_timeout_a_select_queues_behind_the_ddl_pg(schema: str) -> None:
    finding = l601(DDL, "postgresql")
    assert finding.lock == "ACCESS EXCLUSIVE"
    holder, migration, reader, observer = (session(schema) for _ in range(4))
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM orders")  # a transaction using the table
        ddl_pid = migration.execute("SELECT pg_backend_pid()").fetchone()[0]
        read_pid = reader.execute("SELECT pg_backend_pid()").fetchone()[0]
        ddl = Background(lambda: migration.execute(DDL))
        assert wait_until(lambda: waiting(observer, ddl_pid))
        read = Background(lambda: reader.execute("SELECT count(*) FROM orders"))
        # the SELECT does not conflict with the open transaction, only with the queued DDL
        assert wait_until(lambda: waiting(observer, read_pid))
        holder.execute("ROLLBACK")
        ddl.join()
        read.join()
        assert ddl.error is None and read.error is None
    finally:
        for conn in (holder, migration, reader, observer):
            conn.close()


@pytest.mark.engine
def test_the_fix_gives_up_and_leaves_traffic_alone_pg(schema: str) -> None:
    fix = l601(DDL, "postgresql").fix
    assert fix is not None and fix.startswith("SET lock_timeout")
    holder, migration, reader = (session(schema) for _ in range(3))
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM orders")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            migration.execute(fix)
        reader.execute("SET lock_timeout = '5s'")
        assert reader.execute("SELECT count(*) FROM orders").fetchone() == (100,)
        holder.execute("ROLLBACK")
    finally:
        for conn in (holder, migration, reader):
            conn.close()


# --- MariaDB --------------------------------------------------------------------------------------
@pytest.fixture
def database() -> Iterator[str]:
    name = f"lint_lt_{uuid.uuid4().hex[:10]}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
        cursor.execute(f"CREATE TABLE {name}.orders (id INT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {name}.orders VALUES (1), (2), (3)")
    yield name
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.close()


def maria(database: str) -> Any:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database,
                           autocommit=True)


def metadata_waits(observer: Any, connection_id: int) -> bool:
    with observer.cursor() as cursor:
        cursor.execute("SELECT state FROM information_schema.processlist WHERE id = %s",
                       (connection_id,))
        row = cursor.fetchone()
    return bool(row and "metadata lock" in (row[0] or ""))


@pytest.mark.engine
def test_without_lock_wait_timeout_a_select_queues_behind_the_ddl_mariadb(database: str) -> None:
    assert l601(f"{DDL};", "mysql").lock == "METADATA EXCLUSIVE"
    holder, migration, reader, observer = (maria(database) for _ in range(4))
    try:
        with holder.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute("SELECT count(*) FROM orders")  # holds a shared metadata lock
        ddl = Background(lambda: migration.cursor().execute(DDL))
        assert wait_until(lambda: metadata_waits(observer, migration.thread_id()))
        read = Background(lambda: reader.cursor().execute("SELECT count(*) FROM orders"))
        assert wait_until(lambda: metadata_waits(observer, reader.thread_id()))
        holder.rollback()
        ddl.join()
        read.join()
        assert ddl.error is None and read.error is None
    finally:
        for conn in (holder, migration, reader, observer):
            conn.close()


@pytest.mark.engine
def test_the_fix_gives_up_and_leaves_traffic_alone_mariadb(database: str) -> None:
    fix = l601(f"{DDL};", "mysql").fix or ""
    setting, statement = [line.rstrip(";") for line in fix.splitlines()]
    assert setting == "SET SESSION lock_wait_timeout = 5"
    holder, migration, reader = (maria(database) for _ in range(3))
    try:
        with holder.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute("SELECT count(*) FROM orders")
        with migration.cursor() as cursor:
            cursor.execute(setting)
            with pytest.raises(pymysql.err.OperationalError) as failure:
                cursor.execute(statement)
        assert failure.value.args[0] == 1205  # ER_LOCK_WAIT_TIMEOUT
        with reader.cursor() as cursor:
            cursor.execute("SET SESSION lock_wait_timeout = 5")
            cursor.execute("SELECT count(*) FROM orders")
            assert cursor.fetchone() == (3,)
        holder.rollback()
    finally:
        for conn in (holder, migration, reader):
            conn.close()
