"""`dbarch lint --db`: the live catalog read on the real servers, and what it changes in findings.

A scratch schema (PostgreSQL) or database (MariaDB) per test holds a 5-row table and a
300,000-row one; every figure the catalog reports is checked against the server's own answer,
and the lint of the same CREATE INDEX on each is judged by that size.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pymysql
import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.cli import main
from dbarch.engines.catalog import fetch_catalog
from dbarch.errors import InputError
from dbarch.lint.rule import Severity, all_rules
from tests.conftest import MARIADB_URL, POSTGRESQL_URL

pytestmark = pytest.mark.engine

BIG = 300_000


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, psycopg.Connection]]:
    """A scratch schema with `small` (5 rows), `big` (300k rows, a validated NOT NULL check on
    b, a NOT VALID one on c) and `fresh` (20 rows, never analyzed)."""
    schema = f"dbarch_lintdb_{secrets.token_hex(4)}"
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        conn.execute(f"CREATE TABLE {schema}.small (id int PRIMARY KEY, a int)")
        conn.execute(f"INSERT INTO {schema}.small SELECT g, g FROM generate_series(1, 5) g")
        conn.execute(f"CREATE TABLE {schema}.big (id int PRIMARY KEY, a int, b int, c int)")
        conn.execute(f"INSERT INTO {schema}.big SELECT g, g % 97, g, g "
                     f"FROM generate_series(1, {BIG}) g")
        conn.execute(f"ALTER TABLE {schema}.big ADD CONSTRAINT big_b_nn CHECK (b IS NOT NULL)")
        conn.execute(f"ALTER TABLE {schema}.big ADD CONSTRAINT big_c_nn CHECK (c IS NOT NULL) "
                     "NOT VALID")
        conn.execute(f"CREATE INDEX big_a_idx ON {schema}.big (a)")
        conn.execute(f"CREATE TABLE {schema}.fresh (id int)")
        conn.execute(f"INSERT INTO {schema}.fresh SELECT generate_series(1, 20)")
        conn.execute(f"ANALYZE {schema}.small")
        conn.execute(f"ANALYZE {schema}.big")
        yield schema, conn
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


def _pg_url(schema: str) -> str:
    return f"{POSTGRESQL_URL}?options={quote(f'-csearch_path={schema}')}"


def _write(tmp_path: Path, text: str, name: str = "m.sql") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_postgresql_catalog_matches_the_server(pg_schema: tuple[str, psycopg.Connection]) -> None:
    schema, conn = pg_schema
    catalog = fetch_catalog(_pg_url(schema))
    version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])
    assert catalog.dialect == "postgresql"
    assert catalog.server_version == version_num // 10000
    for table in ("small", "big"):
        reltuples, size = conn.execute(
            f"SELECT reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
            f"WHERE oid = '{schema}.{table}'::regclass").fetchone()
        stats = catalog.table(table)
        assert stats is not None and stats is catalog.table(f"{schema}.{table}")
        assert (stats.rows, stats.bytes) == (reltuples, size)
    big = catalog.table("big")
    assert big is not None
    assert big.rows == BIG
    assert sorted(big.indexes) == ["big_a_idx", "big_pkey"]
    assert sorted(big.constraints) == ["big_b_nn", "big_c_nn", "big_pkey"]
    # Only the validated check counts: the NOT VALID one proves nothing about existing rows.
    assert big.not_null_checked == ["b"]
    small = catalog.table("small")
    assert small is not None and small.rows == 5


def test_a_never_analyzed_table_is_counted(pg_schema: tuple[str, psycopg.Connection]) -> None:
    schema, conn = pg_schema
    assert conn.execute(f"SELECT reltuples FROM pg_class WHERE oid = '{schema}.fresh'::regclass"
                        ).fetchone()[0] < 0, "the server analyzed it: nothing left to test"
    stats = fetch_catalog(_pg_url(schema)).table("fresh")
    assert stats is not None and stats.rows == 20


def test_partitioned_table_sums_its_partitions(pg_schema: tuple[str, psycopg.Connection]) -> None:
    schema, conn = pg_schema
    conn.execute(f"CREATE TABLE {schema}.events (id int, at date) PARTITION BY RANGE (at)")
    for year in (2023, 2024):
        conn.execute(f"CREATE TABLE {schema}.events_{year} PARTITION OF {schema}.events "
                     f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
    conn.execute(f"INSERT INTO {schema}.events SELECT g, date '2023-01-01' + g % 700 "
                 "FROM generate_series(1, 7000) g")
    conn.execute(f"ANALYZE {schema}.events")
    catalog = fetch_catalog(_pg_url(schema))
    parts = [catalog.table(f"events_{year}") for year in (2023, 2024)]
    parent = catalog.table("events")
    assert parent is not None and all(parts)
    assert parent.rows == sum(p.rows for p in parts if p) == 7000
    assert parent.bytes == sum(p.bytes for p in parts if p) > 0


def test_fetching_the_catalog_writes_nothing(
    pg_schema: tuple[str, psycopg.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, conn = pg_schema
    # The server itself refuses any write of the fetch's sessions (libpq reads PGOPTIONS), so
    # the check does not depend on what other sessions do on the same server meanwhile.
    monkeypatch.setenv("PGOPTIONS", "-c default_transaction_read_only=on")
    with (psycopg.connect(POSTGRESQL_URL, autocommit=True) as guarded,
          pytest.raises(psycopg.errors.ReadOnlySqlTransaction)):
        guarded.execute(f'CREATE TABLE "{schema}".probe (a int)')
    before = conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = %s::regnamespace",
                          (schema,)).fetchone()[0]
    catalog = fetch_catalog(_pg_url(schema))
    assert catalog.table("big") is not None
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relnamespace = %s::regnamespace",
                        (schema,)).fetchone()[0] == before


def test_create_index_is_judged_by_the_live_table_size(
    pg_schema: tuple[str, psycopg.Connection], tmp_path: Path
) -> None:
    schema, _ = pg_schema
    path = _write(tmp_path, "CREATE INDEX small_a_idx ON small (a);\n"
                            "CREATE INDEX big_b_idx ON big (b);\n")
    report = api.lint([path], disable=["all"], enable=["L101"], db=_pg_url(schema),
                      config_start=tmp_path)
    small, big = sorted(report.findings, key=lambda f: f.line)
    assert (small.code, small.table, small.severity) == ("L101", "small", Severity.INFO)
    assert small.note is not None and "small (~5 rows" in small.note
    assert (big.table, big.severity) == ("big", Severity.ERROR)
    assert big.note is not None and f"~{BIG:,} rows" in big.note and "MB" in big.note
    without_db = api.lint([path], disable=["all"], enable=["L101"], config_start=tmp_path)
    assert [f.severity for f in without_db.findings] == [Severity.ERROR, Severity.ERROR]
    assert report.notices[0].message.startswith("postgresql 15,")


def test_cli_exit_code_follows_the_lowered_severity(
    pg_schema: tuple[str, psycopg.Connection], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema, _ = pg_schema
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "CREATE INDEX small_a_idx ON small (a);\n")
    runner = CliRunner()
    args = ["lint", path, "--disable", "all", "--enable", "L101", "--db", _pg_url(schema)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert ": info L101 index-not-concurrent:" in result.output
    assert "note: small is small (~5 rows" in result.output
    assert runner.invoke(main, [*args, "--fail-on", "info"]).exit_code == 1
    assert runner.invoke(main, ["lint", path, "--disable", "all", "--enable", "L101"]
                         ).exit_code == 1


def test_the_server_version_overrides_pg_version(
    pg_schema: tuple[str, psycopg.Connection], tmp_path: Path
) -> None:
    """--pg-version 11 with --db at a PostgreSQL 15: the rules see 15."""
    from dbarch.lint.config import LintConfig
    from dbarch.lint.run import lint_source
    from dbarch.lint.source import read_source

    schema, _ = pg_schema
    catalog = fetch_catalog(_pg_url(schema))
    seen: list[int] = []

    class Spy:
        code, nodes = "X", ("IndexStmt",)
        scales_with_table = False

        def check(self, stmt, ctx):  # type: ignore[no-untyped-def]
            seen.append(ctx.pg_version)
            return iter(())

    from dbarch.lint.run import LintReport

    source = read_source("m.sql", "CREATE INDEX i ON big (a);", "postgresql")
    lint_source(source, LintConfig(pg_version=11), [Spy()], catalog,  # type: ignore[list-item]
                LintReport())
    assert seen == [catalog.server_version] == [15]


def test_a_validated_not_null_check_in_the_live_database_silences_set_not_null(
    pg_schema: tuple[str, psycopg.Connection], tmp_path: Path
) -> None:
    schema, _ = pg_schema
    path = _write(tmp_path, "ALTER TABLE big ALTER COLUMN b SET NOT NULL;\n"
                            "ALTER TABLE big ALTER COLUMN c SET NOT NULL;\n")
    with_db = api.lint([path], disable=["all"], enable=["L301"], db=_pg_url(schema),
                       config_start=tmp_path)
    assert [f.line for f in with_db.findings] == [2], "b is proven NOT NULL; c's check is NOT VALID"
    without = api.lint([path], disable=["all"], enable=["L301"], config_start=tmp_path)
    assert [f.line for f in without.findings] == [1, 2]


def test_db_and_dialect_must_agree(tmp_path: Path) -> None:
    path = _write(tmp_path, "CREATE INDEX i ON t (a);")
    with pytest.raises(InputError, match="the database is postgresql but --dialect is mysql"):
        api.lint([path], dialect="mysql", db=POSTGRESQL_URL, config_start=tmp_path)


def test_an_unreachable_database_is_an_input_error(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, "CREATE INDEX i ON t (a);")
    result = CliRunner().invoke(main, ["lint", path, "--db",
                                       "postgresql://postgres:secret@127.0.0.1:1/test"])
    assert result.exit_code == 2
    assert "cannot connect" in result.output and "secret" not in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def mariadb_database() -> Iterator[tuple[str, pymysql.connections.Connection]]:
    """A scratch database with `small` (5 rows) and `big` (300k rows, a unique key)."""
    name = f"dbarch_lintdb_{secrets.token_hex(4)}"
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        with conn.cursor() as cur:
            cur.execute(f"USE `{name}`")  # the seq_1_to_N tables live in the current database
            cur.execute(f"CREATE TABLE `{name}`.small (id INT PRIMARY KEY, a INT)")
            cur.execute(f"INSERT INTO `{name}`.small SELECT seq, seq FROM seq_1_to_5")
            cur.execute(f"CREATE TABLE `{name}`.big (id INT PRIMARY KEY, a INT, "
                        "CONSTRAINT big_a_uq UNIQUE (a))")
            cur.execute(f"INSERT INTO `{name}`.big SELECT seq, seq FROM seq_1_to_{BIG}")
            cur.execute(f"ANALYZE TABLE `{name}`.small, `{name}`.big")
            cur.fetchall()
        yield name, conn
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE `{name}`")
        conn.close()


def test_mariadb_catalog_matches_the_server(
    mariadb_database: tuple[str, pymysql.connections.Connection], tmp_path: Path
) -> None:
    name, conn = mariadb_database
    url = MARIADB_URL.rsplit("/", 1)[0] + f"/{name}"
    catalog = fetch_catalog(url)
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
        cur.execute("SELECT TABLE_NAME, TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH FROM "
                    "information_schema.TABLES WHERE TABLE_SCHEMA = %s", (name,))
        server = {table: (rows, size) for table, rows, size in cur.fetchall()}
    assert catalog.dialect == "mysql"
    assert catalog.server_version == int(version.split(".")[0])
    for table in ("small", "big"):
        stats = catalog.table(table)
        assert stats is not None and stats is catalog.table(f"{name}.{table}")
        assert (stats.rows, stats.bytes) == server[table]
    big = catalog.table("big")
    assert big is not None
    # InnoDB's TABLE_ROWS is a sampled estimate: near 300k, not exact.
    assert 0.7 * BIG < big.rows < 1.3 * BIG
    assert sorted(big.indexes) == ["PRIMARY", "big_a_uq"]
    assert sorted(big.constraints) == ["PRIMARY", "big_a_uq"]
    small = catalog.table("small")
    assert small is not None and small.rows == 5
    # MySQL-only syntax: PostgreSQL's parser would report a syntax error, so a clean parse shows
    # the dialect came from the server.
    path = _write(tmp_path, "ALTER TABLE big MODIFY COLUMN a BIGINT, ALGORITHM=INPLACE, LOCK=NONE;")
    report = api.lint([path], db=url, config_start=tmp_path)
    assert report.problems == []
    assert all("mysql" in all_rules().rules[c].dialects for c in report.rules)
    assert report.notices[0].message.startswith(f"mysql {catalog.server_version},")


def test_mariadb_table_copy_is_judged_by_the_live_table_size(
    mariadb_database: tuple[str, pymysql.connections.Connection], tmp_path: Path
) -> None:
    name, _ = mariadb_database
    url = MARIADB_URL.rsplit("/", 1)[0] + f"/{name}"
    path = _write(tmp_path, "ALTER TABLE small ADD COLUMN c INT, ALGORITHM=COPY;\n"
                            "ALTER TABLE big ADD COLUMN c INT, ALGORITHM=COPY;\n")
    report = api.lint([path], disable=["all"], enable=["L701"], db=url, config_start=tmp_path)
    small, big = sorted(report.findings, key=lambda f: f.line)
    assert (small.code, small.table, small.severity) == ("L701", "small", Severity.INFO)
    assert small.note is not None and "small (~5 rows" in small.note
    assert (big.table, big.severity) == ("big", Severity.ERROR)
    assert big.note is not None and "big holds ~" in big.note
    offline = api.lint([path], dialect="mysql", disable=["all"], enable=["L701"],
                       config_start=tmp_path)
    assert [f.severity for f in offline.findings] == [Severity.ERROR, Severity.ERROR]
