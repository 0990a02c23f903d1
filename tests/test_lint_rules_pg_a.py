"""Rules L101–L107 and L201–L204 held to what PostgreSQL 15 really does.

For each rule: the lock it names is the lock PostgreSQL takes (read from pg_locks inside a
transaction, or, for statements that refuse a transaction block, from the lock request they
queue behind a blocker), the harm it describes happens (a failure, a scan, a rewrite, a
blocked query), and the `fix` it prints is SQL PostgreSQL accepts in the stated setting and
that leaves the object the original statement meant to create.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from pglast import parser as pg_parser
from pglast import split as pg_split
from psycopg import sql as pgsql

from dbarch.lint.catalog import Catalog
from dbarch.lint.config import LintConfig
from dbarch.lint.locks import lock_table
from dbarch.lint.pg import walk
from dbarch.lint.rule import Finding, all_rules
from dbarch.lint.run import lint_text
from tests.conftest import POSTGRESQL_URL

CODES = ("L101", "L102", "L103", "L104", "L105", "L106", "L107",
         "L201", "L202", "L203", "L204")
# PostgreSQL's table lock modes, weakest first, as data/locks.yaml lists them.
STRENGTH = [mode for mode in lock_table() if not mode.startswith(("LOCK=", "METADATA"))]


# --- helpers -------------------------------------------------------------------------------------
def finding(code: str, sql: str, catalog: Catalog | None = None, **config: Any) -> Finding:
    """The one finding `code` reports on `sql` (config keys as in fixtures: pg-version, tool)."""
    report = lint_text(sql, LintConfig.from_mapping(config), catalog)
    assert not report.problems, report.problems
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


def rule_doc(code: str) -> str:
    """A rule's documentation page."""
    return all_rules().rules[code].documentation()


def statements(script: str) -> list[str]:
    """A fix script split into statements, comments dropped (psql -f would run these)."""
    return [s for s in pg_split(script) if s.strip()]


