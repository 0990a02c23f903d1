"""Reading MySQL/MariaDB statements (sqlglot expressions) for rules, and the context walk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.statement import Statement

_SETTING = re.compile(
    r"(?<![\w.])(?:@@(?:session\.)?|session\s+)?(lock_wait_timeout|max_execution_time)"
    r"\s*(?:=|:=|TO)\s*('[^']*'|\"[^\"]*\"|\w+)",
    re.IGNORECASE,
)
# ALGORITHM [=] value / LOCK [=] value, with MySQL's own values only: a column named
# lock_version or algorithm_id is not an option.
_OPTION = re.compile(
    r"\b(ALGORITHM|LOCK)\b\s*=?\s*(DEFAULT|INSTANT|INPLACE|NOCOPY|COPY|NONE|SHARED|EXCLUSIVE)\b",
    re.IGNORECASE,
)
_OPTION_CLAUSE = re.compile(r"\s*,?\s*" + _OPTION.pattern, re.IGNORECASE)


def without_online_options(text: str) -> str:
    """The statement with its ALGORITHM=/LOCK= clauses removed (sqlglot refuses some)."""
    return _OPTION_CLAUSE.sub("", text)


def table_of(stmt: Statement) -> str | None:
    """The table an ALTER/CREATE/DROP statement names."""
    from sqlglot import exp

    node = stmt.node
    target = node.this if isinstance(node, (exp.Alter, exp.Create)) else node.find(exp.Table)
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table):
        return target.name
    return None


def actions(stmt: Statement) -> list[Any]:
    """The actions of an ALTER TABLE (ColumnDef, ModifyColumn, RenameColumn, Drop …)."""
    from sqlglot import exp

    if isinstance(stmt.node, exp.Alter):
        return list(stmt.node.args.get("actions") or [])
    return []


def online_options(stmt: Statement) -> dict[str, str]:
    """ALGORITHM= and LOCK= as written ({'ALGORITHM': 'COPY', 'LOCK': 'SHARED'})."""
    return {key.upper(): value.upper() for key, value in _OPTION.findall(stmt.text)}


def column_types(stmt: Statement) -> Iterator[tuple[str, Any]]:
    """(column name, sqlglot DataType) for every column an ALTER adds or modifies."""
    from sqlglot import exp

    for action in actions(stmt):
        definition = action.this if isinstance(action, exp.ModifyColumn) else action
        if isinstance(definition, exp.ColumnDef) and definition.args.get("kind") is not None:
            yield definition.name, definition.args["kind"]


def advance_mysql(ctx: Context, stmt: Statement) -> None:
    """The effects of a MySQL statement on the migration's context.

    MySQL commits implicitly before and after every DDL statement, so a transaction opened
    with START TRANSACTION never spans a schema change.
    """
    from sqlglot import exp

    node = stmt.node
    if isinstance(node, exp.Transaction):
        ctx.begin()
    elif isinstance(node, (exp.Commit, exp.Rollback)):
        ctx.end()
    elif isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "TABLE":
        name = table_of(stmt)
        if name:
            ctx.created_tables.add(name.lower())
    elif isinstance(node, exp.Set):
        # innodb_lock_wait_timeout is about row locks: it does not bound the metadata lock wait
        for name, value in _SETTING.findall(stmt.text):
            enabled = value.strip("'\"").lower() not in ("0", "default")
            if name.lower() == "lock_wait_timeout":
                ctx.lock_timeout = enabled
            elif name.lower() == "max_execution_time":
                ctx.statement_timeout = enabled
    elif isinstance(node, exp.Drop) and (node.args.get("kind") or "").upper() == "TABLE":
        for table in node.find_all(exp.Table):
            ctx.created_tables.discard(table.name.lower())
    if isinstance(node, (exp.Alter, exp.Create, exp.Drop)) and ctx.explicit_transaction:
        ctx.end()
