"""L903 prefer-text."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.column_defs import columns, retyped
from dbarch.lint.context import Context
from dbarch.lint.pg import type_mods
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class PreferText(Rule):
    """The column is varchar(n) or char(n); on PostgreSQL, text with a CHECK is easier to change.

    Why: PostgreSQL stores varchar(n) and text the same way; the (n) is only a constraint, and
    the one that is hardest to change. Raising it takes ACCESS EXCLUSIVE on the table (brief,
    no rewrite since 9.2, but it queues behind every open transaction and blocks everything
    queued behind it); lowering it, or changing a varchar column to a type that is not binary
    compatible, rewrites the table under that lock. A CHECK (char_length(col) <= n) expresses
    the same limit and changes online: add the new one NOT VALID, VALIDATE it (SHARE UPDATE
    EXCLUSIVE, reads and writes go on), drop the old one. char(n) is worse: values are padded
    with spaces, and the padding is ignored in some comparisons and not in others (LIKE,
    regular expressions, concatenation).

    Instead:

        CREATE TABLE users (name text NOT NULL CHECK (char_length(name) <= 100));

    Exempt: varchar without a length (it is text). MySQL is not checked: there TEXT is a
    different storage class (off-page, no DEFAULT before 8.0.13, prefix indexes only), and
    VARCHAR(n) is the right choice.

    Off by default: enable it with `enable = ["L903"]`.
    """

    code = "L903"
    name = "prefer-text"
    severity = Severity.WARNING
    nodes = ("CreateStmt", "AlterTableStmt")
    default_enabled = False
    summary = "varchar(n)/char(n) column: text with a CHECK on its length changes online"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for site in columns(stmt):
            limits = type_mods(site.node.get("typeName"))
            if site.type == "bpchar":
                limit = limits[0] if limits else 1
            elif site.type == "varchar" and limits:
                limit = limits[0]
            else:
                continue
            where = f"{site.table}.{site.column}" if site.table else site.column
            shown = site.text.replace("bpchar", "char")
            check = f"CHECK (char_length({site.column}) <= {limit})"
            fix = retyped(stmt, site.column, "text")
            existing = stmt.kind == "AlterTableStmt" and not ctx.created_here(site.table)
            yield self.finding(
                stmt,
                f"{where} is {shown}: changing that limit later locks the table (ACCESS "
                f"EXCLUSIVE); declare text with {check}",
                table=site.table,
                fix=(f"{fix}\n-- with the limit as a constraint that changes online:\n" if fix
                     else "") + _constraint(site.table, site.column, check, existing),
            )


def _constraint(table: str | None, column: str, check: str, existing: bool) -> str:
    """The CHECK as its own statement; on a table in use, NOT VALID then VALIDATE (no long lock)."""
    if table is None:
        return f"{column} text {check}"
    name = f"{table.rsplit('.', 1)[-1]}_{column}_length"
    if not existing:
        return f"ALTER TABLE {table} ADD CONSTRAINT {name} {check};"
    return (f"ALTER TABLE {table} ADD CONSTRAINT {name} {check} NOT VALID;\n"
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {name};")
