"""L409 drop-not-null."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.alter_targets import changed_columns, metadata_lock, named_subcommands
from dbarch.lint.context import Context
from dbarch.lint.expand_contract import LOCK_TIMEOUT, quote, script
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement


@register
class DropNotNull(Rule):
    """Dropping NOT NULL lets NULLs in that existing readers do not expect, and is costly to undo.

    Why: code, reports and other services written against the column assume it always holds a
    value; once new code (or a bug) writes NULL they meet it in aggregates, joins and
    `NOT IN` subqueries, or crash on it. Putting NOT NULL back later scans the whole table
    under ACCESS EXCLUSIVE, unless done with a CHECK constraint first (see L301).

    It is also a normal step: before a column is dropped, the release that stops writing it
    needs it nullable. That is why this is information, not a warning.

    Lock: ACCESS EXCLUSIVE on PostgreSQL (catalog only, no scan), queued behind any open
    transaction on the table. MySQL/MariaDB `MODIFY ... NULL` rebuilds the table in place
    (ALGORITHM=INPLACE; INSTANT is refused), with a metadata lock at the start and the end.

    Instead: make sure every reader copes with NULL first, then drop it with a lock_timeout;
    to restore it cheaply later:

        SET lock_timeout = '2s';
        ALTER TABLE orders ALTER COLUMN shipped_at DROP NOT NULL;
        -- to restore: ADD CONSTRAINT orders_shipped_at_not_null CHECK (shipped_at IS NOT NULL)
        -- NOT VALID; VALIDATE CONSTRAINT; SET NOT NULL (no scan on PostgreSQL 12+)

    Exempt: a table or column created earlier in the same migration.
    """

    code = "L409"
    name = "drop-not-null"
    severity = Severity.INFO
    nodes = ("AlterTableStmt", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP NOT NULL lets NULLs reach readers that assume a value; costly to undo"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for table, column in changed_columns(stmt, ctx, "AT_DropNotNull", _postgresql, _mysql):
            yield self.finding(
                stmt,
                f"dropping NOT NULL on {table}.{column}: readers written against it (code, "
                "reports, other services) will meet NULLs, and restoring NOT NULL later scans "
                "the table unless a CHECK (... IS NOT NULL) is validated first",
                table=table,
                lock=metadata_lock(stmt.dialect),
                fix=_fix(stmt, table, column),
            )


def _fix(stmt: Statement, table: str, column: str) -> str:
    if stmt.dialect != POSTGRESQL:
        return script("-- first: every reader copes with NULL in this column",
                      LOCK_TIMEOUT[stmt.dialect], f"{stmt.text}")
    t, c = quote(stmt.dialect, table), quote(stmt.dialect, column)
    check = quote(stmt.dialect, f"{table.rsplit('.', 1)[-1]}_{column}_not_null"[:63])
    return script(
        "-- first: every reader copes with NULL in this column",
        LOCK_TIMEOUT[stmt.dialect],
        f"ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL",
        f"-- to restore later without a blocking scan: ALTER TABLE {t} ADD CONSTRAINT {check} "
        f"CHECK ({c} IS NOT NULL) NOT VALID; ALTER TABLE {t} VALIDATE CONSTRAINT {check}; "
        f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
    )


def _postgresql(stmt: Statement) -> tuple[str | None, list[str]]:
    return relation(stmt.node.get("relation")), named_subcommands(stmt, "AT_DropNotNull")


def _mysql(stmt: Statement) -> tuple[str | None, list[str]]:
    """Columns a MODIFY/CHANGE redefines with an explicit NULL."""
    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    columns = []
    for action in actions(stmt):
        if not isinstance(action, exp.ModifyColumn) or not isinstance(action.this, exp.ColumnDef):
            continue
        for constraint in action.this.args.get("constraints") or []:
            kind = constraint.args.get("kind")
            if isinstance(kind, exp.NotNullColumnConstraint) and kind.args.get("allow_null"):
                source = action.args.get("rename_from")
                columns.append(source.name if source is not None else action.this.name)
    return table_of(stmt), columns
