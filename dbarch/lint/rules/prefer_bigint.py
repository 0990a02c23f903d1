"""L901 prefer-bigint."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.column_defs import columns, mysql_retyped, retyped
from dbarch.lint.context import Context
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement

# PostgreSQL catalog names (pg_type.typname; serial types as the parser keeps them) and sqlglot
# type names for MySQL, with the largest value each holds. TINYINT is left alone: MySQL uses
# TINYINT(1) for booleans and small codes.
_PG = {
    "int2": ("smallint", 32_767, "bigint"),
    "int4": ("integer", 2_147_483_647, "bigint"),
    "smallserial": ("smallserial", 32_767, "bigint"),
    "serial2": ("smallserial", 32_767, "bigint"),
    "serial": ("serial", 2_147_483_647, "bigint"),
    "serial4": ("serial", 2_147_483_647, "bigint"),
}
_MYSQL = {
    "SMALLINT": ("SMALLINT", 32_767, "BIGINT"),
    "USMALLINT": ("SMALLINT UNSIGNED", 65_535, "BIGINT UNSIGNED"),
    "MEDIUMINT": ("MEDIUMINT", 8_388_607, "BIGINT"),
    "UMEDIUMINT": ("MEDIUMINT UNSIGNED", 16_777_215, "BIGINT UNSIGNED"),
    "INT": ("INT", 2_147_483_647, "BIGINT"),
    "UINT": ("INT UNSIGNED", 4_294_967_295, "BIGINT UNSIGNED"),
}


@register
class PreferBigint(Rule):
    """The column is a 16- or 32-bit integer, which ids and counters outgrow.

    Why: an integer column stops at 2,147,483,647 (smallint at 32,767): a busy table's id
    sequence, a counter or a foreign key to such an id gets there, and inserts then fail
    with "integer out of range" (PostgreSQL) or "Out of range value" (MySQL). Widening later is
    the expensive migration: on PostgreSQL ALTER COLUMN TYPE bigint rewrites the table and
    every index on it under ACCESS EXCLUSIVE, on MySQL it is a table copy. bigint costs 4
    bytes more per row, often nothing at all after alignment padding.

    Instead: declare 64-bit integers from the start (identity on PostgreSQL, see L902):

        CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                             user_id bigint NOT NULL REFERENCES users (id));
        CREATE TABLE orders (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY);   -- MySQL

    Exempt: TINYINT on MySQL (booleans and small codes); arrays of integers. Switch the rule
    off for a column with `-- dbarch-ignore: L901 <reason>` when its domain is small by nature
    (a percentage, a month number).

    Off by default: enable it with `enable = ["L901"]`.
    """

    code = "L901"
    name = "prefer-bigint"
    severity = Severity.WARNING
    nodes = ("CreateStmt", "AlterTableStmt", "Create", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    default_enabled = False
    summary = "16/32-bit integer column: ids and counters run out; widening later rewrites"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table_of_types = _PG if stmt.dialect == POSTGRESQL else _MYSQL
        for site in columns(stmt):
            known = table_of_types.get(site.type)
            if known is None or site.is_array:
                continue
            label, limit, wider = known
            where = f"{site.table}.{site.column}" if site.table else site.column
            if stmt.dialect == POSTGRESQL:
                fix = retyped(stmt, site.column, wider, identity="serial" in site.type)
            else:
                fix = mysql_retyped(stmt, site.column, wider)
            yield self.finding(
                stmt,
                f"{where} is {label}: it stops at {limit:,}, and widening it later rewrites "
                f"the table; declare it {wider}",
                table=site.table,
                fix=fix or f"{site.column} {wider}",
            )
