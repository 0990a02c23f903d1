"""What an ALTER TABLE changes on a table that existed before this migration.

The drop and rename rules (L405, L408, L409, L410, L401) share one shape: return unless the
statement holds the subcommand they are about, read the table and the items it changes from
the PostgreSQL or the MySQL tree, pass over a table created earlier in the migration, then
pass over each column created earlier too. Only the readers differ, so they are handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE, MYSQL_METADATA
from dbarch.lint.pg import alter_commands
from dbarch.lint.statement import POSTGRESQL, Statement

Item = TypeVar("Item")
Reader = Callable[[Statement], tuple[str | None, list[Item]]]


def named_subcommands(stmt: Statement, subtype: str) -> list[str]:
    """The `name` (a column or constraint) of each PostgreSQL ALTER TABLE subcommand of a type."""
    return [cmd.get("name", "") for cmd in alter_commands(stmt) if cmd.get("subtype") == subtype]


def existing_table_items(stmt: Statement, ctx: Context, subtype: str,
                         postgresql: Reader[Item],
                         mysql: Reader[Item]) -> tuple[str, list[Item]] | None:
    """(table, items) the ALTER changes, or None when it holds no `subtype` subcommand
    (PostgreSQL), names no table, or the table was created earlier in this migration."""
    if stmt.kind == "AlterTableStmt" and subtype not in alter_table.subtypes(stmt):
        return None
    table, items = postgresql(stmt) if stmt.dialect == POSTGRESQL else mysql(stmt)
    if not table or ctx.created_here(table):
        return None
    return table, items


def column_created_here(ctx: Context, table: str, column: str) -> bool:
    """Whether `table.column` was added earlier in this migration (by CREATE TABLE or ADD)."""
    bare = table.lower().rsplit(".", 1)[-1]
    return (bare, column) in ctx.created_columns or (bare, column.lower()) in ctx.created_columns


def changed_columns(stmt: Statement, ctx: Context, subtype: str, postgresql: Reader[str],
                    mysql: Reader[str]) -> Iterator[tuple[str, str]]:
    """(table, column) for each column the ALTER changes where neither the table nor the
    column was created earlier in this migration."""
    target = existing_table_items(stmt, ctx, subtype, postgresql, mysql)
    if target is not None:
        table, columns = target
        for column in columns:
            if not column_created_here(ctx, table, column):
                yield table, column


def metadata_lock(dialect: str) -> str:
    """The lock a catalog-only ALTER TABLE takes: ACCESS EXCLUSIVE on PostgreSQL, the
    exclusive metadata lock on MySQL/MariaDB."""
    return ACCESS_EXCLUSIVE if dialect == POSTGRESQL else MYSQL_METADATA
