"""L202 check-not-valid."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import relation
from dbarch.lint.pg_constraint_edits import make_not_valid
from dbarch.lint.pg_fix import next_transaction, script, validate_constraint
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class CheckNotValid(Rule):
    """ADD CHECK without NOT VALID holds ACCESS EXCLUSIVE while it checks every row.

    Why: adding a CHECK constraint scans the whole table to prove every row passes, and
    ALTER TABLE holds ACCESS EXCLUSIVE for the whole scan: every query on the table, SELECT
    included, waits. A CHECK written on a new column (`ADD COLUMN … CHECK (…)`) scans too.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write).

    Instead: add it NOT VALID (new and updated rows are checked at once; no scan, the lock
    is held for milliseconds), then VALIDATE it in a separate transaction: VALIDATE scans
    under SHARE UPDATE EXCLUSIVE, so reads and writes continue.

        ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;
        -- in a separate transaction:
        ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;

    Exempt: a table created earlier in the same migration.
    """

    code = "L202"
    name = "check-not-valid"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if "CONSTR_CHECK" not in alter_table.added_contypes(stmt):
            return
        table = relation(stmt.node.get("relation"))
        if ctx.created_here(table):
            return
        if not any(_validated_check(c) for c, _ in alter_table.added_constraints(stmt)):
            return
        sql, names = make_not_valid(stmt.text, "CONSTR_CHECK", stmt)
        yield self.finding(
            stmt,
            f"CHECK {', '.join(names)} is added without NOT VALID: {table} is scanned to "
            f"check every row while ACCESS EXCLUSIVE blocks every read and write on it",
            table=table,
            lock=ACCESS_EXCLUSIVE,
            fix=script(sql, next_transaction(ctx),
                       *(validate_constraint(table or "", name) for name in names)),
        )


def _validated_check(constraint: dict) -> bool:
    return constraint.get("contype") == "CONSTR_CHECK" and not constraint.get("skip_validation")
