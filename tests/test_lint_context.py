"""The migration context the rules see: transactions (explicit and by tool), timeouts, objects
created earlier in the same migration, NOT NULL checks, and the catalog's sizes."""

from __future__ import annotations

import pytest

from dbarch.lint.catalog import Catalog, TableStats
from dbarch.lint.config import LintConfig
from dbarch.lint.context import Context
from dbarch.lint.rule import Severity
from dbarch.lint.run import lint_text
from dbarch.lint.source import read_source


def _walk(sql: str, **options: object) -> list[dict[str, object]]:
    """The context before each statement, as a few observable facts."""
    ctx = Context(**options)  # type: ignore[arg-type]
    states = []
    for stmt in read_source("m.sql", sql, ctx.dialect).statements:
        states.append({
            "tx": ctx.in_transaction,
            "lock_timeout": ctx.lock_timeout,
            "created": set(ctx.created_tables),
        })
        ctx.advance(stmt)
    return states


def test_explicit_transaction_opens_and_closes() -> None:
    states = _walk("BEGIN; CREATE INDEX i ON t (a); COMMIT; CREATE INDEX j ON t (b);")
    assert [s["tx"] for s in states] == [False, True, True, False]


@pytest.mark.parametrize(("tool", "wrapped"), [
    ("plain", False), ("django", False), ("alembic", True), ("flyway", True),
    ("golang-migrate", True),
])
def test_tools_that_wrap_the_file_in_a_transaction(tool: str, wrapped: bool) -> None:
    assert _walk("CREATE INDEX i ON t (a);", tool=tool)[0]["tx"] is wrapped


def test_lock_timeout_set_reset_and_zero() -> None:
    sql = ("SET lock_timeout = '2s'; SELECT 1; SET lock_timeout = 0; SELECT 1; "
           "SET lock_timeout TO '1s'; RESET lock_timeout; SELECT 1;")
    assert [s["lock_timeout"] for s in _walk(sql)] == [False, True, True, False, False, True, False]


def test_tables_created_here_are_remembered_until_dropped() -> None:
    states = _walk("CREATE TABLE app.t (a int); SELECT 1; DROP TABLE app.t; SELECT 1;")
    assert [s["created"] for s in states] == [set(), {"t"}, {"t"}, set()]


def test_validated_not_null_check_is_known_after_validate() -> None:
    ctx = Context()
    sql = ("ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID; "
           "ALTER TABLE t VALIDATE CONSTRAINT a_nn;")
    statements = read_source("m.sql", sql, "postgresql").statements
    ctx.advance(statements[0])
    assert not ctx.has_not_null_check("t", "a")
    ctx.advance(statements[1])
    assert ctx.has_not_null_check("public.t", "A")


def test_mysql_ddl_ends_an_open_transaction() -> None:
    states = _walk("START TRANSACTION; ALTER TABLE t ADD COLUMN c INT; SELECT 1;", dialect="mysql")
    assert [s["tx"] for s in states] == [False, True, False]


def _catalog(rows: int, size: int) -> Catalog:
    return Catalog(dialect="postgresql", server_version=15,
                   tables={"orders": TableStats(name="orders", rows=rows, bytes=size)})


def test_a_small_table_lowers_a_rewrite_finding_to_info_and_says_how_small() -> None:
    report = lint_text("CREATE INDEX i ON orders (a);", LintConfig(), _catalog(10, 8192))
    (finding,) = [f for f in report.findings if f.code == "L101"]
    assert finding.severity is Severity.INFO
    assert "~10 rows" in (finding.note or "")


def test_a_large_table_keeps_the_severity_and_says_how_large() -> None:
    catalog = _catalog(50_000_000, 50 << 30)
    report = lint_text("CREATE INDEX i ON orders (a);", LintConfig(), catalog)
    (finding,) = [f for f in report.findings if f.code == "L101"]
    assert finding.severity is Severity.ERROR
    assert "50.0 GB" in (finding.note or "")
