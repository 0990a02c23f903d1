"""L405 drop-column."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.alter_targets import changed_columns, metadata_lock, named_subcommands
from dbarch.lint.context import Context
from dbarch.lint.expand_contract import drop_column
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class DropColumn(Rule):
    """Dropping a column breaks the running application if it still reads or writes it.

    Why: the application version running when the drop commits may still name the column:
    its queries fail with `column "note" does not exist`. ORMs fail even when no code uses the
    column: Rails caches the column list and lists every column in INSERTs, Django selects
    every field of the model. And the data is gone: rolling the code back does not bring it
    back.

    Lock: ACCESS EXCLUSIVE on PostgreSQL, held briefly (the column is only marked dropped; its
    space is reclaimed as rows are rewritten), but queued behind any open transaction on the
    table. MySQL/MariaDB rebuild the table in place unless ALGORITHM=INSTANT (MySQL 8.0.29+,
    MariaDB 10.4+), and take an exclusive metadata lock at the start and the end.

    Instead: two releases. First ship code that no longer reads or writes the column (Rails:
    `self.ignored_columns += ["note"]`; Django: remove the field from the model with
    `migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField(...)])`
    so the column stays). If it is NOT NULL without a default, drop NOT NULL in that release,
    or inserts that omit it fail. Then drop it in a later migration:

        SET lock_timeout = '2s';
        ALTER TABLE orders DROP COLUMN note;

    Exempt: a table or column created earlier in the same migration.
    """

    code = "L405"
    name = "drop-column"
    severity = Severity.WARNING
    nodes = ("AlterTableStmt", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP COLUMN breaks application code that still reads or writes the column"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for table, column in changed_columns(stmt, ctx, "AT_DropColumn", _postgresql, _mysql):
            yield self.finding(
                stmt,
                f"dropping {table}.{column}: application instances still running code that "
                f"reads or writes {column} fail (an ORM that lists every column fails on every "
                "query of the table), and the data cannot be brought back by a rollback",
                table=table,
                lock=metadata_lock(stmt.dialect),
                fix=drop_column(stmt.dialect, table, column),
                note="drop a column only in a release after the one that stopped using it",
            )


def _postgresql(stmt: Statement) -> tuple[str | None, list[str]]:
    return relation(stmt.node.get("relation")), named_subcommands(stmt, "AT_DropColumn")


def _mysql(stmt: Statement) -> tuple[str | None, list[str]]:
    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    columns = []
    for action in actions(stmt):
        if isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
            columns.extend(item.name for item in action.args.get("tables") or [])
    return table_of(stmt), columns
