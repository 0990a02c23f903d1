"""L302 add-column-not-null-without-default."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.added_columns import added_to_existing, non_null_default
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import constraints, type_name, unwrap
from dbarch.lint.pg_constraint_edits import column_constraint_span
from dbarch.lint.pg_fix import script
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.add_column_serial_or_identity import SERIAL_TYPES
from dbarch.lint.rules.set_not_null import not_null_steps
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText

# Constraint kinds that give every existing row a value, so NOT NULL holds at once.
FILLS_ROWS = {"CONSTR_IDENTITY", "CONSTR_GENERATED"}
REQUIRES_VALUE = {"CONSTR_NOTNULL", "CONSTR_PRIMARY"}


@register
class AddColumnNotNullWithoutDefault(Rule):
    """ADD COLUMN ... NOT NULL without a DEFAULT fails on any table that already has rows.

    Why: existing rows get NULL in the new column, which the NOT NULL (or PRIMARY KEY) forbids:
    PostgreSQL scans the table under ACCESS EXCLUSIVE and aborts with `column "c" of relation
    "t" contains null values`. The migration works on an empty development database and fails
    in production, after having blocked the table for the length of the scan.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write) while it scans.

    Instead: give existing rows a value with a non-volatile DEFAULT (from PostgreSQL 11 that is
    a catalog change: no rewrite, no scan), or add the column nullable, backfill it in batches
    and enforce NOT NULL through a validated CHECK (see L301):

        ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
        -- or
        ALTER TABLE orders ADD COLUMN region text;
        -- backfill in batches, then:
        ALTER TABLE orders ADD CONSTRAINT orders_region_not_null
            CHECK (region IS NOT NULL) NOT VALID;
        ALTER TABLE orders VALIDATE CONSTRAINT orders_region_not_null;
        ALTER TABLE orders ALTER COLUMN region SET NOT NULL;
        ALTER TABLE orders DROP CONSTRAINT orders_region_not_null;

    Exempt: a table created earlier in the same migration; columns whose values come from an
    identity, a serial type or a generated expression (L304 and L305 judge those).

    Versions: before PostgreSQL 11 a non-null DEFAULT rewrites the table (L303), so there the
    nullable-then-backfill path is the safe one.
    """

    code = "L302"
    name = "add-column-not-null-without-default"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    summary = "ADD COLUMN NOT NULL without a DEFAULT fails on a table that has rows"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if alter_table.added_contypes(stmt).isdisjoint(REQUIRES_VALUE):
            return
        for table, index, column in added_to_existing(stmt, ctx):
            kinds = {c.get("contype") for c in constraints(column)}
            if not kinds & REQUIRES_VALUE or kinds & FILLS_ROWS:
                continue
            if non_null_default(column) is not None:
                continue
            if type_name(column.get("typeName")).lower() in SERIAL_TYPES:
                continue
            name = column.get("colname", "")
            word = "PRIMARY KEY" if "CONSTR_PRIMARY" in kinds else "NOT NULL"
            yield self.finding(
                stmt,
                f"ADD COLUMN {name} {word} without a DEFAULT fails as soon as {table} has a "
                f"row (\"column {name} contains null values\"), after scanning it under ACCESS "
                "EXCLUSIVE",
                table=table, lock=ACCESS_EXCLUSIVE, fix=_fix(stmt, index, table, name, ctx),
                note=("PRIMARY KEY makes the column NOT NULL; add the key afterwards with "
                      "CREATE UNIQUE INDEX CONCURRENTLY and ADD PRIMARY KEY USING INDEX (L204)")
                if "CONSTR_PRIMARY" in kinds else None,
            )


def _fix(stmt: Statement, index: int, table: str, column: str, ctx: Context) -> str:
    """The column added nullable, then the CHECK-first NOT NULL; or the DEFAULT route."""
    source = StatementText(stmt.text, stmt)
    _, cmd = unwrap(source.node["cmds"][index])
    definition = cmd["def"]["ColumnDef"]
    at = source.item_end(source.char(definition.get("location", 0)))
    with_default = f"{source.text[:at]} DEFAULT <value>{source.text[at:]}"
    for entry in definition.get("constraints") or []:
        _, constraint = unwrap(entry)
        if constraint.get("contype") in REQUIRES_VALUE:
            start, end = column_constraint_span(source, constraint, definition)
            prior = source.previous_token(start)
            source.replace(prior[1] if prior else start, end, "")
    nullable = source.result()
    steps = []
    if ctx.pg_version >= 11:
        steps.append("-- either give existing rows a constant (no rewrite on PostgreSQL 11+):")
        steps.append("--   " + with_default.replace("\n", "\n--   ") + ";")
        steps.append("-- or add it nullable, backfill in batches, then enforce NOT NULL:")
    steps.append(nullable)
    steps.append("-- backfill existing rows in batches by primary key (L505), then:")
    return script(*steps, *not_null_steps(table, column, ctx))
