"""`dbarch migrate plan` as a user runs it: files, formats, exit codes, located errors, and
live databases as --from / --to (read through SQLAlchemy's inspector on the real servers)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pymysql
import pytest

from dbarch.engines.introspect import introspect
from dbarch.migrate.diff import diff_schemas
from dbarch.parse import parse_ddl
from tests.conftest import MARIADB_URL, POSTGRESQL_URL

DBARCH = shutil.which("dbarch") or "dbarch"
V1 = "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);\n"
V2 = "CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL, bio text);\n"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DBARCH, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={"PATH": str(Path(DBARCH).parent) + ":/usr/bin:/bin"})


@pytest.fixture
def schemas(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "v1.sql").write_text(V1)
    (tmp_path / "v2.sql").write_text(V2)
    return tmp_path / "v1.sql", tmp_path / "v2.sql"


def test_plan_writes_the_phase_files(schemas: tuple[Path, Path], tmp_path: Path) -> None:
    v1, v2 = schemas
    out = tmp_path / "plan"
    result = run("migrate", "plan", "--from", v1, "--to", v2, "--rename", "users.name=full_name",
                 "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "01_expand.rollback.sql", "01_expand.sql", "02_backfill.rollback.sql",
        "02_backfill.sql", "03_switch.rollback.sql", "03_switch.sql",
        "04_validate.rollback.sql", "04_validate.sql", "05_contract.rollback.sql",
        "05_contract.sql", "PLAN.md"]
    assert "rename column users.name to full_name" in result.stdout
    assert "ALTER TABLE users ADD COLUMN full_name text;" in (out / "01_expand.sql").read_text()


def test_plan_as_json(schemas: tuple[Path, Path]) -> None:
    v1, v2 = schemas
    result = run("migrate", "plan", "--from", v1, "--to", v2, "--rename", "users.name=full_name",
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [op["kind"] for op in data["operations"]] == ["AddColumn", "RenameColumn"]
    assert data["unplanned"] == [] and data["files"] == []


def test_an_incomplete_plan_exits_1_and_says_what_it_left_out(
    schemas: tuple[Path, Path], tmp_path: Path
) -> None:
    v1, _ = schemas
    v3 = tmp_path / "v3.sql"
    v3.write_text("CREATE TABLE users (id bigint PRIMARY KEY, full_name text NOT NULL);\n")
    # without --rename, full_name is a new NOT NULL column with no value for existing rows
    result = run("migrate", "plan", "--from", v1, "--to", v3)
    assert result.returncode == 1
    assert "NOT PLANNED: users.full_name is NOT NULL without a default" in result.stdout
    assert "--rename users.name=full_name" in result.stdout  # the rename hint
    assert "-- ==== 01_expand.sql ====" in result.stdout  # no -o: the SQL is printed


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "missing.sql", "--to", "{v2}"], "missing.sql: no such DDL file"),
    (["--from", "{bad}", "--to", "{v2}"], "bad.sql:2:23: syntax error"),
    (["--from", "{v1}", "--to", "{v2}", "--rename", "users.nope=x"], "--rename: users.nope=x"),
    (["--from", "{v1}", "--to", "{v2}", "--fill", "nonsense"], "--fill: 'nonsense'"),
])
def test_bad_input_exits_2_with_a_located_message(
    schemas: tuple[Path, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE a (x int);\nCREATE TABLE b (y int,, z int);\n")
    v1, v2 = schemas
    filled = [a.format(v1=v1, v2=v2, bad=bad) for a in args]
    result = run("migrate", "plan", *filled)
    assert result.returncode == 2
    assert message in result.stderr.replace(str(tmp_path) + "/", "")
    assert "Traceback" not in result.stderr


@pytest.fixture
def pg_schema() -> Iterator[str]:
    name = f"dbarch_introspect_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
        try:
            yield name
        finally:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def maria_database() -> Iterator[str]:
    name = f"dbarch_introspect_{secrets.token_hex(4)}"
    url = urlsplit(MARIADB_URL)
    conn = pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username,
                           autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        conn.cursor().execute(f"DROP DATABASE {name}")
        conn.close()


RICH_PG = """
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE users (id bigserial PRIMARY KEY, email varchar(200) NOT NULL UNIQUE, m mood,
  created_at timestamptz NOT NULL DEFAULT now(), score numeric(10,2) DEFAULT 0 CHECK (score >= 0),
  tags text[], token uuid DEFAULT gen_random_uuid(), note text DEFAULT 'n/a');
CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE, status text NOT NULL DEFAULT 'new',
  CONSTRAINT orders_status_check CHECK (status IN ('new', 'paid')));
CREATE INDEX orders_open_idx ON orders (user_id, id DESC) WHERE status <> 'paid';
CREATE INDEX orders_status_prefix ON orders (status text_pattern_ops);
"""
RICH_MYSQL = """
CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL,
  flag BOOLEAN DEFAULT FALSE, price DECIMAL(10,2) DEFAULT 1.50,
  kind ENUM('a','b') NOT NULL DEFAULT 'a',
  created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY users_email (email));
CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL,
  qty INT UNSIGNED NOT NULL DEFAULT 1, KEY orders_qty (qty DESC),
  CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT orders_qty_positive CHECK (qty > 0));
"""


@pytest.mark.engine
def test_a_postgresql_database_reads_as_its_ddl(pg_schema: str) -> None:
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {pg_schema}")
        conn.execute(RICH_PG)
    live = introspect(f"{POSTGRESQL_URL}?options=-csearch_path%3D{pg_schema}")
    diff = diff_schemas(live.schema, parse_ddl(RICH_PG, "postgresql").schema)
    assert diff.operations == [] and diff.unplanned == []
    assert [t.name for t in live.schema.tables] == ["users", "orders"]


@pytest.mark.engine
def test_a_mariadb_database_reads_as_its_ddl(maria_database: str) -> None:
    url = f"{MARIADB_URL.rsplit('/', 1)[0]}/{maria_database}"
    conn = pymysql.connect(host="127.0.0.1", user="root", database=maria_database,
                           autocommit=True)
    for statement in RICH_MYSQL.split(";"):
        if statement.strip():
            conn.cursor().execute(statement)
    conn.close()
    live = introspect(url)
    diff = diff_schemas(live.schema, parse_ddl(RICH_MYSQL, "mysql").schema, dialect="mysql")
    assert [op.describe() for op in diff.operations] == [] and diff.unplanned == []


@pytest.mark.engine
def test_plan_from_a_live_database_to_a_file(pg_schema: str, tmp_path: Path) -> None:
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {pg_schema}")
        conn.execute(V1)
    (tmp_path / "v2.sql").write_text(V2)
    url = f"{POSTGRESQL_URL}?options=-csearch_path%3D{pg_schema}"
    result = run("migrate", "plan", "--from", url, "--to", tmp_path / "v2.sql",
                 "--rename", "users.name=full_name", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"].startswith("postgresql://postgres@127.0.0.1:5432/test")
    assert [op["kind"] for op in data["operations"]] == ["AddColumn", "RenameColumn"]
    mismatch = run("migrate", "plan", "--from", url, "--to", tmp_path / "v2.sql",
                   "--dialect", "mysql")
    assert mismatch.returncode == 2 and "a postgresql database" in mismatch.stderr
