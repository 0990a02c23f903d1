"""L404 rename-enum-value."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import pg_name, script
from dbarch.lint.pg import strings
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class RenameEnumValue(Rule):
    """Renaming an enum value breaks every running writer and reader of the old label.

    Why: `ALTER TYPE status RENAME VALUE 'paid' TO 'settled'` (PostgreSQL 10+) changes the
    label in the catalog; stored rows follow at once. The application version running when it
    commits still writes `'paid'` and fails with `invalid input value for enum status: "paid"`,
    and its reads compare against a label that no longer exists (`WHERE status = 'paid'`
    fails the same way), until every instance runs code that knows the new label.

    Lock: none on tables (a catalog update), so it is instant; the danger is the label.

    Instead: add the new label, ship code that accepts both and writes the new one, move the
    rows in batches, then stop accepting the old label. PostgreSQL cannot drop an enum value;
    the old one stays unused (or the type is recreated later).

        ALTER TYPE status ADD VALUE IF NOT EXISTS 'settled' AFTER 'paid';  -- outside a transaction
        -- release: the application reads both, writes 'settled'
        UPDATE orders SET status = 'settled' WHERE status = 'paid' AND id BETWEEN 1 AND 10000;
        -- release: the application no longer knows 'paid'

    Versions: RENAME VALUE exists since PostgreSQL 10.

    Exempt: a type created earlier in the same migration.
    """

    code = "L404"
    name = "rename-enum-value"
    severity = Severity.ERROR
    nodes = ("AlterEnumStmt",)
    summary = "ALTER TYPE ... RENAME VALUE breaks code that still writes or reads the old label"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        old = node.get("oldVal")
        if not old:
            return
        new = node.get("newVal", "")
        type_name = ".".join(strings(node.get("typeName")))
        if ctx.created_type_here(type_name):
            return
        yield self.finding(
            stmt,
            f"renaming value '{old}' of {type_name} to '{new}': the application version running "
            f"now still writes and compares '{old}', and fails with 'invalid input value for "
            f"enum' until every instance runs code that knows '{new}'",
            fix=script(
                f"ALTER TYPE {pg_name(type_name)} ADD VALUE IF NOT EXISTS '{_literal(new)}' "
                f"AFTER '{_literal(old)}'",
                f"-- release: the application reads both labels and writes '{new}'",
                f"-- then, in batches, for each column of type {type_name}:",
                f"UPDATE <table> SET <column> = '{_literal(new)}' WHERE <column> = "
                f"'{_literal(old)}' AND id BETWEEN 1 AND 10000",
                f"-- release: the application no longer knows '{old}'",
            ),
        )


def _literal(text: str) -> str:
    return text.replace("'", "''")