def mode_name(pg_mode: str) -> str:
    """pg_locks' `ShareRowExclusiveLock` → `SHARE ROW EXCLUSIVE` (locks.yaml's spelling)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", pg_mode.removesuffix("Lock")).upper()


def strongest(modes: set[str]) -> str:
    return max(modes, key=STRENGTH.index)


@dataclass
class Scratch:
    """A schema of its own on the real server, with an autocommit connection set to it."""

    conn: psycopg.Connection[Any]
    schema: str

    def connect(self) -> psycopg.Connection[Any]:
        """Another session on the same schema (a blocker, a waiter, an observer)."""
        other = psycopg.connect(POSTGRESQL_URL, autocommit=True)
        other.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
        return other

    def run(self, script: str) -> None:
        """Each statement in autocommit, as psql -f runs a migration file."""
        for statement in statements(script):
            self.conn.execute(statement.encode())

    def value(self, query: str, *params: Any) -> Any:
        row = self.conn.execute(query.encode(), params or None).fetchone()
        return row[0] if row else None

    def locks_held(self, statement: str, *relations: str) -> dict[str, set[str]]:
        """The lock modes `statement` holds on each relation at its end, read from pg_locks."""
        held: dict[str, set[str]] = {name: set() for name in relations}
        with self.conn.transaction(force_rollback=True):
            oids = {self.value("SELECT %s::regclass::oid", name): name for name in relations}
            self.conn.execute(statement.encode())
            rows = self.conn.execute(
                "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND locktype = 'relation' AND granted").fetchall()
        for oid, mode in rows:
            if oid in oids:
                held[oids[oid]].add(mode_name(mode))
        return held

    def lock_requested(self, statement: str, relation: str, blocker: str) -> str:
        """The lock mode `statement` queues for on `relation` while `blocker` holds a lock.

        For statements PostgreSQL refuses inside a transaction block (VACUUM, …CONCURRENTLY):
        another session holds a conflicting lock, the statement waits in a thread, and
        pg_locks shows the mode it asked for. Polling waits for the request; no timing is
        asserted.
        """
        holder, runner = self.connect(), self.connect()
        oid = self.value("SELECT %s::regclass::oid", relation)
        errors: list[BaseException] = []
        try:
            holder.execute("BEGIN")
            holder.execute(blocker.encode())
            pid = runner.info.backend_pid

            def run() -> None:
                try:
                    runner.execute(statement.encode())
                except BaseException as exc:  # reported below, in the test's thread
                    errors.append(exc)

            thread = threading.Thread(target=run)
            thread.start()
            mode = None
            for _ in range(600):
                row = self.conn.execute(
                    "SELECT mode FROM pg_locks WHERE pid = %s AND relation = %s AND NOT granted",
                    (pid, oid)).fetchone()
                if row:
                    mode = mode_name(row[0])
                    break
                if not thread.is_alive():
                    break
                time.sleep(0.05)
            holder.execute("ROLLBACK")
            thread.join()
        finally:
            holder.close()
            runner.close()
        assert not errors, errors
        assert mode is not None, f"{statement!r} never queued behind {blocker!r}"
        return mode

    def scans(self, statement: str, table: str) -> int:
        """How many times `statement` scans `table` (pg_stat_xact_user_tables, rolled back).

        The backend's counters also hold earlier transactions not yet flushed to the shared
        statistics, so the count is the difference across the statement.
        """
        query = ("SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables "
                 "WHERE relid = %s::regclass")
        with self.conn.transaction(force_rollback=True):
            before = int(self.value(query, table) or 0)
            self.conn.execute(statement.encode())
            return int(self.value(query, table) or 0) - before

    def filenode(self, table: str) -> int:
        return int(self.value("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", table))


@pytest.fixture
def pg() -> Iterator[Scratch]:
    """A scratch schema with `users` (1000 rows), `orders` (3000 rows, an index on user_id)."""
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    schema = f"lint_a_{uuid.uuid4().hex[:10]}"
    ident = pgsql.Identifier(schema)
    conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(ident))
    conn.execute(pgsql.SQL("SET search_path TO {}").format(ident))
    scratch = Scratch(conn, schema)
    scratch.run("""
        CREATE TABLE users (id int NOT NULL, email text, tenant_id int);
        INSERT INTO users
            SELECT g, 'u' || g || '@example.com', g % 7 FROM generate_series(1, 1000) g;
        ALTER TABLE users ADD CONSTRAINT users_id_key UNIQUE (id);
        CREATE TABLE orders (id int, user_id int, total numeric, created_at date);
        INSERT INTO orders SELECT g, 1 + g % 1000, g % 50, date '2024-01-01' + g % 300
            FROM generate_series(1, 3000) g;
        CREATE INDEX orders_user_id_idx ON orders (user_id);
    """)
    try:
        yield scratch
    finally:
        conn.execute(pgsql.SQL("DROP SCHEMA {} CASCADE").format(ident))
        conn.close()


# --- indexes and maintenance -------------------------------------------------------------------
@pytest.mark.engine
def test_l101_create_index_takes_share_and_concurrently_builds_a_valid_index(pg: Scratch) -> None:
    f = finding("L101", "CREATE INDEX orders_total_idx ON orders (total);")
    held = pg.locks_held("CREATE INDEX orders_total_idx ON orders (total)", "orders")
    assert strongest(held["orders"]) == f.lock == "SHARE"
    (fix,) = statements(f.fix or "")
    blocker = "LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE"
    assert pg.lock_requested(fix, "orders", blocker) == "SHARE UPDATE EXCLUSIVE"
    assert pg.value("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                    "'orders_total_idx'::regclass") is True


@pytest.mark.engine
def test_l102_drop_index_takes_access_exclusive_and_concurrent_drop_works(pg: Scratch) -> None:
    f = finding("L102", "DROP INDEX orders_user_id_idx;")
    held = pg.locks_held("DROP INDEX orders_user_id_idx", "orders")
    assert strongest(held["orders"]) == f.lock == "ACCESS EXCLUSIVE"
    (fix,) = statements(f.fix or "")
    blocker = "LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE"
    assert pg.lock_requested(fix, "orders", blocker) == "SHARE UPDATE EXCLUSIVE"
    assert pg.value("SELECT to_regclass('orders_user_id_idx')") is None


CONCURRENT = [
    "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total)",
    "DROP INDEX CONCURRENTLY orders_user_id_idx",
    "REINDEX INDEX CONCURRENTLY orders_user_id_idx",
    "ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY",
]


def _events(pg: Scratch) -> None:
    pg.run("""
        CREATE TABLE events (at date, body text) PARTITION BY RANGE (at);
        CREATE TABLE events_2023 PARTITION OF events
            FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
        CREATE TABLE events_2024 PARTITION OF events
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        INSERT INTO events SELECT date '2023-06-01' + g % 400, 'e' FROM generate_series(1, 800) g;
    """)


@pytest.mark.engine
@pytest.mark.parametrize("statement", CONCURRENT)
def test_l103_concurrently_fails_in_a_transaction_block_as_the_finding_says(
        pg: Scratch, statement: str) -> None:
    _events(pg)
    f = finding("L103", f"BEGIN;\n{statement};\nCOMMIT;")
    with pytest.raises(psycopg.errors.ActiveSqlTransaction) as failure, pg.conn.transaction():
        pg.conn.execute(statement.encode())
    error = failure.value.diag.message_primary or ""
    assert error.endswith("cannot run inside a transaction block")
    assert error in f.message
    # The fix is the statement outside the block: PostgreSQL runs it.
    assert statements(f.fix or "") == [statement]
    pg.run(f.fix or "")


@pytest.mark.engine
def test_l103_a_wrapping_tool_fails_the_same_way(pg: Scratch) -> None:
    statement = CONCURRENT[0]
    for tool in ("alembic", "flyway"):
        f = finding("L103", f"{statement};", tool=tool)
        assert tool in f.message
    # alembic/Flyway: the migration runs inside one transaction they opened.
    with pytest.raises(psycopg.errors.ActiveSqlTransaction), pg.conn.transaction():
        pg.conn.execute(b"ALTER TABLE orders ADD COLUMN note text")
        pg.conn.execute(statement.encode())
    # golang-migrate: the file is one multi-statement query, an implicit transaction block.
    finding("L103", f"ALTER TABLE orders ADD COLUMN note text;\n{statement};",
            tool="golang-migrate")
    with pytest.raises(psycopg.errors.ActiveSqlTransaction):
        pg.conn.execute(f"ALTER TABLE orders ADD COLUMN note text; {statement}".encode())
    # The same statement alone, in autocommit, succeeds.
    pg.run(statement)


@pytest.mark.engine
def test_l104_reindex_blocks_writes_and_planned_reads(pg: Scratch) -> None:
    catalog = Catalog.model_validate({"dialect": "postgresql", "tables": {
        "orders": {"name": "orders", "rows": 3000, "indexes": ["orders_user_id_idx"]}}})
    f = finding("L104", "REINDEX INDEX orders_user_id_idx;", catalog)
    assert f.table == "orders"
    with pg.conn.transaction(force_rollback=True):
        pg.conn.execute(b"REINDEX INDEX orders_user_id_idx")
        held = {mode_name(m) for (m,) in pg.conn.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted AND "
            "relation = 'orders'::regclass").fetchall()}
        on_index = {mode_name(m) for (m,) in pg.conn.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted AND "
            "relation = 'orders_user_id_idx'::regclass").fetchall()}
        assert strongest(held) == "SHARE"
        assert strongest(on_index) == f.lock == "ACCESS EXCLUSIVE"
        # A plain SELECT must be planned, and planning opens every index of the table.
        reader = pg.connect()
        try:
            reader.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                reader.execute("SELECT count(*) FROM orders WHERE user_id = 7")
        finally:
            reader.close()
    assert f.fix == "REINDEX INDEX CONCURRENTLY orders_user_id_idx;"
    blocker = "LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE"
    assert pg.lock_requested(f.fix, "orders", blocker) == "SHARE UPDATE EXCLUSIVE"


@pytest.mark.engine
def test_l104_before_12_the_swap_recipe_rebuilds_the_same_index(pg: Scratch) -> None:
    catalog = Catalog.model_validate({"dialect": "postgresql", "tables": {
        "orders": {"name": "orders", "indexes": ["orders_user_id_idx"]}}})
    f = finding("L104", "REINDEX INDEX orders_user_id_idx;", catalog, **{"pg-version": 11})
    before = pg.value("SELECT pg_get_indexdef('orders_user_id_idx'::regclass)")
    # The rule cannot see the definition; the recipe says to copy it from pg_get_indexdef.
    columns = before.split(" USING ", 1)[1]
    recipe = (f.fix or "").replace("(<columns of orders_user_id_idx>)", f"USING {columns}")
    old = pg.value("SELECT 'orders_user_id_idx'::regclass::oid")
    pg.run(recipe)
    assert pg.value("SELECT pg_get_indexdef('orders_user_id_idx'::regclass)") == before
    assert pg.value("SELECT 'orders_user_id_idx'::regclass::oid") != old


@pytest.mark.engine
def test_l105_vacuum_full_rewrites_under_access_exclusive_and_vacuum_does_not(
        pg: Scratch) -> None:
    f = finding("L105", "VACUUM FULL orders;")
    before = pg.filenode("orders")
    mode = pg.lock_requested("VACUUM FULL orders", "orders", "SELECT 1 FROM orders LIMIT 1")
    assert mode == f.lock == "ACCESS EXCLUSIVE"
    assert pg.filenode("orders") != before  # the table was rewritten
    rewritten = pg.filenode("orders")
    fix = statements(f.fix or "")
    assert fix == ["VACUUM orders"]
    # Plain VACUUM asks for SHARE UPDATE EXCLUSIVE (no conflict with reads or writes) …
    plain = pg.lock_requested(fix[0], "orders", "LOCK TABLE orders IN SHARE MODE")
    assert plain == "SHARE UPDATE EXCLUSIVE"
    assert pg.filenode("orders") == rewritten  # … and does not rewrite


@pytest.mark.engine
def test_l106_cluster_rewrites_under_access_exclusive_and_cluster_on_does_not(
        pg: Scratch) -> None:
    f = finding("L106", "CLUSTER orders USING orders_user_id_idx;")
    with pg.conn.transaction(force_rollback=True):
        before = pg.filenode("orders")
        pg.conn.execute(b"CLUSTER orders USING orders_user_id_idx")
        assert pg.filenode("orders") != before
    held = pg.locks_held("CLUSTER orders USING orders_user_id_idx", "orders")
    assert strongest(held["orders"]) == f.lock == "ACCESS EXCLUSIVE"
    (cluster_on,) = statements(f.fix or "")
    held = pg.locks_held(cluster_on, "orders")
    assert strongest(held["orders"]) == "SHARE UPDATE EXCLUSIVE"
    before = pg.filenode("orders")
    pg.run(cluster_on)
    assert pg.filenode("orders") == before
    assert pg.value("SELECT indisclustered FROM pg_index "
                    "WHERE indexrelid = 'orders_user_id_idx'::regclass") is True


@pytest.mark.engine
def test_l107_detach_locks_the_parent_and_detach_concurrently_does_not(pg: Scratch) -> None:
    _events(pg)
    f = finding("L107", "ALTER TABLE events DETACH PARTITION events_2023;")
    held = pg.locks_held("ALTER TABLE events DETACH PARTITION events_2023", "events")
    assert strongest(held["events"]) == f.lock == "ACCESS EXCLUSIVE"
    (detach,) = statements(f.fix or "")
    mode = pg.lock_requested(detach, "events", "LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE")
    assert mode == "SHARE UPDATE EXCLUSIVE"
    assert pg.value("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass") == 1


@pytest.mark.engine
def test_l107_concurrent_detach_is_refused_with_a_default_partition(pg: Scratch) -> None:
    _events(pg)
    pg.run("CREATE TABLE events_other PARTITION OF events DEFAULT")
    f = finding("L107", "ALTER TABLE events DETACH PARTITION events_2023;")
    assert "default partition" in rule_doc("L107")
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as failure:
        pg.run(f.fix or "")
    assert "default partition" in str(failure.value)


# --- constraints -------------------------------------------------------------------------------
@pytest.mark.engine
def test_l201_foreign_key_locks_both_tables_and_scans(pg: Scratch) -> None:
    statement = "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)"
    f = finding("L201", statement + ";")
    held = pg.locks_held(statement, "orders", "users")
    assert strongest(held["orders"]) == strongest(held["users"]) == f.lock == "SHARE ROW EXCLUSIVE"
    assert "orders and users" in f.message
    assert pg.scans(statement, "orders") >= 1  # every row checked before the statement ends


@pytest.mark.engine
def test_l201_not_valid_then_validate_works_without_blocking_writes(pg: Scratch) -> None:
    f = finding("L201", "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);")
    add, validate = statements(f.fix or "")
    assert pg.scans(add, "orders") == 0  # NOT VALID: no scan
    pg.run(f.fix or "")
    assert pg.value("SELECT convalidated FROM pg_constraint "
                    "WHERE conname = 'orders_user_id_fkey'") is True
    # VALIDATE alone, in its own transaction, takes locks that let reads and writes through.
    pg.run("ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey")
    pg.run(add)
    held = pg.locks_held(validate, "orders", "users")
    assert strongest(held["orders"]) == "SHARE UPDATE EXCLUSIVE"
    assert strongest(held["users"]) == "ROW SHARE"


@pytest.mark.engine
def test_l201_references_on_a_new_column(pg: Scratch) -> None:
    statement = "ALTER TABLE orders ADD COLUMN buyer_id int REFERENCES users (id)"
    f = finding("L201", statement + ";")
    held = pg.locks_held(statement, "orders", "users")
    assert strongest(held["orders"]) == f.lock == "ACCESS EXCLUSIVE"
    assert strongest(held["users"]) == "SHARE ROW EXCLUSIVE"
    pg.run(f.fix or "")
    assert pg.value("SELECT convalidated FROM pg_constraint "
                    "WHERE conname = 'orders_buyer_id_fkey'") is True


@pytest.mark.engine
def test_l201_partitioned_tables_refuse_not_valid_foreign_keys(pg: Scratch) -> None:
    """The Versions: note of L201, on PostgreSQL 15."""
    _events(pg)
    pg.run("ALTER TABLE events ADD COLUMN user_id int")
    f = finding("L201", "ALTER TABLE events ADD FOREIGN KEY (user_id) REFERENCES users (id);")
    assert "partitioned table" in rule_doc("L201")
    with pytest.raises(psycopg.errors.WrongObjectType) as failure:
        pg.run(statements(f.fix or "")[0])
    assert "cannot add NOT VALID foreign key on partitioned table" in str(failure.value)


@pytest.mark.engine
def test_l201_partitions_validated_first_let_the_parent_key_attach_without_a_scan(
        pg: Scratch) -> None:
    """The workaround L201's documentation gives for partitioned tables."""
    _events(pg)
    pg.run("ALTER TABLE events ADD COLUMN user_id int DEFAULT 1")
    for part in ("events_2023", "events_2024"):
        f = finding("L201", f"ALTER TABLE {part} ADD CONSTRAINT events_user_id_fkey "
                            "FOREIGN KEY (user_id) REFERENCES users (id);")
        pg.run(f.fix or "")
    parent = "ALTER TABLE events ADD CONSTRAINT events_user_id_fkey " \
             "FOREIGN KEY (user_id) REFERENCES users (id)"
    assert pg.scans(parent, "events_2023") == pg.scans(parent, "events_2024") == 0
    pg.run(parent)
    assert pg.value("SELECT count(*) FROM pg_constraint WHERE conname = 'events_user_id_fkey' "
                    "AND conparentid <> 0 AND convalidated") == 2


