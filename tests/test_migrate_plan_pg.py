"""`dbarch migrate plan` proved on a real PostgreSQL: each schema pair of
tests/fixtures/migrate/pg_pairs.yaml is created with rows, every phase is applied in order
(with the application writes an old or new version would make in between), the data must be
intact in the target's shape and the schema read back must be the target; then every rollback
is applied, latest phase first, and the schema read back must be the source again."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ruamel.yaml import YAML

from dbarch.engines.introspect import introspect
from dbarch.lint.config import LintConfig
from dbarch.lint.run import lint_text
from dbarch.migrate.diff import diff_schemas
from dbarch.migrate.output import numbered, phase_sql, rollback_sql
from dbarch.migrate.plan import plan_migration
from dbarch.migrate.plan_model import MigrationPlan, PlanOptions
from dbarch.parse import parse_ddl
from tests.conftest import POSTGRESQL_URL

PAIRS: list[dict[str, Any]] = YAML(typ="safe").load(
    (Path(__file__).parent / "fixtures" / "migrate" / "pg_pairs.yaml").read_text()
)


@pytest.fixture
def scratch() -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """An autocommit connection working in a fresh schema, dropped afterwards."""
    name = f"dbarch_migrate_{secrets.token_hex(4)}"
    conn = psycopg.connect(POSTGRESQL_URL, autocommit=True)
    conn.execute(f"CREATE SCHEMA {name}")
    conn.execute(f"SET search_path TO {name}")
    try:
        yield conn, name
    finally:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.close()


def make_plan(pair: dict[str, Any]) -> MigrationPlan:
    a = parse_ddl(pair["from"], "postgresql").schema
    b = parse_ddl(pair["to"], "postgresql").schema
    return plan_migration(a, b, renames=pair.get("renames"), fills=pair.get("fills"),
                          options=PlanOptions(pause=0.0, batch_size=700),
                          source=f"{pair['name']}_from", target=f"{pair['name']}_to")


def live_diff(schema: str, expected_ddl: str) -> list[str]:
    """The differences between the scratch schema on the server and `expected_ddl`."""
    live = introspect(f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}").schema
    diff = diff_schemas(live, parse_ddl(expected_ddl, "postgresql").schema)
    return [op.describe() for op in diff.operations] + diff.unplanned


@pytest.mark.engine
@pytest.mark.parametrize("pair", PAIRS, ids=[p["name"] for p in PAIRS])
def test_phases_apply_in_order_with_data_and_roll_back(
    pair: dict[str, Any], scratch: tuple[psycopg.Connection[Any], str]
) -> None:
    conn, schema = scratch
    plan = make_plan(pair)
    assert plan.unplanned == []
    conn.execute(pair["from"])
    conn.execute(pair["rows"])
    during = pair.get("during", {})
    assert numbered(plan), "a plan with no phase proves nothing"
    for phase in plan.phases:  # all five, so writes "during switch" run with nothing to apply
        for sql in phase.statements():
            conn.execute(sql.text)
        for write in during.get(phase.name.value, []):
            conn.execute(write)
    for query, value in pair["expect"]:
        row = conn.execute(query).fetchone()
        assert row is not None and row[0] == value, query
    assert live_diff(schema, pair["to"]) == []
    for write in pair.get("before_rollback", []):
        conn.execute(write)
    for phase in reversed(plan.phases):
        for sql in phase.rollback_statements():
            conn.execute(sql.text)
    assert live_diff(schema, pair["from"]) == []


@pytest.mark.engine
def test_the_phase_files_hold_exactly_the_statements_applied(
    scratch: tuple[psycopg.Connection[Any], str],
) -> None:
    """The files an operator runs are the statements the test applies: each file, split with
    PostgreSQL's own scanner, gives the same statements, and psql-style application of the
    files (statement by statement, autocommit) migrates the rename pair."""
    from pglast import parser

    conn, schema = scratch
    pair = next(p for p in PAIRS if p["name"] == "rename_column")
    plan = make_plan(pair)
    conn.execute(pair["from"])
    conn.execute(pair["rows"])
    for stem, phase in numbered(plan):
        text = phase_sql(plan, stem, phase)
        pieces = [text[s].strip() for s in parser.split(text, with_parser=False,
                                                        only_slices=True)]
        expected = ["SET lock_timeout = '5s'", *(s.text for s in phase.statements())]
        assert [_strip_comments(p) for p in pieces] == expected
        for piece in pieces:
            conn.execute(piece)
    assert live_diff(schema, pair["to"]) == []
    assert conn.execute("SELECT count(*) FROM users WHERE full_name LIKE 'n%'").fetchone() == (
        3000,)


def _strip_comments(statement: str) -> str:
    lines = [line for line in statement.splitlines() if not line.startswith("--")]
    return "\n".join(lines).strip().removesuffix(";")


@pytest.mark.parametrize("pair", PAIRS, ids=[p["name"] for p in PAIRS])
def test_every_phase_and_rollback_lints_clean(pair: dict[str, Any]) -> None:
    """The plan's own SQL passes `dbarch lint` at the default rules: where a statement is
    deliberately what a rule warns about (the contract's DROP COLUMN), it says why in a
    `dbarch-ignore` comment, and the finding is suppressed, not absent."""
    plan = make_plan(pair)
    for stem, phase in numbered(plan):
        for name, text in ((f"{stem}.sql", phase_sql(plan, stem, phase)),
                           (f"{stem}.rollback.sql", rollback_sql(plan, stem, phase))):
            report = lint_text(text, LintConfig(), path=name)
            assert report.problems == [], name
            assert [f"{f.code} {f.line}: {f.message}" for f in report.active] == [], name
