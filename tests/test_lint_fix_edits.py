"""Fixes edited into the statement's own text (L901–L906) say what pglast's printer says.

The hygiene rules fire on thousands of statements of a long history, so their fixes are edits
of the user's text placed by the run's parse tree, not statements parsed into pglast objects
and printed again. These tests hold the edits to the printer's answer: each fix, parsed by
PostgreSQL's parser, is the same tree (locations aside) as the deparsed one the slow path
builds, and the edit really was made in the user's text (its spacing and case survive).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pglast import parser

from dbarch.lint.column_defs import _retyped_deparsed, retyped
from dbarch.lint.pg_spans import char_offset, statement_span, text_offset, type_span
from dbarch.lint.rules.not_rerunnable import _deparsed, _pg_fix
from dbarch.lint.source import read_source
from dbarch.lint.statement import Statement


def _tree(sql: str) -> Any:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items()
                    if k not in ("location", "stmt_len", "stmt_location")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(json.loads(parser.parse_sql_json(sql)))


def _statements(sql: str) -> list[Statement]:
    source = read_source("t.sql", sql, "postgresql")
    assert not source.problems, source.problems
    return source.statements


# --- the reader of a column type ----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("int", (3, 3)),
    ("int NOT NULL", (3, 3)),
    ("numeric(12, 2) DEFAULT 0", (14, 14)),
    ("varchar(20)[] NOT NULL", (11, 13)),
    ("timestamp(3) with time zone, b int", (27, 27)),
    ("double precision)", (16, 16)),
    ("pg_catalog.int4 ARRAY[4] PRIMARY KEY", (15, 24)),
    ('"MyType"[]', (8, 10)),
    ("character varying(20) COLLATE \"C\"", (21, 21)),
    ("interval day to second(3)", (25, 25)),
    ("int4 USING x::int", (4, 4)),
    ("bit varying(3)", (14, 14)),
    ("ünïcødé_type", (12, 12)),
])
def test_type_span(text: str, expected: tuple[int, int]) -> None:
    assert type_span(text, 0) == expected


@pytest.mark.parametrize("text", [
    "int foo",  # an unknown word after the type: unsure
    "int -- comment",
    "mytype('a')",  # a string among the modifiers
    "int[]precision",
    "(int)",
])
def test_type_span_unsure(text: str) -> None:
    assert type_span(text, 0) is None


def test_statement_span_leaves_comments_out() -> None:
    text = "/* lead */ CREATE TABLE t (a text DEFAULT '--') -- trailing"
    start, end = statement_span(text)  # type: ignore[misc]
    assert text[start:end] == "CREATE TABLE t (a text DEFAULT '--')"
    assert statement_span("ALTER TABLE t ADD b int;") == (0, 23)


def test_text_offset_maps_every_location() -> None:
    """Each RangeVar and ColumnDef of each statement lands on its name in the statement's text,
    whatever came before it in the file (comments, non-ASCII names, other statements)."""
    sql = ("SELECT 1;\n-- a comment with ünïcødé\nCREATE TABLE ünï (\"Ä\" int, b varchar(3)[]);\n"
           "ALTER TABLE IF EXISTS ONLY s.\"T\" ADD COLUMN c serial, ADD d text;\n"
           "UPDATE orders SET note = 'é' WHERE id = 1;\n"
           "/* x */ ALTER TABLE ünï ADD COLUMN ö int;\n")
    checked = 0
    for stmt in _statements(sql):
        offset = text_offset(stmt)
        assert offset is not None, stmt.text
        for kind, body, name in _named(stmt.node):
            at = char_offset(stmt.text, offset, body["location"])
            assert at is not None
            written = stmt.text[at:at + len(name) + 2].lower()
            assert written.startswith((name.lower(), '"' + name.lower())), (kind, written)
            checked += 1
    assert checked == 9


def _named(node: Any) -> list[tuple[str, dict, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "relation" and isinstance(value, dict) and "relname" in value:
                found.append(("RangeVar", value, value.get("schemaname") or value["relname"]))
            elif key == "ColumnDef":
                found.append(("ColumnDef", value, value["colname"]))
            found.extend(_named(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_named(value))
    return found


# --- L906: IF [NOT] EXISTS edited in --------------------------------------------------------------
EDITED_L906 = [
    "CREATE TABLE audit (id bigint PRIMARY KEY, body   jsonb)",
    "create unlogged table Audit (id int) -- why it is unlogged",
    "CREATE UNIQUE INDEX CONCURRENTLY audit_body_idx ON audit (body)",
    "CREATE MATERIALIZED VIEW audit_mv AS SELECT id FROM audit",
    "CREATE VIEW audit_ids AS SELECT id, '--' AS x FROM audit",
    "CREATE SEQUENCE audit_seq",
    "CREATE SCHEMA app",
    "CREATE EXTENSION hstore",
    "DROP TABLE audit, legacy CASCADE",
    "DROP INDEX CONCURRENTLY audit_body_idx",
    "DROP MATERIALIZED VIEW audit_mv",
    "DROP TYPE mood",
    "ALTER TABLE audit ADD COLUMN note text DEFAULT 'a, b', ADD flag boolean",
    "ALTER TABLE ONLY \"Audit\" ADD COLUMN \"Ünï\" int, DROP COLUMN IF EXISTS old",
    "ALTER TABLE s.audit* ADD COLUMN x numeric(12,2), DROP y, DROP CONSTRAINT audit_ck",
]


@pytest.mark.parametrize("sql", EDITED_L906)
def test_l906_edit_is_what_the_printer_says(sql: str) -> None:
    (stmt,) = _statements(sql + ";")
    fix, printed = _pg_fix(stmt), _deparsed(stmt)
    assert fix is not None and printed is not None
    assert _tree(fix) == _tree(printed)
    # the edit kept the user's own text around the clause it added
    head = sql.split(" ", 1)[0]
    assert fix.startswith(head) and fix.endswith(";") and "-- why" not in fix


def test_l906_unsure_head_goes_to_the_printer() -> None:
    (stmt,) = _statements("CREATE /* note */ TABLE t (a int);")
    assert _pg_fix(stmt) == "CREATE TABLE IF NOT EXISTS t (a integer);"


# --- L901–L904: a column's type replaced ---------------------------------------------------------
RETYPED = [
    ("CREATE TABLE t (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0)", "qty", "bigint"),
    ("CREATE TABLE t (\n  id integer,\n  at timestamp(3) without time zone DEFAULT now()\n)",
     "at", "timestamptz(3)"),
    ("ALTER TABLE t ADD COLUMN code character varying(20) COLLATE \"C\" NOT NULL", "code", "text"),
    ("ALTER TABLE t ALTER COLUMN n TYPE int4 USING n::int4", "n", "bigint"),
    ("CREATE TABLE ünï (\"Ä\" smallint CHECK (\"Ä\" > 0), b text)", "Ä", "bigint"),
]


@pytest.mark.parametrize(("sql", "column", "new_type"), RETYPED)
def test_retyped_edit_is_what_the_printer_says(sql: str, column: str, new_type: str) -> None:
    (stmt,) = _statements(sql + ";")
    fix = retyped(stmt, column, new_type)
    printed = _retyped_deparsed(stmt, column, new_type, False)
    assert fix is not None and printed is not None
    assert _tree(fix) == _tree(printed)
    assert fix.startswith(sql.split("(")[0].split(" ADD")[0].split(" ALTER COLUMN")[0])


@pytest.mark.parametrize("sql", [
    "CREATE TABLE t (id serial PRIMARY KEY, note text)",
    "ALTER TABLE t ADD COLUMN id serial -- the key\n",
    "CREATE TABLE t (note text DEFAULT 'a, (b', id serial NOT NULL, x int)",
])
def test_retyped_identity_is_what_the_printer_says(sql: str) -> None:
    (stmt,) = _statements(sql + ";")
    fix = retyped(stmt, "id", "bigint", identity=True)
    printed = _retyped_deparsed(stmt, "id", "bigint", True)
    assert fix is not None and printed is not None
    assert _tree(fix) == _tree(printed)
    assert "GENERATED ALWAYS AS IDENTITY" in fix and "-- the key" not in fix


def test_retyped_array_keeps_its_bounds() -> None:
    """The printer's path replaced the whole TypeName, array bounds included; the edit keeps
    the column an array (text[], not text)."""
    (stmt,) = _statements("ALTER TABLE users ADD COLUMN tags varchar(20)[] NOT NULL;")
    fix = retyped(stmt, "tags", "text")
    assert fix == "ALTER TABLE users ADD COLUMN tags text[] NOT NULL;"


# --- on the server: the edited fixes run and mean what they say ---------------------------------
@pytest.fixture
def pg() -> Any:
    """A connection whose search_path is a scratch schema, dropped afterwards."""
    import uuid

    import psycopg

    from tests.conftest import POSTGRESQL_URL

    schema = f"fixedit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"SET search_path = {schema}")
        try:
            yield conn
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.engine
def test_edited_fixes_run_on_postgresql(pg: Any) -> None:
    """The L903 fix of an array column creates a text[] column; the L906 fix of a commented
    ADD COLUMN runs twice (its `;` is not swallowed by the comment)."""
    from dbarch.lint.config import LintConfig
    from dbarch.lint.run import lint_text

    config = LintConfig.from_mapping({"disable": ["all"], "enable": ["L903", "L906"]})
    sql = ("CREATE TABLE tagged (id bigint, tags varchar(20)[] NOT NULL);\n"
           "ALTER TABLE tagged ADD COLUMN note text -- why\n;\n")
    fixes = {f.code + str(f.line): f.fix for f in lint_text(sql, config).findings}
    create = fixes["L9031"].split("\n")[0]
    assert create == "CREATE TABLE tagged (id bigint, tags text[] NOT NULL);"
    pg.execute(create)
    kind = pg.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                      "WHERE attrelid = 'tagged'::regclass AND attname = 'tags'").fetchone()[0]
    assert kind == "text[]"
    for _ in range(2):
        pg.execute(fixes["L9062"])
    assert pg.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'tagged'::regclass "
                      "AND attname = 'note'").fetchone()[0] == 1