@pytest.mark.engine
def test_l202_check_takes_access_exclusive_and_scans(pg: Scratch) -> None:
    statement = "ALTER TABLE orders ADD CHECK (total >= 0)"
    f = finding("L202", statement + ";")
    held = pg.locks_held(statement, "orders")
    assert strongest(held["orders"]) == f.lock == "ACCESS EXCLUSIVE"
    assert pg.scans(statement, "orders") >= 1
    add, validate = statements(f.fix or "")
    assert pg.scans(add, "orders") == 0
    pg.run(add)
    assert strongest(pg.locks_held(validate, "orders")["orders"]) == "SHARE UPDATE EXCLUSIVE"
    pg.run(validate)
    assert pg.value("SELECT convalidated FROM pg_constraint "
                    "WHERE conname = 'orders_total_check'") is True


@pytest.mark.engine
def test_l202_check_on_a_new_column(pg: Scratch) -> None:
    f = finding("L202", "ALTER TABLE orders ADD COLUMN discount numeric CHECK (discount >= 0);")
    pg.run(f.fix or "")
    assert pg.value("SELECT convalidated FROM pg_constraint "
                    "WHERE conname = 'orders_discount_check'") is True


@pytest.mark.engine
@pytest.mark.parametrize(("add", "expected"), [
    ("ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID",
     {"orders": "ACCESS EXCLUSIVE"}),
    ("ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) "
     "REFERENCES users (id) NOT VALID",
     {"orders": "SHARE ROW EXCLUSIVE", "users": "SHARE ROW EXCLUSIVE"}),
])
def test_l203_validate_in_the_same_transaction_keeps_the_add_lock(
        pg: Scratch, add: str, expected: dict[str, str]) -> None:
    name = add.split("CONSTRAINT ")[1].split()[0]
    validate = f"ALTER TABLE orders VALIDATE CONSTRAINT {name}"
    f = finding("L203", f"BEGIN;\n{add};\n{validate};\nCOMMIT;")
    held = pg.locks_held(f"{add}; {validate}", *expected)
    assert {t: strongest(m) for t, m in held.items()} == expected
    assert f.lock == expected["orders"]
    # The fix: the ADD commits first; VALIDATE alone holds only SHARE UPDATE EXCLUSIVE.
    pg.run(add)
    (fixed,) = statements(f.fix or "")
    assert strongest(pg.locks_held(fixed, "orders")["orders"]) == "SHARE UPDATE EXCLUSIVE"
    pg.run(fixed)
    assert pg.value("SELECT convalidated FROM pg_constraint WHERE conname = %s", name) is True


