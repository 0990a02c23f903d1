"""L411 enum-add-value."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import pg_name, script
from dbarch.lint.pg import strings
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class EnumAddValue(Rule):
    """ALTER TYPE ... ADD VALUE inside a transaction, or placed BEFORE/AFTER existing values.

    Why: before PostgreSQL 12, `ALTER TYPE ... ADD VALUE` cannot run inside a transaction
    block at all: the migration fails (`cannot run inside a transaction block`) under any
    tool that wraps it in one. From PostgreSQL 12 it can, but the new value cannot be used
    until the transaction commits: a later statement of the same migration that stores or
    compares it fails with `unsafe use of new value`. Placing it with BEFORE or AFTER changes
    the order existing queries rely on: `ORDER BY status` and `WHERE status < 'shipped'`
    return different rows once the value sits between two old ones.

    Lock: none on tables; the catalog row of the type only.

    Instead: add values at the end, in a statement of their own outside the migration's
    transaction, and use them only in later migrations or after it commits:

        -- outside BEGIN ... COMMIT (alembic: with op.get_context().autocommit_block():)
        ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';

    Versions: inside a transaction block an error before PostgreSQL 12, allowed from 12 as
    long as the value is not used before COMMIT. Appending at the end is safe on every
    version.
    """

    code = "L411"
    name = "enum-add-value"
    severity = Severity.WARNING
    nodes = ("AlterEnumStmt",)
    summary = "ALTER TYPE ADD VALUE in a transaction (fails before PG12) or BEFORE/AFTER (reorders)"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        value = node.get("newVal")
        if not value or node.get("oldVal"):
            return  # RENAME VALUE is L404's
        type_name = ".".join(strings(node.get("typeName")))
        literal = value.replace("'", "''")
        appended = script("-- in a statement of its own, outside any transaction block:",
                          f"ALTER TYPE {pg_name(type_name)} ADD VALUE IF NOT EXISTS '{literal}'")
        if ctx.in_transaction:
            where = "BEGIN ... COMMIT" if ctx.explicit_transaction else \
                f"the transaction {ctx.tool} wraps the migration in"
            if ctx.pg_version < 12:
                yield self.finding(
                    stmt,
                    f"ALTER TYPE {type_name} ADD VALUE '{value}' inside {where} fails on "
                    f"PostgreSQL {ctx.pg_version}: it cannot run in a transaction block before "
                    "PostgreSQL 12",
                    fix=appended, severity=Severity.ERROR,
                )
            else:
                yield self.finding(
                    stmt,
                    f"'{value}' is added to {type_name} inside {where}: it cannot be used until "
                    "that transaction commits, so a later statement of this migration that "
                    "stores or compares it fails with 'unsafe use of new value'",
                    fix=appended, severity=Severity.INFO,
                )
        neighbour = node.get("newValNeighbor")
        if neighbour:
            side = "after" if node.get("newValIsAfter") else "before"
            yield self.finding(
                stmt,
                f"'{value}' goes {side} '{neighbour}' in {type_name}: the sort order changes, so "
                f"ORDER BY and range comparisons (< '{neighbour}') on columns of {type_name} "
                "return different rows than the running code expects",
                fix=appended.replace("outside any transaction block:",
                                     "outside any transaction block, at the end of the "
                                     "order (compare by name in the application if order "
                                     "matters):"),
            )
