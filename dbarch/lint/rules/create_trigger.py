"""L503 create-trigger."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import SHARE_ROW_EXCLUSIVE
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class CreateTrigger(Rule):
    """CREATE TRIGGER on a busy table blocks its writes while it waits for the lock.

    Why: CREATE TRIGGER takes SHARE ROW EXCLUSIVE on the table. Taking it is quick, but it must
    wait for every transaction that touched the table to finish, and while it waits every new
    INSERT, UPDATE and DELETE queues behind it: one long-running report or idle-in-transaction
    session turns a millisecond DDL into a write outage. The lock is then held until the
    migration's transaction commits. Once in place, the trigger function runs for every row
    written, inside the application's transactions.

    Lock: SHARE ROW EXCLUSIVE on the table (blocks INSERT, UPDATE and DELETE; reads continue)
    from the moment it is requested until commit.

    Instead: set lock_timeout first, so a blocked CREATE TRIGGER gives up (and is retried)
    instead of stalling writes, and keep the transaction short:

        SET lock_timeout = '2s';
        CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON orders
            FOR EACH ROW EXECUTE FUNCTION audit_row();

    Exempt: a table created earlier in the same migration; a statement after lock_timeout is
    set in the same migration.
    """

    code = "L503"
    name = "create-trigger"
    severity = Severity.WARNING
    nodes = ("CreateTrigStmt",)
    summary = "CREATE TRIGGER takes SHARE ROW EXCLUSIVE: set lock_timeout first"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = relation(stmt.node.get("relation"))
        if table is None or ctx.created_here(table) or ctx.lock_timeout:
            return
        trigger = stmt.node.get("trigname") or "the trigger"
        yield self.finding(
            stmt,
            f"CREATE TRIGGER {trigger} waits for SHARE ROW EXCLUSIVE on {table} without "
            f"lock_timeout: while it waits, every write to {table} queues behind it",
            table=table, lock=SHARE_ROW_EXCLUSIVE,
            fix=f"SET lock_timeout = '2s';\n{stmt.text.rstrip(';')};\n"
                "-- on a lock timeout, retry later instead of waiting",
        )