@pytest.mark.engine
def test_l203_add_and_validate_in_one_alter_table(pg: Scratch) -> None:
    statement = ("ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) "
                 "NOT VALID, VALIDATE CONSTRAINT orders_total_check")
    f = finding("L203", statement + ";")
    assert pg.scans(statement, "orders") >= 1  # the validation scan ran under the ADD's lock
    assert strongest(pg.locks_held(statement, "orders")["orders"]) == f.lock
    pg.run(f.fix or "")
    assert pg.value("SELECT convalidated FROM pg_constraint "
                    "WHERE conname = 'orders_total_check'") is True


@pytest.mark.engine
def test_l204_unique_takes_access_exclusive_and_cannot_be_not_valid(pg: Scratch) -> None:
    statement = "ALTER TABLE users ADD UNIQUE (email)"
    f = finding("L204", statement + ";")
    assert strongest(pg.locks_held(statement, "users")["users"]) == f.lock == "ACCESS EXCLUSIVE"
    for refused in ("ALTER TABLE users ADD UNIQUE (email) NOT VALID",
                    "ALTER TABLE users ADD PRIMARY KEY (id) NOT VALID"):
        with pytest.raises(psycopg.errors.FeatureNotSupported) as failure:
            pg.conn.execute(refused.encode())
        assert "cannot be marked NOT VALID" in str(failure.value)
    pg.run(f.fix or "")
    row = pg.conn.execute(
        "SELECT c.contype, i.relname FROM pg_constraint c JOIN pg_class i ON i.oid = c.conindid "
        "WHERE c.conname = 'users_email_key'").fetchone()
    assert row == ("u", "users_email_key")


