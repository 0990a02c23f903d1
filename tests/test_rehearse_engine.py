"""`migrate rehearse` on the real PostgreSQL: unsafe migrations block the workload, their safe
rewrites do not, and the scratch database never outlives the rehearsal.

Sizes are chosen so an unsafe statement holds its lock for tens to hundreds of milliseconds at
100+ workload queries per second: the assertions are on counts (blocked > 0, == 0), rewrites and
rows, never on wall time.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import POSTGRESQL_URL
except ImportError:
    from conftest import POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.cli import main
from dbarch.engines.rehearse import SCRATCH_PREFIX, rehearse
from dbarch.errors import InputError
from dbarch.migrate.rehearse import Rehearsal

pytestmark = pytest.mark.engine

ROWS = 200_000

SCHEMA = """
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reference uuid NOT NULL UNIQUE,
  status order_status NOT NULL DEFAULT 'new',
  total numeric(10, 2) NOT NULL,
  note text,
  placed_at timestamptz NOT NULL
);
"""

UNSAFE = """
CREATE INDEX orders_placed_at_idx ON orders (placed_at);
ALTER TABLE orders ADD COLUMN score float8 DEFAULT random();
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
"""

BATCH = 1_000
SAFE = "\n".join([
    "SET lock_timeout = '5s';",
    "ALTER TABLE orders ADD COLUMN score float8;",
    *(f"UPDATE orders SET score = random() WHERE id BETWEEN {lo} AND {lo + BATCH - 1};"
      for lo in range(1, ROWS + 1, BATCH)),
    "ALTER TABLE orders ADD COLUMN flag int NOT NULL DEFAULT 0;",
    "ALTER TABLE orders ADD CONSTRAINT orders_note_not_null CHECK (note IS NOT NULL) NOT VALID;",
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_note_not_null;",
    "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
    "ALTER TABLE orders DROP CONSTRAINT orders_note_not_null;",
    "CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);",
])


def scratch_databases() -> set[str]:
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (SCRATCH_PREFIX + "%",)).fetchall()
    return {name for (name,) in rows}


def rehearsal_sessions() -> int:
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        (count,), = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE application_name = 'dbarch rehearse'").fetchall()
    return int(count)


@pytest.fixture(scope="module")
def unsafe() -> Rehearsal:
    return rehearse(UNSAFE, db=POSTGRESQL_URL, schema=SCHEMA, rows=ROWS)


@pytest.fixture(scope="module")
def safe() -> Rehearsal:
    return rehearse(SAFE, db=POSTGRESQL_URL, schema=SCHEMA, rows=ROWS)


def test_plain_create_index_blocks_writes_but_not_reads(unsafe: Rehearsal) -> None:
    index = unsafe.statements[0]
    assert index.error is None
    assert [(u.mode, u.relation) for u in index.locks if u.blocks_traffic] == [
        ("SHARE", "public.orders")]
    assert index.blocked_writes > 0 and index.blocked_reads == 0
    assert index.verdict is not None and index.verdict.status == "blocks"
    assert index.rewritten == []


def test_volatile_default_rewrites_the_table_and_blocks_everything(unsafe: Rehearsal) -> None:
    add = unsafe.statements[1]
    assert add.rewritten == ["public.orders"]
    assert ("ACCESS EXCLUSIVE", "public.orders") in [(u.mode, u.relation) for u in add.locks]
    assert add.blocked > 0
    assert add.verdict is not None and add.verdict.status == "blocks"
    assert add.verdict.scales == "rewrote public.orders"


def test_set_not_null_scans_every_row_under_access_exclusive(unsafe: Rehearsal) -> None:
    not_null = unsafe.statements[2]
    assert not_null.rewritten == []
    assert (not_null.rows or {}).get("public.orders", 0) >= ROWS
    assert not_null.blocked > 0
    assert not_null.verdict is not None and not_null.verdict.status == "blocks"
    assert not unsafe.ok and len(unsafe.blocking) == 3


def test_the_safe_rewrites_block_nothing(safe: Rehearsal) -> None:
    assert [s.error for s in safe.statements if s.error] == []
    assert {s.line: s.blocked for s in safe.statements if s.blocked} == {}
    assert [s.rewritten for s in safe.statements if s.rewritten] == []
    assert safe.ok and safe.blocking == []
    assert safe.workload.queries > 0 and safe.workload.errors == 0


def test_with_a_validated_check_set_not_null_does_not_scan(safe: Rehearsal) -> None:
    by_sql = {s.sql: s for s in safe.statements}
    validate = by_sql["ALTER TABLE orders VALIDATE CONSTRAINT orders_note_not_null"]
    not_null = by_sql["ALTER TABLE orders ALTER COLUMN note SET NOT NULL"]
    assert (validate.rows or {}).get("public.orders", 0) >= ROWS
    assert [u.mode for u in validate.locks] == ["SHARE UPDATE EXCLUSIVE"]
    assert (not_null.rows or {}).get("public.orders", 0) == 0
    concurrently = by_sql["CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at)"]
    assert concurrently.transaction == "none"  # refused a transaction block, ran outside one


def test_the_scratch_databases_are_gone(unsafe: Rehearsal, safe: Rehearsal) -> None:
    for rehearsal in (unsafe, safe):
        assert rehearsal.scratch_dropped
        assert rehearsal.scratch_database.startswith(SCRATCH_PREFIX)
        assert rehearsal.scratch_database not in scratch_databases()
    assert rehearsal_sessions() == 0


def test_a_failing_statement_stops_the_migration_and_the_scratch_is_dropped() -> None:
    before = scratch_databases()
    result = rehearse("ALTER TABLE orders ALTER COLUMN nope SET NOT NULL;\n"
                      "CREATE INDEX orders_note_idx ON orders (note);",
                      db=POSTGRESQL_URL, schema=SCHEMA, rows=1_000)
    first, second = result.statements
    assert first.error is not None and "nope" in first.error
    assert second.verdict is not None and second.verdict.status == "not-run"
    assert not result.ok and result.scratch_dropped
    assert scratch_databases() == before


def test_ctrl_c_mid_migration_drops_the_scratch_database() -> None:
    before = scratch_databases()

    def interrupt(message: str) -> None:
        if message.startswith("line "):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rehearse(UNSAFE, db=POSTGRESQL_URL, schema=SCHEMA, rows=1_000, progress=interrupt)
    assert scratch_databases() == before
    assert rehearsal_sessions() == 0


def test_a_schema_that_does_not_apply_is_located_and_the_scratch_dropped() -> None:
    before = scratch_databases()
    with pytest.raises(InputError) as error:
        rehearse("CREATE INDEX ON orders (note);", db=POSTGRESQL_URL, schema_path="s.sql",
                 schema="CREATE TABLE orders (id int PRIMARY KEY);\n"
                        "CREATE TABLE items (order_id int REFERENCES nowhere (id));\n", rows=10)
    (problem,) = error.value.problems
    assert (problem.file, problem.line) == ("s.sql", 2)
    assert "nowhere" in problem.message
    assert scratch_databases() == before


def test_sigterm_mid_migration_drops_the_scratch_database(tmp_path: Path) -> None:
    before = scratch_databases()
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    migration = tmp_path / "slow.sql"
    migration.write_text("UPDATE orders SET note = note || '!';\n" * 20)
    process = subprocess.Popen(
        [sys.executable, "-m", "dbarch.cli", "migrate", "rehearse", str(migration),
         "--db", POSTGRESQL_URL, "--schema", str(schema), "--rows", "50000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # progress: wait until the migration itself runs
        if "line 2:" in line:
            break
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) != 0
    assert scratch_databases() == before
    assert rehearsal_sessions() == 0


def test_an_explicit_transaction_holds_its_locks_until_commit() -> None:
    # the ALTER itself is instant, but its ACCESS EXCLUSIVE lasts through the UPDATE after it
    result = rehearse("BEGIN;\n"
                      "ALTER TABLE orders ADD COLUMN flag int;\n"
                      "UPDATE orders SET flag = 1;\n"
                      "COMMIT;\n", db=POSTGRESQL_URL, schema=SCHEMA, rows=ROWS)
    _, alter, update, _ = result.statements
    assert {s.transaction for s in result.statements} == {"block"}
    (held,) = [u for u in alter.locks if u.mode == "ACCESS EXCLUSIVE"]
    assert held.held_ms is not None and held.held_ms > alter.duration_ms
    assert alter.blocked > 0 and alter.verdict is not None
    assert alter.verdict.status == "blocks"
    assert (update.rows or {}).get("public.orders", 0) >= ROWS
    assert result.scratch_dropped and not result.ok


TYPES = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS int CHECK (VALUE > 0);
CREATE TABLE customers (
  id uuid PRIMARY KEY,
  email varchar(40) NOT NULL UNIQUE
);
CREATE TABLE kinds (
  id int PRIMARY KEY,
  customer_id uuid NOT NULL REFERENCES customers (id),
  parent_id int REFERENCES kinds (id),
  small smallint, flag boolean NOT NULL, code char(3), label varchar(10) UNIQUE, body text,
  amount numeric(6, 2) NOT NULL, ratio real, big double precision, blob bytea, day date,
  at timestamp, at_tz timestamptz, t time, span interval, doc json, docb jsonb, addr inet,
  net cidr, tags text[], status mood NOT NULL, qty positive_int NOT NULL, mac macaddr,
  pos point, search tsvector,
  doubled numeric GENERATED ALWAYS AS (amount * 2) STORED
);
"""


