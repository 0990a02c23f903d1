"""L301 set-not-null."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import alter_commands, relation
from dbarch.lint.pg_fix import drop_constraint, next_transaction, script, validate_constraint
from dbarch.lint.pg_names import object_name, quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement

# PostgreSQL 12 taught SET NOT NULL to skip its scan when a validated CHECK proves the column.
SKIPS_SCAN_SINCE = 12


@register
class SetNotNull(Rule):
    """SET NOT NULL on an existing column blocks every read and write while it scans the table.

    Why: `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` reads every row to prove there is no
    NULL, holding ACCESS EXCLUSIVE the whole time: on a large table the application stops for
    as long as a full sequential scan takes, and everything queued behind the lock waits too.

    Lock: ACCESS EXCLUSIVE on the table (blocks every SELECT, INSERT, UPDATE and DELETE).

    Instead: prove the column with a CHECK constraint first. Added NOT VALID it takes the lock
    only for a catalog update; VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE, which
    lets reads and writes go on. From PostgreSQL 12, SET NOT NULL sees the validated CHECK and
    skips its scan; the CHECK is then redundant and can go. Run VALIDATE in a transaction of
    its own (after the ADD has committed), or the ADD's lock is held through the scan.

        ALTER TABLE orders ADD CONSTRAINT orders_status_not_null
            CHECK (status IS NOT NULL) NOT VALID;
        -- in a later transaction:
        ALTER TABLE orders VALIDATE CONSTRAINT orders_status_not_null;
        ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
        ALTER TABLE orders DROP CONSTRAINT orders_status_not_null;

    A column added earlier in the same migration is better made NOT NULL in its ADD COLUMN,
    with a non-volatile DEFAULT: from PostgreSQL 11 that neither scans nor rewrites.

    Exempt: a table created earlier in the same migration; on PostgreSQL 12+, a column already
    guarded by a validated CHECK (col IS NOT NULL), earlier in the migration or (with `--db`)
    in the live catalog.

    Versions: before PostgreSQL 12, SET NOT NULL scans even when a validated CHECK proves the
    column; there the validated CHECK constraint is the safe NOT NULL (keep it, skip SET NOT
    NULL) until the table can take the scan.
    """

    code = "L301"
    name = "set-not-null"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if "AT_SetNotNull" not in alter_table.subtypes(stmt):
            return
        table = relation(stmt.node.get("relation"))
        if table is None or ctx.created_here(table):
            return
        for cmd in alter_commands(stmt):
            if cmd.get("subtype") != "AT_SetNotNull":
                continue
            column = cmd.get("name") or ""
            proved = ctx.has_not_null_check(table, column)
            if proved and ctx.pg_version >= SKIPS_SCAN_SINCE:
                continue
            if proved:
                message = (f"SET NOT NULL on {table}.{column} scans {table} under ACCESS "
                           f"EXCLUSIVE: PostgreSQL {ctx.pg_version} does not use the validated "
                           "CHECK (it does from 12)")
            else:
                message = (f"SET NOT NULL on {table}.{column} scans all of {table} under ACCESS "
                           "EXCLUSIVE, blocking reads and writes until the scan ends")
            added_here = (_bare(table), column.lower()) in ctx.created_columns
            yield self.finding(
                stmt, message, table=table, lock=ACCESS_EXCLUSIVE,
                fix=not_null_recipe(table, column, ctx, proved=proved),
                note=(f"{column} was added earlier in this migration: declare it NOT NULL in "
                      "that ADD COLUMN with a non-volatile DEFAULT (no scan, no rewrite on "
                      "PostgreSQL 11+)") if added_here else None,
            )


def not_null_recipe(table: str, column: str, ctx: Context, *, proved: bool = False) -> str:
    """The CHECK-first way to make `table.column` NOT NULL, for the PostgreSQL version in use;
    `proved` when a validated CHECK (column IS NOT NULL) is already in place."""
    return script(*not_null_steps(table, column, ctx, proved=proved))


def not_null_steps(table: str, column: str, ctx: Context, *, proved: bool = False) -> list[str]:
    """The statements (and comment lines) of `not_null_recipe`, to splice into a longer fix."""
    name = object_name(_bare(table), column, "not_null")
    rel, col = quote_qualified(table), quote_name(column)
    steps: list[str] = []
    if not proved:
        steps += [f"ALTER TABLE {rel} ADD CONSTRAINT {quote_name(name)} "
                  f"CHECK ({col} IS NOT NULL) NOT VALID",
                  next_transaction(ctx), validate_constraint(table, name)]
    if ctx.pg_version >= SKIPS_SCAN_SINCE:
        steps += [f"ALTER TABLE {rel} ALTER COLUMN {col} SET NOT NULL",
                  drop_constraint(table, name)]
    else:
        steps.append(f"-- PostgreSQL {ctx.pg_version}: SET NOT NULL would scan anyway; keep the "
                     "validated CHECK as the column's NOT NULL")
    return steps


def _bare(table: str) -> str:
    return table.lower().rsplit(".", 1)[-1]