@pytest.mark.engine
def test_l204_primary_key_recipe_skips_the_not_null_scan(pg: Scratch) -> None:
    pg.run("ALTER TABLE orders ALTER COLUMN id DROP NOT NULL")  # nullable, as often in the wild
    f = finding("L204", "ALTER TABLE orders ADD PRIMARY KEY (id);")
    notices: list[str] = []
    pg.conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    pg.conn.execute("SET client_min_messages = debug1")
    try:
        pg.run(f.fix or "")
    finally:
        pg.conn.execute("RESET client_min_messages")
    assert any('are sufficient to prove that it does not contain nulls' in n for n in notices), \
        notices
    row = pg.conn.execute(
        "SELECT c.contype, i.relname FROM pg_constraint c JOIN pg_class i ON i.oid = c.conindid "
        "WHERE c.conname = 'orders_pkey'").fetchone()
    assert row == ("p", "orders_pkey")


@pytest.mark.engine
def test_l204_unique_on_a_new_column_and_constraint_clauses(pg: Scratch) -> None:
    for sql, name in [
        ("ALTER TABLE users ADD COLUMN handle text UNIQUE;", "users_handle_key"),
        ("ALTER TABLE users ADD CONSTRAINT users_tenant_email_key UNIQUE NULLS NOT DISTINCT "
         "(tenant_id, email) INCLUDE (id) WITH (fillfactor = 80) DEFERRABLE;",
         "users_tenant_email_key"),
    ]:
        f = finding("L204", sql)
        pg.run(f.fix or "")
        assert pg.value("SELECT contype FROM pg_constraint WHERE conname = %s", name) == "u"
    assert pg.value("SELECT indnullsnotdistinct FROM pg_index "
                    "WHERE indexrelid = 'users_tenant_email_key'::regclass") is True
    assert pg.value("SELECT condeferrable FROM pg_constraint "
                    "WHERE conname = 'users_tenant_email_key'") is True


