"""data/statement_locks.yaml against a real PostgreSQL 15: the lock each statement takes.

Each case runs one statement inside a transaction on scratch tables, reads pg_locks for the
relations dbarch.lint.statement_lock says it locks, compares the strongest mode held there with
what the data file says, and rolls back. Statements that cannot run in a transaction block
(CONCURRENTLY, VACUUM) run on their own connection while another session holds SHARE UPDATE
EXCLUSIVE on the table: it lets the lookups under ACCESS SHARE through and stops the first lock
of SHARE UPDATE EXCLUSIVE or stronger, which pg_locks shows queued (granted = false).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import POSTGRESQL_URL
except ImportError:
    from conftest import POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.lint.source import read_source
from dbarch.lint.statement import Statement
from dbarch.lint.statement_lock import (
    INDEX,
    mode_from_pg,
    statement_lock,
    statement_locks,
    strongest,
)

SETUP = """
CREATE TABLE parent (id int PRIMARY KEY, v int, j text);
CREATE TABLE child (id int PRIMARY KEY, parent_id int,
                    CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id));
CREATE INDEX child_parent_idx ON child (parent_id);
CREATE TABLE loose (id int, v int);
CREATE TABLE part (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE part_1 PARTITION OF part FOR VALUES FROM (0) TO (10);
CREATE TABLE part_2 (id int, k int);
CREATE MATERIALIZED VIEW mv AS SELECT id FROM parent;
CREATE UNIQUE INDEX mv_id ON mv (id);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER parent_touch BEFORE INSERT ON parent FOR EACH ROW EXECUTE FUNCTION touch();
CREATE POLICY parent_all ON parent USING (true);
INSERT INTO parent SELECT g, g, 'x' FROM generate_series(1, 50) g;
INSERT INTO child SELECT g, g FROM generate_series(1, 50) g;
"""

# (statement, what it exercises). Every entry kind of statement_locks.yaml that applies to a
# table has at least one statement here; the expected lock comes from the data file.
IN_TRANSACTION = [
    ("CREATE INDEX loose_v_idx ON loose (v)", "CREATE INDEX: SHARE"),
    ("ALTER TABLE parent ADD COLUMN w int", "AT_AddColumn"),
    ("ALTER TABLE parent ADD COLUMN w int DEFAULT 0 NOT NULL", "AT_AddColumn with default"),
    ("ALTER TABLE parent ALTER COLUMN v TYPE bigint", "AT_AlterColumnType"),
    ("ALTER TABLE parent ALTER COLUMN v SET NOT NULL", "AT_SetNotNull"),
    ("ALTER TABLE parent ALTER COLUMN v DROP NOT NULL", "AT_DropNotNull"),
    ("ALTER TABLE parent ALTER COLUMN v SET DEFAULT 1", "AT_ColumnDefault"),
    ("ALTER TABLE parent ALTER COLUMN v DROP DEFAULT", "AT_ColumnDefault (drop)"),
    ("ALTER TABLE parent DROP COLUMN j", "AT_DropColumn"),
    ("ALTER TABLE parent ALTER COLUMN v SET STATISTICS 500", "AT_SetStatistics"),
    ("ALTER TABLE parent ALTER COLUMN v SET (n_distinct = 10)", "AT_SetOptions"),
    ("ALTER TABLE parent ALTER COLUMN j SET STORAGE EXTERNAL", "AT_SetStorage"),
    ("ALTER TABLE parent ALTER COLUMN j SET COMPRESSION pglz", "AT_SetCompression"),
    ("ALTER TABLE parent ADD CONSTRAINT parent_v_check CHECK (v > 0) NOT VALID",
     "AT_AddConstraint CHECK NOT VALID"),
    ("ALTER TABLE parent ADD CONSTRAINT parent_v_key UNIQUE (v)", "AT_AddConstraint UNIQUE"),
    ("ALTER TABLE loose ADD CONSTRAINT loose_fk FOREIGN KEY (v) REFERENCES parent (id) "
     "NOT VALID", "AT_AddConstraint FOREIGN KEY, both tables"),
    ("ALTER TABLE loose ADD COLUMN pid int REFERENCES parent (id)",
     "AT_AddColumn with REFERENCES, both tables"),
    ("ALTER TABLE child VALIDATE CONSTRAINT child_parent_fk", "AT_ValidateConstraint"),
    ("ALTER TABLE child DROP CONSTRAINT child_parent_fk", "AT_DropConstraint"),
    ("ALTER TABLE parent DISABLE TRIGGER parent_touch", "AT_DisableTrig"),
    ("ALTER TABLE parent ENABLE ROW LEVEL SECURITY", "AT_EnableRowSecurity"),
    ("ALTER TABLE parent REPLICA IDENTITY FULL", "AT_ReplicaIdentity"),
    ("ALTER TABLE parent CLUSTER ON parent_pkey", "AT_ClusterOn"),
    ("ALTER TABLE parent SET (fillfactor = 70)", "AT_SetRelOptions heap option"),
    ("ALTER TABLE parent SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)",
     "AT_SetRelOptions autovacuum"),
    ("ALTER TABLE parent SET (user_catalog_table = true)", "AT_SetRelOptions user_catalog_table"),
    ("ALTER TABLE parent OWNER TO CURRENT_USER", "AT_ChangeOwner"),
    ("ALTER TABLE loose SET UNLOGGED", "AT_SetUnLogged"),
    ("ALTER TABLE loose ADD COLUMN x int, ALTER COLUMN v SET STATISTICS 100",
     "the strongest subcommand wins"),
    ("ALTER TABLE part ATTACH PARTITION part_2 FOR VALUES FROM (10) TO (20)",
     "AT_AttachPartition: parent and partition"),
    ("ALTER TABLE part DETACH PARTITION part_1", "AT_DetachPartition"),
    ("ALTER TABLE parent RENAME COLUMN v TO v2", "RENAME COLUMN"),
    ("ALTER TABLE parent RENAME TO parent2", "RENAME TABLE"),
    ("ALTER TABLE child RENAME CONSTRAINT child_parent_fk TO child_fk", "RENAME CONSTRAINT"),
    ("ALTER TRIGGER parent_touch ON parent RENAME TO parent_touch2", "RENAME TRIGGER"),
    ("ALTER INDEX child_parent_idx RENAME TO child_parent_idx2", "RENAME INDEX"),
    ("DROP TABLE loose", "DROP TABLE"),
    ("DROP INDEX child_parent_idx", "DROP INDEX: the index's table"),
    ("DROP TRIGGER parent_touch ON parent", "DROP TRIGGER"),
    ("DROP POLICY parent_all ON parent", "DROP POLICY"),
    ("TRUNCATE child", "TRUNCATE"),
    ("CLUSTER child USING child_parent_idx", "CLUSTER"),
    ("REINDEX TABLE child", "REINDEX TABLE"),
    ("REINDEX INDEX child_parent_idx", "REINDEX INDEX: the index's table"),
    ("ANALYZE child", "ANALYZE"),
    ("LOCK TABLE loose IN SHARE ROW EXCLUSIVE MODE", "LOCK TABLE"),
    ("CREATE TRIGGER loose_touch BEFORE UPDATE ON loose FOR EACH ROW EXECUTE FUNCTION touch()",
     "CREATE TRIGGER"),
    ("CREATE RULE loose_no_update AS ON UPDATE TO loose DO INSTEAD NOTHING", "CREATE RULE"),
    ("CREATE POLICY loose_all ON loose USING (true)", "CREATE POLICY"),
    ("CREATE STATISTICS loose_stats ON id, v FROM loose", "CREATE STATISTICS"),
    ("COMMENT ON TABLE loose IS 'scratch'", "COMMENT ON TABLE"),
    ("REFRESH MATERIALIZED VIEW mv", "REFRESH MATERIALIZED VIEW"),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "REFRESH ... CONCURRENTLY"),
    ("CREATE TABLE grandchild (id int, child_id int REFERENCES child (id))",
     "CREATE TABLE with a foreign key: the referenced table"),
    ("CREATE TABLE part_3 PARTITION OF part FOR VALUES FROM (20) TO (30)",
     "CREATE TABLE PARTITION OF: the parent"),
    ("CREATE TABLE heir () INHERITS (loose)", "CREATE TABLE INHERITS: the parent"),
    ("UPDATE parent SET v = v + 1 WHERE id < 5", "UPDATE"),
    ("DELETE FROM child WHERE id = 1", "DELETE"),
]

# Statements that cannot run inside a transaction block.
OUTSIDE_TRANSACTION = [
    ("CREATE INDEX CONCURRENTLY loose_v_idx ON loose (v)", "CREATE INDEX CONCURRENTLY"),
    ("DROP INDEX CONCURRENTLY child_parent_idx", "DROP INDEX CONCURRENTLY"),
    ("REINDEX TABLE CONCURRENTLY child", "REINDEX CONCURRENTLY"),
    ("ALTER TABLE part DETACH PARTITION part_1 CONCURRENTLY", "DETACH PARTITION CONCURRENTLY"),
    ("VACUUM FULL child", "VACUUM FULL"),
    ("VACUUM child", "VACUUM"),
]


@pytest.fixture
def scratch() -> Iterator[tuple[psycopg.Connection, str]]:
    """A connection (autocommit) and a fresh scratch schema holding SETUP; dropped afterwards."""
    schema = f"lint_locks_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    try:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(SETUP)
        yield conn, schema
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()


def _parsed(text: str) -> Statement:
    (stmt,) = read_source("<case>", text, "postgresql").statements
    return stmt


def _expected(conn: psycopg.Connection, text: str) -> dict[int, tuple[str, str]]:
    """{relation oid: (mode, name)} that the data file says the statement takes."""
    stmt = _parsed(text)
    locks = statement_locks(stmt)
    assert locks, f"statement_locks knows no lock for: {text}"
    assert statement_lock(stmt) is not None
    wanted: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for lock in locks:
        name = lock.relation
        if lock.kind == INDEX:  # the lock falls on the table the index belongs to
            name = conn.execute("SELECT indrelid::regclass::text FROM pg_index "
                                "WHERE indexrelid = %s::regclass", (name,)).fetchone()[0]
        oid = conn.execute("SELECT %s::regclass::oid", (name,)).fetchone()[0]
        wanted.setdefault(oid, []).append(lock.mode)
        names[oid] = name
    return {oid: (strongest(modes), names[oid]) for oid, modes in wanted.items()}


def _held(conn: psycopg.Connection, pid: int, oids: list[int],
          granted: bool | None = None) -> dict[int, str]:
    """The strongest mode `pid` holds (or waits for) on each relation, from pg_locks."""
    rows = conn.execute(
        "SELECT relation::oid, mode FROM pg_locks WHERE locktype = 'relation' AND pid = %s "
        "AND relation = ANY(%s) AND (%s::bool IS NULL OR granted = %s::bool)",
        (pid, oids, granted, granted),
    ).fetchall()
    seen: dict[int, list[str]] = {}
    for oid, mode in rows:
        seen.setdefault(oid, []).append(mode_from_pg(mode))
    return {oid: strongest(modes) for oid, modes in seen.items()}


@pytest.mark.engine
@pytest.mark.parametrize(("statement", "about"), IN_TRANSACTION,
                         ids=[about for _, about in IN_TRANSACTION])
def test_lock_in_transaction(scratch: tuple[psycopg.Connection, str], statement: str,
                             about: str) -> None:
    conn, _schema = scratch
    expected = _expected(conn, statement)
    conn.execute("BEGIN")
    try:
        conn.execute(statement)
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        held = _held(conn, pid, list(expected))
    finally:
        conn.execute("ROLLBACK")
    for oid, (mode, name) in expected.items():
        assert held.get(oid) == mode, (
            f"{about}: {statement!r} holds {held.get(oid)} on {name}; "
            f"statement_locks.yaml says {mode}")


@pytest.mark.engine
@pytest.mark.parametrize(("statement", "about"), OUTSIDE_TRANSACTION,
                         ids=[about for _, about in OUTSIDE_TRANSACTION])
def test_lock_outside_transaction(scratch: tuple[psycopg.Connection, str], statement: str,
                                  about: str) -> None:
    conn, schema = scratch
    expected = _expected(conn, statement)
    # Another session holds SHARE UPDATE EXCLUSIVE (it conflicts with itself and everything
    # stronger, not with the ACCESS SHARE lookups VACUUM makes first) on every relation
    # involved: the statement queues, and pg_locks shows the mode it asks for while it waits.
    holder = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    runner = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    errors: list[BaseException] = []
    try:
        holder.execute("BEGIN")
        for _mode, name in expected.values():
            holder.execute(sql.SQL("LOCK TABLE {}.{} IN SHARE UPDATE EXCLUSIVE MODE").format(
                sql.Identifier(schema), sql.Identifier(name.rsplit(".", 1)[-1])))
        runner.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        runner.execute("SET statement_timeout = '60s'")  # never leave a thread hanging
        pid = runner.execute("SELECT pg_backend_pid()").fetchone()[0]

        def run() -> None:
            try:
                runner.execute(statement)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        waited = _wait_for_request(conn, pid, list(expected))
        holder.execute("ROLLBACK")
        thread.join(timeout=60)
    finally:
        holder.close()
        runner.close()
    assert not errors, errors
    first_oid = next(iter(expected))
    mode, name = expected[first_oid]
    assert waited == (first_oid, mode), (
        f"{about}: {statement!r} queued for {waited}; statement_locks.yaml says {mode} on {name}")


def _wait_for_request(conn: psycopg.Connection, pid: int,
                      oids: list[int]) -> tuple[int, str] | None:
    """(relation, mode) of the first lock `pid` queues for on one of `oids`."""
    for _ in range(600):  # a guard against a hang, not a timing assertion
        waiting = _held(conn, pid, oids, granted=False)
        if waiting:
            ((oid, mode),) = waiting.items()
            return oid, mode
        time.sleep(0.05)
    return None