def test_synthetic_rows_keep_every_key_and_foreign_key_valid() -> None:
    # VALIDATE re-checks every row against the parent: it fails on one dangling reference
    result = rehearse(
        "ALTER TABLE kinds ADD CONSTRAINT kinds_customer_fk2 FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;\n"
        "ALTER TABLE kinds VALIDATE CONSTRAINT kinds_customer_fk2;\n"
        "ALTER TABLE kinds ADD CONSTRAINT kinds_parent_fk2 FOREIGN KEY (parent_id) "
        "REFERENCES kinds (id) NOT VALID;\n"
        "ALTER TABLE kinds VALIDATE CONSTRAINT kinds_parent_fk2;\n",
        db=POSTGRESQL_URL, schema=TYPES, rows=5_000)
    assert [s.error for s in result.statements] == [None] * 4
    assert {t.name: t.rehearsed_rows for t in result.tables} == {
        "public.customers": 5_000, "public.kinds": 5_000}
    # the workload's inserts and updates (foreign keys checked) all went through
    assert result.workload.queries > 0 and result.workload.errors == 0
    assert {o.op for o in result.workload.ops} == {"read", "insert", "update"}


@pytest.fixture
def production() -> Iterator[str]:
    """A database standing in for production: the schema and 60,000 analyzed rows."""
    name = f"dbarch_test_source_{secrets.token_hex(4)}"
    url = POSTGRESQL_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, note text, "
                             "placed_at timestamptz NOT NULL)")
                conn.execute("INSERT INTO orders SELECT g, 'n' || g, now() "
                             "FROM generate_series(1, 60000) g")
                conn.execute("ANALYZE orders")
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def test_schema_copied_from_db_and_durations_extrapolated_to_its_rows(production: str) -> None:
    result = rehearse("CREATE INDEX orders_note_idx ON orders (note);", db=production,
                      rows=20_000)
    with psycopg.connect(production) as conn:
        (real,), = conn.execute("SELECT reltuples::int8 FROM pg_class "
                                "WHERE oid = 'orders'::regclass").fetchall()
        indexes = [n for (n,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'orders'").fetchall()]
    (table,) = result.tables
    assert (table.name, table.rehearsed_rows, table.real_rows) == ("public.orders", 20_000, real)
    (index,) = result.statements
    assert index.verdict is not None
    assert index.verdict.ratio == pytest.approx(real / 20_000)
    assert index.verdict.estimate_ms == pytest.approx(index.duration_ms * real / 20_000, abs=0.1)
    assert result.real_catalog is not None
    assert indexes == ["orders_pkey"]  # the rehearsal never touched the real database


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    migration = tmp_path / "0001_score.sql"
    migration.write_text("ALTER TABLE orders ADD COLUMN score float8 DEFAULT random();\n")
    runner = CliRunner()
    done = runner.invoke(main, ["migrate", "rehearse", str(migration), "--db", POSTGRESQL_URL,
                                "--schema", str(schema), "--rows", "100000", "--format", "json"])
    assert done.exit_code == 1, done.output
    report = json.loads(done.stdout)
    (statement,) = report["statements"]
    assert statement["rewritten"] == ["public.orders"] and statement["blocked"] > 0
    assert report["scratch_dropped"] is True
    missing = runner.invoke(main, ["migrate", "rehearse", str(tmp_path / "none.sql"),
                                   "--db", POSTGRESQL_URL])
    assert missing.exit_code == 2
    wrong = runner.invoke(main, ["migrate", "rehearse", str(migration),
                                 "--db", "mysql://root@127.0.0.1/test"])
    assert wrong.exit_code == 2
