"""The columns a PostgreSQL ALTER TABLE adds to a table that existed before this migration.

The ADD COLUMN rules (L302–L305) judge each added column the same way: only where the table
was not created earlier in the migration (there it has no rows to rewrite or fail on), and
with the command's position so the fix can edit that command in the user's text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.pg import alter_commands, constraints, relation, unwrap
from dbarch.lint.statement import Statement

Node = dict[str, Any]


def added_to_existing(stmt: Statement, ctx: Context) -> Iterator[tuple[str, int, Node]]:
    """(table, index of the command in `cmds`, ColumnDef) for each ADD COLUMN of the
    statement, unless its table was created earlier in this migration."""
    table = relation(stmt.node.get("relation"))
    if table is None or ctx.created_here(table):
        return
    for index, cmd in enumerate(alter_commands(stmt)):
        definition = cmd.get("def") or {}
        if cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in definition:
            yield table, index, definition["ColumnDef"]


def non_null_default(column: Node) -> Node | None:
    """The column's DEFAULT expression, unless it has none or it is NULL: the value existing
    rows get when the column is added."""
    for constraint in constraints(column):
        if constraint.get("contype") == "CONSTR_DEFAULT":
            expr = constraint.get("raw_expr")
            if not expr:
                return None
            kind, body = unwrap(expr)
            return None if kind == "A_Const" and body.get("isnull") else expr
    return None
