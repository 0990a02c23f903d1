"""L602 missing-statement-timeout."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import script
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.missing_lock_timeout import (
    blocked,
    blocking_locks,
    describe,
    pg_node_kinds,
)
from dbarch.lint.statement import Statement
from dbarch.lint.statement_lock import INDEX


@register
class MissingStatementTimeout(Rule):
    """A statement that holds a lock blocking traffic runs without a statement_timeout.

    Why: lock_timeout bounds the wait for the lock; nothing bounds how long the statement then
    holds it. A rewrite, a validation scan or an index build that turns out to take minutes on
    the production table keeps every query it blocks waiting for all of it. A statement_timeout
    cancels it (and rolls it back) once the table has been blocked longer than you accept.

    Lock: the one the statement takes (see L601 and dbarch/lint/data/statement_locks.yaml).

    Instead: set both before blocking statements, the statement_timeout to the longest you
    accept the table blocked:

        SET lock_timeout = '2s';
        SET statement_timeout = '1min';
        ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);

    A statement that needs longer than that should be rewritten the non-blocking way
    (CONCURRENTLY, NOT VALID + VALIDATE, a batched backfill), not given a longer timeout.

    Exempt: tables created earlier in the same migration; statements whose lock blocks no
    reads or writes. Off by default (switch on with `enable = ["L602"]`): many teams set
    statement_timeout per role rather than per migration.

    Versions: PostgreSQL only; MySQL's max_execution_time applies to SELECT only.
    """

    code = "L602"
    shared_reading = "statement-locks"  # statement_lock.locks_of
    name = "missing-statement-timeout"
    severity = Severity.WARNING
    nodes = tuple(pg_node_kinds())
    default_enabled = False
    scales_with_table = True
    summary = "a blocking statement without statement_timeout can block traffic for its whole run"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.statement_timeout:
            return
        locks = blocking_locks(stmt, ctx)
        if not locks:
            return
        first = locks[0]
        yield self.finding(
            stmt,
            f"holds {describe(locks)} with no statement_timeout set: nothing stops it if it runs "
            f"long on a large table, and for all that time it blocks {blocked(first)}",
            table=first.relation if first.kind != INDEX else None,
            lock=first.mode,
            fix=script("SET LOCAL statement_timeout = '1min'" if ctx.in_transaction
                       else "SET statement_timeout = '1min'", stmt.text),
            note="pick the longest you accept the table blocked; reset it after the migration",
        )
