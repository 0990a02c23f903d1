"""L410 drop-default."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.alter_targets import changed_columns, metadata_lock
from dbarch.lint.context import Context
from dbarch.lint.expand_contract import LOCK_TIMEOUT, quote, script
from dbarch.lint.pg import alter_commands, relation, unwrap
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class DropDefault(Rule):
    """Dropping a column's DEFAULT changes what INSERTs that omit the column store.

    Why: the application version running now may rely on the default (`created_at`,
    `status`, a counter starting at 0) and leave the column out of its INSERTs. Once the drop
    commits, those rows get NULL, or the INSERT fails outright when the column is NOT NULL.

    Lock: ACCESS EXCLUSIVE on PostgreSQL (catalog only, no rewrite), queued behind any open
    transaction on the table; MySQL/MariaDB change it in place (ALGORITHM=INSTANT) under a
    metadata lock.

    Instead: first ship code that writes the column explicitly in every INSERT, then drop the
    default in a later migration:

        SET lock_timeout = '2s';
        ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;

    `SET DEFAULT NULL` is the same change and is reported the same way.

    Exempt: a table or column created earlier in the same migration.
    """

    code = "L410"
    name = "drop-default"
    severity = Severity.WARNING
    nodes = ("AlterTableStmt", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP DEFAULT makes INSERTs that omit the column store NULL or fail"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for table, column in changed_columns(stmt, ctx, "AT_ColumnDefault", _postgresql, _mysql):
            t, c = quote(stmt.dialect, table), quote(stmt.dialect, column)
            yield self.finding(
                stmt,
                f"dropping the default of {table}.{column}: INSERTs that leave {column} out "
                "(the running application's, if it relies on the default) store NULL, or fail "
                "if the column is NOT NULL",
                table=table,
                lock=metadata_lock(stmt.dialect),
                fix=script(f"-- first: a release whose INSERTs write {column} explicitly",
                           LOCK_TIMEOUT[stmt.dialect],
                           f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT"),
            )


def _postgresql(stmt: Statement) -> tuple[str | None, list[str]]:
    columns = []
    for cmd in alter_commands(stmt):
        if cmd.get("subtype") != "AT_ColumnDefault":
            continue
        definition = cmd.get("def")
        if definition is None or _is_null(definition):
            columns.append(cmd.get("name", ""))
    return relation(stmt.node.get("relation")), columns


def _is_null(expr: dict) -> bool:
    kind, body = unwrap(expr)
    return kind == "A_Const" and bool(body.get("isnull"))


def _mysql(stmt: Statement) -> tuple[str | None, list[str]]:
    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    columns = []
    for action in actions(stmt):
        if not isinstance(action, exp.AlterColumn):
            continue
        dropped = action.args.get("drop") and not action.args.get("allow_null")  # not NOT NULL
        if dropped or isinstance(action.args.get("default"), exp.Null):
            columns.append(action.this.name)
    return table_of(stmt), columns
