"""L904 prefer-timestamptz."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.column_defs import columns, retyped
from dbarch.lint.context import Context
from dbarch.lint.pg import type_mods
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class PreferTimestamptz(Rule):
    """The column is timestamp without time zone; it stores wall-clock readings, not instants.

    Why: `timestamp` keeps the digits it is given and drops any zone, so the same value means
    different instants to sessions with different TimeZone settings, an hour of local times
    repeats every autumn (DST) and cannot be told apart, and comparing it with now() or any
    timestamptz converts it through the session's TimeZone. `timestamptz` stores the instant
    (UTC internally, same 8 bytes) and converts to the session's zone only for display.

    Instead:

        CREATE TABLE events (created_at timestamptz NOT NULL DEFAULT now());

    An existing timestamp column converts without a rewrite on PostgreSQL 12+ when the
    session TimeZone is UTC (see L306); otherwise ALTER COLUMN TYPE rewrites the table.

    Exempt: MySQL (its TIMESTAMP and DATETIME are a different pair of trade-offs).

    Off by default: enable it with `enable = ["L904"]`.
    """

    code = "L904"
    name = "prefer-timestamptz"
    severity = Severity.WARNING
    nodes = ("CreateStmt", "AlterTableStmt")
    default_enabled = False
    summary = "timestamp without time zone column: store instants as timestamptz"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for site in columns(stmt):
            if site.type != "timestamp":
                continue
            precision = type_mods(site.node.get("typeName"))
            wanted = f"timestamptz({precision[0]})" if precision else "timestamptz"
            where = f"{site.table}.{site.column}" if site.table else site.column
            yield self.finding(
                stmt,
                f"{where} is timestamp without time zone: its values mean different instants "
                f"in different session time zones; declare it {wanted}",
                table=site.table,
                fix=retyped(stmt, site.column, wanted) or f"{site.column} {wanted}",
            )
