"""L702 mysql-lock-shared-or-exclusive."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import MYSQL_EXCLUSIVE, MYSQL_SHARED
from dbarch.lint.mysql_shapes import Shapes, modifications
from dbarch.lint.online_ddl import (
    Operation,
    copy_tools_fix,
    operations,
    statement_table,
    weakest,
    with_clause,
    written_algorithm,
    written_lock,
)
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class MysqlLockSharedOrExclusive(Rule):
    """The ALTER holds LOCK=SHARED or LOCK=EXCLUSIVE: writes, or all queries, wait until it ends.

    Why: the LOCK clause says how much concurrency an online ALTER allows while it runs.
    LOCK=SHARED lets reads through but makes every INSERT, UPDATE and DELETE wait for the whole
    operation (an index build on a large table: minutes to hours); LOCK=EXCLUSIVE makes reads
    wait too. Most operations run with LOCK=NONE, so a stronger lock written into a migration
    is usually a copy-paste from an old runbook. Some operations cannot run with LOCK=NONE
    whatever is written: ADD FULLTEXT INDEX, ADD SPATIAL INDEX and adding an AUTO_INCREMENT
    column take LOCK=SHARED on their own; they are flagged as warnings.

    Lock: LOCK=SHARED blocks INSERT, UPDATE and DELETE on the table; LOCK=EXCLUSIVE blocks
    every read and write; both for the whole operation.

    Instead: let reads and writes go on; the server refuses (ERROR 1846) rather than takes a
    stronger lock if the operation cannot run that way:

        ALTER TABLE orders ADD INDEX orders_user_idx (user_id), ALGORITHM=INPLACE, LOCK=NONE;
        CREATE INDEX orders_user_idx ON orders (user_id) ALGORITHM=INPLACE LOCK=NONE;

    Operations that INSTANT covers take no LOCK clause (MySQL 8.0 refuses one: ERROR 1221).
    For a FULLTEXT or SPATIAL index on a busy table, build it with pt-online-schema-change or
    gh-ost, which fill a shadow table while writes continue.

    Exempt: a table created earlier in the same migration. Statements that copy the table
    (ALGORITHM=COPY, or operations only a copy can do) are L701's, and column type changes
    L703–L705's: the copy is the problem there, the lock follows from it.
    """

    code = "L702"
    name = "mysql-lock-shared-or-exclusive"
    severity = Severity.ERROR
    nodes = ("Alter", "Command", "Create", "Drop")
    dialects = frozenset({"mysql"})
    scales_with_table = True
    summary = "ALTER with LOCK=SHARED/EXCLUSIVE blocks writes (or reads) while it runs"

    def __init__(self) -> None:
        self.shapes = Shapes()

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        findings = list(self._judge(stmt, ctx))
        self.shapes.observe(stmt)
        yield from findings

    def _judge(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if stmt.kind == "Drop" or (stmt.kind == "Create" and
                                   (stmt.node.args.get("kind") or "").upper() != "INDEX"):
            return
        table = statement_table(stmt)
        if table is None or ctx.created_here(table) or written_algorithm(stmt) == "COPY":
            return
        mods = modifications(stmt, self.shapes, table)
        known = [Operation(m.operation) for m in mods if m.operation]
        ops = operations(stmt) + known
        if any(op.copies() for op in ops):
            return  # a copy: L701 or L703–L705 report it
        algorithm = weakest([op.algorithm for op in ops]) if ops else "INPLACE"
        if len(known) < len(mods):
            algorithm = weakest([algorithm, "INPLACE"])
        needs_shared = [op for op in ops if op.lock == "SHARED"]
        written = written_lock(stmt)
        labels = ", ".join([*dict.fromkeys(op.label for op in ops),
                            *(f"MODIFY {m.name} (if it keeps its type)" for m in mods
                              if m.operation is None)]) or "this ALTER"
        if written == "EXCLUSIVE":
            lock = "SHARED" if needs_shared else "NONE"
            yield self.finding(
                stmt,
                f"LOCK=EXCLUSIVE blocks every read and write on {table} until the ALTER ends, "
                f"though {labels} runs with LOCK={lock}",
                table=table, lock=MYSQL_EXCLUSIVE, fix=with_clause(stmt, algorithm, lock),
            )
        elif written == "SHARED" and not needs_shared:
            yield self.finding(
                stmt,
                f"LOCK=SHARED blocks writes to {table} until the ALTER ends, though {labels} "
                "runs with LOCK=NONE",
                table=table, lock=MYSQL_SHARED, fix=with_clause(stmt, algorithm, "NONE"),
            )
        elif needs_shared and written in (None, "DEFAULT", "SHARED"):
            shared = ", ".join(dict.fromkeys(op.label for op in needs_shared))
            yield self.finding(
                stmt,
                f"{shared} cannot run with LOCK=NONE: writes to {table} wait until it ends",
                table=table, lock=MYSQL_SHARED, severity=Severity.WARNING,
                fix="-- no LOCK clause lets writes through; build it online:\n"
                    + copy_tools_fix(stmt, table),
            )