EDITED = [
    ("L202", 'CREATE TABLE "Orders" (id int); INSERT INTO "Orders" VALUES (1);',
     'ALTER TABLE "Orders" ADD COLUMN "Größe" int DEFAULT 0 CONSTRAINT größe_positiv '
     'CHECK ("Größe" >= 0) NOT NULL, ADD COLUMN tags text[] DEFAULT ARRAY[\'a\', \'b\'];',
     ["größe_positiv"]),
    ("L201", "",
     "-- who bought it\nALTER TABLE orders\n  ADD COLUMN buyer int CONSTRAINT orders_buyer_fk "
     "REFERENCES users (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,\n"
     "  ADD CONSTRAINT orders_total_ok CHECK (total >= 0) NOT VALID;",
     ["orders_buyer_fk"]),
    ("L201", "DELETE FROM orders WHERE id > 1000;",
     "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE, "
     "ADD FOREIGN KEY (id) REFERENCES users (id);",
     ["orders_user_id_fkey", "orders_id_fkey"]),
    ("L204", "DELETE FROM orders WHERE id > 1000; UPDATE orders SET user_id = id;",
     "ALTER TABLE orders ADD CONSTRAINT orders_id_key UNIQUE (id), ADD COLUMN z int, "
     "ADD UNIQUE (user_id, id) WITH (fillfactor = 90);",
     ["orders_id_key", "orders_user_id_id_key"]),
    ("L203", "",
     'ALTER TABLE orders ADD CONSTRAINT "Pos" CHECK (total >= 0) NOT VALID, '
     'VALIDATE CONSTRAINT "Pos";',
     ["Pos"]),
]


