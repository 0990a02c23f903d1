"""L402 rename-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import LOCK_TIMEOUT, quote, rename_table, script
from dbarch.lint.locks import ACCESS_EXCLUSIVE, MYSQL_METADATA
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement

_RELATIONS = {"OBJECT_TABLE": "TABLE", "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE",
              "OBJECT_VIEW": "VIEW", "OBJECT_MATVIEW": "MATERIALIZED VIEW"}


@register
class RenameTable(Rule):
    """Renaming a table breaks every running instance of the application that uses it.

    Why: the application version running when the rename commits still queries the old
    name; until every instance runs code that knows the new one, those queries fail with
    `relation "orders" does not exist`. Rolling the code back breaks it again.

    Lock: ACCESS EXCLUSIVE on the table (PostgreSQL; catalog only, but it queues behind any
    open transaction on the table), an exclusive metadata lock on MySQL/MariaDB.

    Instead: keep the old name answering while the code moves. On PostgreSQL, rename and
    put an updatable view under the old name in one transaction (a view over one table
    accepts INSERT, UPDATE and DELETE, and the table's defaults apply); drop the view once no
    running code uses the old name:

        BEGIN;
        SET LOCAL lock_timeout = '2s';
        ALTER TABLE orders RENAME TO purchases;
        CREATE VIEW orders AS SELECT * FROM purchases;
        COMMIT;
        -- release: the application uses purchases; then, in a later migration:
        DROP VIEW orders;

    On MySQL/MariaDB, where DDL commits at once, create the new name as a view first and
    swap in one atomic RENAME TABLE (it renames the view and the table together):

        CREATE VIEW purchases AS SELECT * FROM orders;
        -- release: the application uses purchases; then:
        RENAME TABLE purchases TO purchases_old_view, orders TO purchases;
        DROP VIEW purchases_old_view;

    `SELECT *` in a view is expanded when the view is created: columns added to the table
    later do not show through it, so keep the view's life short.

    Exempt: a table created earlier in the same migration.
    """

    code = "L402"
    name = "rename-table"
    severity = Severity.ERROR
    nodes = ("RenameStmt", "Alter", "Command")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "RENAME TABLE breaks the running application until every instance is redeployed"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        renames = _postgresql(stmt) if stmt.dialect == POSTGRESQL else _mysql(stmt)
        for old, new, what in renames:
            if ctx.created_here(old):
                continue
            yield self.finding(
                stmt,
                f"renaming {what.lower()} {old} to {new}: the application version running now "
                f"still queries {old}, and fails from the moment this commits until every "
                "instance runs code that knows the new name",
                table=old,
                lock=ACCESS_EXCLUSIVE if stmt.dialect == POSTGRESQL else MYSQL_METADATA,
                fix=_fix(stmt.dialect, old, new, what, ctx),
            )


def _postgresql(stmt: Statement) -> list[tuple[str, str, str]]:
    node = stmt.node
    what = _RELATIONS.get(node.get("renameType", ""))
    old = relation(node.get("relation"))
    if what is None or not old:
        return []
    return [(old, node.get("newname", ""), what)]


def _mysql(stmt: Statement) -> list[tuple[str, str, str]]:
    import re

    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    node = stmt.node
    if isinstance(node, exp.Command):
        if str(node.this).upper() != "RENAME":
            return []
        text = str(node.expression.this if node.expression is not None else "")
        text = re.sub(r"(?i)^\s*TABLES?\s+", "", text)
        pairs = []
        for part in text.split(","):
            names = re.split(r"(?i)\s+TO\s+", part.strip())
            if len(names) == 2:
                pairs.append((names[0].strip().strip("`"), names[1].strip().strip("`"), "TABLE"))
        return pairs
    table = table_of(stmt)
    if not table:
        return []
    return [(table, action.this.name, "TABLE") for action in actions(stmt)
            if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table)]


def _fix(dialect: str, old: str, new: str, what: str, ctx: Context) -> str:
    if what in ("TABLE", "FOREIGN TABLE"):
        return rename_table(dialect, old, new, in_transaction=ctx.in_transaction)
    # a view or materialized view: nothing stands in for the old name, so only keep the
    # rename from queueing traffic, and ship the code that uses the new name first
    return script(f"-- first ship code that can use {new}", LOCK_TIMEOUT[dialect],
                  f"ALTER {what} {quote(dialect, old)} RENAME TO {quote(dialect, new)}")
