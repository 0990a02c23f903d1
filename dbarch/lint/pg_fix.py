"""The pieces of the safe SQL a PostgreSQL finding suggests, around the edited statement.

A fix script is the user's statement edited (dbarch.lint.statement_text) plus what goes around
it: `script()` joining statements and `--` comment lines, the comments that say where a
statement must run (its own transaction, outside the migration's), small statements written
whole (VALIDATE / DROP CONSTRAINT), DefElem options read, and pglast AST builders for the rare
fixes that build a new statement rather than edit one. Names are quoted by dbarch.lint.pg_names.
"""

from __future__ import annotations

from typing import Any

from dbarch.lint.context import Context, migration_tools
from dbarch.lint.pg_names import quote_name, quote_qualified


# --- options and small statements ----------------------------------------------------------------
def option_on(params: list[dict[str, Any]] | None, name: str) -> bool:
    """Whether a DefElem option list (VACUUM, REINDEX) switches `name` on.

    `FULL` alone means true; `FULL false|off|0` means false, as defGetBoolean reads it.
    """
    for item in params or []:
        body = item.get("DefElem") or {}
        if body.get("defname") != name:
            continue
        arg = body.get("arg")
        if not arg:
            return True
        _, value = next(iter(arg.items()))
        text = str(next(iter(value.values()), "1")).lower() if value else "0"
        return text not in ("false", "off", "0", "no")
    return False


def validate_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table VALIDATE CONSTRAINT name`, quoted (no `;`: script() adds it)."""
    return f"ALTER TABLE {quote_qualified(table)} VALIDATE CONSTRAINT {quote_name(name)}"


def drop_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table DROP CONSTRAINT name`, quoted (no `;`: script() adds it)."""
    return f"ALTER TABLE {quote_qualified(table)} DROP CONSTRAINT {quote_name(name)}"


def script(*statements: str) -> str:
    """Statements (and `--` comment lines) joined into a runnable script, one per line."""
    lines = []
    for item in statements:
        text = item.strip()
        if not text:
            continue
        lines.append(text if text.startswith("--") or text.endswith(";") else f"{text};")
    return "\n".join(lines)


def next_transaction(ctx: Context) -> str:
    """A comment saying where a statement must go to run in a transaction of its own."""
    if ctx.explicit_transaction:
        return "-- after the COMMIT that ends this transaction block, in a transaction of its own:"
    if ctx.in_transaction:
        return (f"-- in the next migration ({ctx.tool} runs a whole migration in one "
                "transaction, which would still hold the lock taken above):")
    return "-- then, as a statement of its own (it commits before the next one starts):"


def outside_transaction(ctx: Context) -> str:
    """A comment saying how to run a statement outside any transaction block, for this file."""
    if ctx.explicit_transaction:
        return "-- outside BEGIN … COMMIT: after the COMMIT, not inside the block:"
    if ctx.in_transaction:
        about = migration_tools()[ctx.tool]["about"]
        return f"-- outside the transaction {ctx.tool} opens for the migration ({about}):"
    return ""


# --- pglast's AST, for fixes that build new statements -------------------------------------------
# Slower than editing text (a parse into Python objects and a print): for rare rewrites.
def parse_one(text: str) -> Any:
    """The pglast AST of a single statement's text (editable nodes)."""
    from pglast import parse_sql

    return parse_sql(text)[0].stmt


def to_sql(node: Any) -> str:
    """A pglast AST node printed as SQL, identifiers quoted where PostgreSQL needs it."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def range_var(name: str) -> Any:
    """A pglast RangeVar for `schema.table` or `table` (names as PostgreSQL folded them)."""
    from pglast import ast

    schema, _, relname = name.rpartition(".")
    return ast.RangeVar(relname=relname, schemaname=schema or None, inh=True,
                        relpersistence="p")


def alter_table(table: str, *cmds: Any) -> Any:
    """`ALTER TABLE table cmd, cmd …` as a pglast AST node."""
    from pglast import ast, enums

    return ast.AlterTableStmt(relation=range_var(table), cmds=cmds,
                              objtype=enums.ObjectType.OBJECT_TABLE)