@pytest.mark.engine
@pytest.mark.parametrize(("code", "setup", "sql", "names"), EDITED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(EDITED)])
def test_fixes_edited_into_awkward_statements_run(pg: Scratch, code: str, setup: str, sql: str,
                                                  names: list[str]) -> None:
    """Quoted and non-ASCII names, comments, arrays, DEFERRABLE, several subcommands."""
    pg.run(setup)
    f = finding(code, sql)
    pg.run(f.fix or "")
    for name in names:
        assert pg.value("SELECT convalidated FROM pg_constraint c JOIN pg_namespace n "
                        "ON n.oid = c.connamespace WHERE n.nspname = %s AND conname = %s",
                        pg.schema, name) is True, (name, f.fix)


# --- fixes, without a server -------------------------------------------------------------------
FIXED = [
    ("L101", "CREATE INDEX orders_total_idx ON orders (total);", {}),
    ("L102", "DROP INDEX orders_user_id_idx;", {}),
    ("L103", "BEGIN;\nCREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);\nCOMMIT;", {}),
    ("L104", "REINDEX TABLE orders;", {}),
    ("L105", "VACUUM (FULL, ANALYZE) orders;", {}),
    ("L106", "CLUSTER orders USING orders_user_id_idx;", {}),
    ("L107", "ALTER TABLE events DETACH PARTITION events_2023;", {}),
    ("L201", "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);", {}),
    ("L201", "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id);",
     {"tool": "alembic"}),
    ("L202", "ALTER TABLE orders ADD COLUMN d numeric CHECK (d >= 0);", {}),
    ("L203", "BEGIN;\nALTER TABLE o ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
             "ALTER TABLE o VALIDATE CONSTRAINT c;\nCOMMIT;", {}),
    ("L204", "ALTER TABLE users ADD UNIQUE (email);", {}),
    ("L204", "ALTER TABLE users ADD PRIMARY KEY (id);", {}),
]


