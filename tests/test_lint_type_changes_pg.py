"""L306's knowledge of type changes, checked on the real PostgreSQL 15 server.

Every `changes` entry of dbarch/lint/data/type_changes.yaml is applied, example by example, to
a table holding rows and an index on the column: pg_class.relfilenode of the table must not
change (no rewrite), and the index must be rebuilt exactly when the entry says so. Every
`rewrites` pair must change the table's relfilenode. And L306 must agree with the server on
each: silent (or info, where only indexes are rebuilt) when the table is kept, a finding when
it is rewritten. Each test works in a scratch schema of its own, dropped afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbarch.lint.config import LintConfig
from dbarch.lint.rule import Severity
from dbarch.lint.rules.change_column_type import type_changes
from dbarch.lint.run import lint_paths
from tests.conftest import POSTGRESQL_URL

DATA = type_changes()
NOT_UTC = "Europe/Paris"
# A value of each base type, so the table holds real rows of the old type.
SAMPLES = {
    "varchar": "'abc'", "character varying": "'abc'", "text": "'abc'", "char": "'ab'",
    "numeric": "12.5", "decimal": "12.5", "varbit": "B'101'", "int": "42", "smallint": "42",
    "timestamp": "'2024-01-02 03:04:05.123'", "timestamptz": "'2024-01-02 03:04:05.123+02'",
    "time": "'03:04:05.123'", "timetz": "'03:04:05.123+02'",
    "cidr": "'10.0.0.0/8'", "inet": "'10.1.2.3'",
}


@pytest.fixture
def pg() -> Iterator[psycopg.Connection]:
    """An autocommit connection whose search_path is a fresh scratch schema."""
    schema = f"lint_types_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"SET search_path = {schema}")
    try:
        yield conn
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


def _sample(sql_type: str) -> str:
    base = re.sub(r"\(.*?\)", "", sql_type).replace("[]", "").strip()
    value = SAMPLES[base]
    return f"ARRAY[{value}]" if sql_type.endswith("[]") else value


def _filenode(conn: psycopg.Connection, relation: str) -> int:
    row = conn.execute("SELECT relfilenode FROM pg_class WHERE oid = %s::regclass",
                       (relation,)).fetchone()
    assert row is not None
    return int(row[0])


def _apply(conn: psycopg.Connection, old: str, new: str, zone: str,
           using: str = "") -> tuple[bool, bool]:
    """Change column c of a filled, indexed table from `old` to `new` under TimeZone `zone`;
    (table rewritten, index rebuilt) as relfilenode shows them."""
    conn.execute(f"CREATE TABLE t (id int PRIMARY KEY, c {old})")
    conn.execute(f"INSERT INTO t SELECT g, {_sample(old)} FROM generate_series(1, 5) g")
    conn.execute("CREATE INDEX t_c_idx ON t (c)")
    table, index = _filenode(conn, "t"), _filenode(conn, "t_c_idx")
    conn.execute(f"SET TIME ZONE '{zone}'")
    conn.execute(f"ALTER TABLE t ALTER COLUMN c TYPE {new}{using}")
    assert conn.execute("SELECT count(*) FROM t WHERE c IS NOT NULL").fetchone() == (5,)
    return _filenode(conn, "t") != table, _filenode(conn, "t_c_idx") != index


def _lint(tmp_path: Path, old: str, new: str, zone: str | None, using: str = "") -> list:
    """L306's findings when the column was created in an earlier migration file."""
    (tmp_path / "001_create.sql").write_text(f"CREATE TABLE t (id int PRIMARY KEY, c {old});\n"
                                             "CREATE INDEX t_c_idx ON t (c);\n")
    setting = f"SET TIME ZONE '{zone}';\n" if zone else ""
    (tmp_path / "002_alter.sql").write_text(
        f"{setting}ALTER TABLE t ALTER COLUMN c TYPE {new}{using};\n")
    report = lint_paths([str(tmp_path)], LintConfig.from_mapping({"enable": ["L306"]}))
    assert not report.problems, report.problems
    return [f for f in report.findings if f.code == "L306"]


KEPT = [pytest.param(entry, old, new, id=f"{old}->{new}")
        for entry in DATA["changes"] for old, new in entry["examples"]]


@pytest.mark.engine
@pytest.mark.parametrize(("entry", "old", "new"), KEPT)
def test_listed_change_keeps_the_table(pg: psycopg.Connection, tmp_path: Path, entry: dict,
                                       old: str, new: str) -> None:
    zone = "UTC" if entry.get("condition") == "utc" else NOT_UTC
    rewritten, reindexed = _apply(pg, old, new, zone)
    assert not rewritten, f"{old} -> {new} rewrote the table on PostgreSQL 15"
    assert reindexed == (entry["indexes"] == "rebuilt"), f"index rebuilt: {reindexed}"
    findings = _lint(tmp_path, old, new, zone if zone == "UTC" else None)
    if entry["indexes"] == "rebuilt":
        assert [f.severity for f in findings] == [Severity.INFO]
        assert "rebuilds t_c_idx" in findings[0].message
    else:
        assert findings == [], [f.message for f in findings]


REWRITES = [pytest.param(old, new, id=f"{old}->{new}") for old, new in DATA["rewrites"]]


