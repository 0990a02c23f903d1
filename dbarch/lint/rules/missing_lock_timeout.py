"""L601 missing-lock-timeout."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import RETRY_NOTE, script
from dbarch.lint.locks import blocks_text, blocks_traffic
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement
from dbarch.lint.statement_lock import INDEX, LockTaken, locks_of, statement_lock_table


def pg_node_kinds() -> list[str]:
    """The PostgreSQL statement kinds statement_locks.yaml knows a lock for that can block
    traffic: INSERT, UPDATE, DELETE, COMMENT … never do, and are not even dispatched."""
    simple = statement_lock_table()["postgresql"]["statements"]
    blocking = [kind for kind, entry in simple.items()
                if any(blocks_traffic(mode) for key, mode in entry.items() if key != "kind")]
    return [*blocking, "AlterTableStmt", "CreateStmt", "DropStmt", "RenameStmt", "LockStmt"]


def _node_kinds() -> tuple[str, ...]:
    """Every statement kind statement_locks.yaml knows a blocking lock for, in both dialects."""
    data = statement_lock_table()
    return (*pg_node_kinds(), *data["mysql"]["statements"], "Command")


def blocking_locks(stmt: Statement, ctx: Context) -> tuple[LockTaken, ...]:
    """The locks of `stmt` that block application traffic on tables that existed before it."""
    # L601 and L602 ask in turn about the same statement, before the context moves on
    if stmt is _last[0] and ctx is _last[1]:
        return _last[2]  # type: ignore[no-any-return]
    found = []
    for lock in locks_of(stmt):
        if not blocks_traffic(lock.mode):
            continue
        if lock.kind == INDEX:
            if lock.relation.lower().rsplit(".", 1)[-1] in ctx.created_indexes:
                continue
        elif ctx.created_here(lock.relation):
            continue
        found.append(lock)
    _last[:] = [stmt, ctx, tuple(found)]
    return _last[2]  # type: ignore[no-any-return]


_last: list[Any] = [None, None, ()]  # [statement, context, its blocking locks]


def describe(locks: Sequence[LockTaken]) -> str:
    """`SHARE ROW EXCLUSIVE on orders and on users (the referenced table …)`."""
    parts = []
    previous = None
    for number, lock in enumerate(locks):
        where = _where(lock)
        why = f" ({lock.why})" if number and lock.why.startswith("the ") else ""
        mode = "" if lock.mode == previous else f"{lock.mode} "
        parts.append(f"{mode}on {where}{why}")
        previous = lock.mode
    return " and ".join(parts)


def blocked(lock: LockTaken) -> str:
    """What the application cannot do while `lock` waits or is held, naming the table."""
    return blocks_text(lock.mode).replace("the table", _where(lock))


def _where(lock: LockTaken) -> str:
    return f"the table of index {lock.relation}" if lock.kind == INDEX else lock.relation


@register
class MissingLockTimeout(Rule):
    """A statement that takes a lock blocking traffic runs without a lock_timeout.

    Why: a lock request waits in a queue. If any transaction is using the table (a long
    report, an idle-in-transaction session, a slow batch job), the migration's statement
    waits for it, and every query that arrives after it waits behind the migration, even
    ones that would not conflict with the running transaction. A migration that needs
    ACCESS EXCLUSIVE for a millisecond can so block every SELECT on the table for as long as
    the oldest transaction runs. A lock_timeout makes the statement give up instead; retry
    it later.

    Lock: the one the statement takes, from PostgreSQL's lock table
    (dbarch/lint/data/statement_locks.yaml mirrors AlterTableGetLockLevel of PostgreSQL 15):
    ACCESS EXCLUSIVE blocks every read and write, SHARE and SHARE ROW EXCLUSIVE block writes,
    EXCLUSIVE blocks writes and SELECT FOR UPDATE. On MySQL/MariaDB every ALTER, DROP, RENAME,
    TRUNCATE and CREATE INDEX takes an exclusive metadata lock at its start and end, with the
    same queueing.

    Instead: set a short lock_timeout before the statement, and retry the migration when it
    times out (SQLSTATE 55P03):

        SET lock_timeout = '2s';
        ALTER TABLE orders ADD COLUMN note text;

    On MySQL/MariaDB: `SET SESSION lock_wait_timeout = 5;` (the default is a year on MySQL
    and a day on MariaDB); `innodb_lock_wait_timeout` is for row locks and does not help.

    Exempt: tables (and indexes) created earlier in the same migration; statements whose lock
    blocks no reads or writes (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT, SET STATISTICS).
    """

    code = "L601"
    shared_reading = "statement-locks"  # statement_lock.locks_of
    name = "missing-lock-timeout"
    severity = Severity.WARNING
    nodes = _node_kinds()
    dialects = frozenset({"postgresql", "mysql"})
    summary = "a blocking lock taken without lock_timeout queues all traffic behind it"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.lock_timeout:
            return
        locks = blocking_locks(stmt, ctx)
        if not locks:
            return
        first = locks[0]
        if stmt.dialect == POSTGRESQL:
            message = (f"takes {describe(locks)} with no lock_timeout set: if a transaction is "
                       f"still using {_where(first)}, this waits for it, and while it waits it "
                       f"blocks {blocked(first)}")
        else:
            names = " and ".join(_where(lock) for lock in locks)
            message = (f"takes an exclusive metadata lock on {names} with no lock_wait_timeout "
                       f"set: if a transaction still has {_where(first)} open, this waits for "
                       f"it, and every read and write on {_where(first)} queues behind it")
        yield self.finding(
            stmt,
            message,
            table=first.relation if first.kind != INDEX else None,
            lock=first.mode,
            fix=script(_setting(stmt.dialect, ctx), stmt.text),
            note=RETRY_NOTE[stmt.dialect],
        )


def _setting(dialect: str, ctx: Context) -> str:
    if dialect != POSTGRESQL:
        return "SET SESSION lock_wait_timeout = 5"
    # inside a transaction SET LOCAL ends with it instead of outliving the migration
    return "SET LOCAL lock_timeout = '2s'" if ctx.in_transaction else "SET lock_timeout = '2s'"