@pytest.mark.parametrize(("code", "sql", "config"), FIXED)
def test_a_fix_does_not_trip_the_rules_it_answers(code: str, sql: str,
                                                  config: dict[str, str]) -> None:
    """Linted as the next migration file, the fix raises none of rules L101–L204."""
    fix = finding(code, sql, **config).fix or ""
    report = lint_text(fix, LintConfig.from_mapping({}))
    assert not report.problems, report.problems
    assert [f.code for f in report.findings if f.code in CODES] == []


@pytest.mark.parametrize("sql", [
    "ALTER TABLE users ADD UNIQUE (email);",
    "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id);",
    "ALTER TABLE users ADD COLUMN handle text UNIQUE, ADD COLUMN ref bigserial PRIMARY KEY;",
    "ALTER TABLE users ADD UNIQUE (email), ADD CHECK (tenant_id > 0);",
])
@pytest.mark.parametrize("version", [11, 15])
def test_l204_never_marks_a_unique_or_primary_key_not_valid(sql: str, version: int) -> None:
    fix = finding("L204", sql, **{"pg-version": version}).fix or ""
    tree = json.loads(pg_parser.parse_sql_json(fix))
    keys = [body for kind, body in walk(tree)
            if kind == "Constraint" and body.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY")]
    assert keys and all(body.get("indexname") for body in keys)
    assert not any(body.get("skip_validation") for body in keys)