@pytest.mark.engine
@pytest.mark.parametrize(("old", "new"), REWRITES)
def test_flagged_change_rewrites_the_table(pg: psycopg.Connection, tmp_path: Path, old: str,
                                           new: str) -> None:
    rewritten, _ = _apply(pg, old, new, NOT_UTC)
    assert rewritten, f"{old} -> {new} kept the table: it belongs in type_changes.yaml"
    findings = _lint(tmp_path, old, new, None)
    assert len(findings) == 1 and findings[0].severity >= Severity.WARNING


@pytest.mark.engine
@pytest.mark.parametrize("zone", [str(z) for z in DATA["utc_zones"]])
def test_utc_zones_make_timestamptz_binary_compatible(pg: psycopg.Connection, tmp_path: Path,
                                                      zone: str) -> None:
    rewritten, _ = _apply(pg, "timestamp", "timestamptz", zone)
    assert not rewritten, f"TimeZone {zone!r} rewrote the table"
    findings = _lint(tmp_path, "timestamp", "timestamptz", zone)
    assert [f.severity for f in findings] == [Severity.INFO]


@pytest.mark.engine
@pytest.mark.parametrize("zone", ["Europe/London", "Africa/Abidjan", "America/New_York"])
def test_zones_that_are_not_fixed_utc_rewrite(pg: psycopg.Connection, tmp_path: Path,
                                              zone: str) -> None:
    rewritten, _ = _apply(pg, "timestamp", "timestamptz", zone)
    assert rewritten
    findings = _lint(tmp_path, "timestamp", "timestamptz", zone)
    assert [f.severity for f in findings] == [Severity.WARNING]


USING = [
    pytest.param("varchar(20)", "text", " USING c", False, id="bare-column"),
    pytest.param("varchar(20)", "text", " USING c::text", False, id="cast-to-new-type"),
    pytest.param("varchar(20)", "text", " USING c || ''", True, id="expression"),
    pytest.param("text", "int", " USING length(c)", True, id="text-to-int"),
]


@pytest.mark.engine
@pytest.mark.parametrize(("old", "new", "using", "rewrites"), USING)
def test_using_clause(pg: psycopg.Connection, tmp_path: Path, old: str, new: str, using: str,
                      rewrites: bool) -> None:
    rewritten, _ = _apply(pg, old, new, NOT_UTC, using)
    assert rewritten == rewrites
    findings = _lint(tmp_path, old, new, None, using)
    assert bool(findings) == rewrites


@pytest.mark.engine
def test_expand_contract_fix_runs_without_rewriting(pg: psycopg.Connection) -> None:
    """The fix L306 gives for int → bigint runs as written and never rewrites the table."""
    from dbarch.lint.run import lint_text

    pg.execute("CREATE TABLE orders (id int PRIMARY KEY, total int)")
    pg.execute("INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 50) g")
    before = _filenode(pg, "orders")
    report = lint_text("ALTER TABLE orders ALTER COLUMN total TYPE bigint;",
                       LintConfig.from_mapping({"enable": ["L306"]}))
    (finding,) = [f for f in report.findings if f.code == "L306"]
    assert finding.fix
    pg.execute(finding.fix.replace("-- once nothing reads it: ", ""))
    assert _filenode(pg, "orders") == before
    pg.execute("INSERT INTO orders (id, total) VALUES (51, 3000000000)")  # beyond int4
    row = pg.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                     "WHERE attrelid = 'orders'::regclass AND attname = 'total'").fetchone()
    assert row == ("bigint",)
    assert pg.execute("SELECT sum(total) FROM orders").fetchone() == (12750 + 3000000000,)


@pytest.mark.engine
def test_shorter_varchar_check_fix_runs_without_rewriting(pg: psycopg.Connection) -> None:
    from dbarch.lint.run import lint_text

    pg.execute("CREATE TABLE users (id int PRIMARY KEY, code varchar(20))")
    pg.execute("INSERT INTO users SELECT g, 'c' || g FROM generate_series(1, 50) g")
    before = _filenode(pg, "users")
    report = lint_text("ALTER TABLE users ALTER COLUMN code TYPE varchar(10);",
                       LintConfig.from_mapping({"enable": ["L306"]}))
    (finding,) = [f for f in report.findings if f.code == "L306"]
    check = finding.fix.split("-- otherwise")[0]
    pg.execute(check)
    assert _filenode(pg, "users") == before
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO users VALUES (99, 'elevenchars')")


@pytest.mark.engine
def test_utc_change_on_an_unindexed_column_is_silent(pg: psycopg.Connection,
                                                     tmp_path: Path) -> None:
    pg.execute("CREATE TABLE t (id int PRIMARY KEY, c timestamp)")
    pg.execute(f"INSERT INTO t SELECT g, {SAMPLES['timestamp']} FROM generate_series(1, 5) g")
    before = _filenode(pg, "t")
    pg.execute("SET TIME ZONE 'UTC'")
    pg.execute("ALTER TABLE t ALTER COLUMN c TYPE timestamptz")
    assert _filenode(pg, "t") == before
    (tmp_path / "001_create.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, c timestamp);\n")
    (tmp_path / "002_alter.sql").write_text(
        "SET TIME ZONE 'UTC';\nALTER TABLE t ALTER COLUMN c TYPE timestamptz;\n")
    report = lint_paths([str(tmp_path)], LintConfig.from_mapping({"enable": ["L306"]}))
    assert [f for f in report.findings if f.code == "L306"] == []
