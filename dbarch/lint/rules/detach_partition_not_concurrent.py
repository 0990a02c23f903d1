"""L107 detach-partition-not-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import alter_commands, relation
from dbarch.lint.pg_fix import outside_transaction, script
from dbarch.lint.pg_names import quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class DetachPartitionNotConcurrent(Rule):
    """DETACH PARTITION without CONCURRENTLY locks the whole partitioned table (PostgreSQL 14+).

    Why: a plain DETACH PARTITION takes ACCESS EXCLUSIVE on the parent table. It must wait
    for every running query on any partition, and every new query on the parent queues
    behind it: a long report on one old partition stalls the writes to today's partition.

    Lock: ACCESS EXCLUSIVE on the partitioned table (blocks every read and write).

    Instead: detach concurrently, outside a transaction block. It takes SHARE UPDATE
    EXCLUSIVE on the parent (reads and writes continue), waits in two transactions for
    queries that may still see the partition, and can be finished with FINALIZE if it is
    interrupted.

        ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;
        -- if it was cancelled half-way:
        ALTER TABLE events DETACH PARTITION events_2023 FINALIZE;

    Exempt: a partitioned table created earlier in the same migration.

    Versions: DETACH PARTITION CONCURRENTLY exists since PostgreSQL 14; on older versions
    the rule is silent (there is nothing better to suggest). It is refused when the parent has
    a DEFAULT partition ("cannot detach partitions concurrently when a default partition
    exists").
    """

    code = "L107"
    name = "detach-partition-not-concurrent"
    severity = Severity.WARNING
    nodes = ("AlterTableStmt",)
    summary = "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent (PG14+)"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.pg_version < 14 or "AT_DetachPartition" not in alter_table.subtypes(stmt):
            return
        table = relation(stmt.node.get("relation"))
        if ctx.created_here(table):
            return
        for cmd in alter_commands(stmt):
            partition_cmd = (cmd.get("def") or {}).get("PartitionCmd") or {}
            if cmd.get("subtype") != "AT_DetachPartition" or partition_cmd.get("concurrent"):
                continue
            partition = relation(partition_cmd.get("name")) or "the partition"
            parent = quote_qualified(table or "")
            child = quote_qualified(partition)
            yield self.finding(
                stmt,
                f"DETACH PARTITION {partition} without CONCURRENTLY takes ACCESS EXCLUSIVE on "
                f"{table}: it waits for every query on any partition and blocks all new ones",
                table=table,
                lock=ACCESS_EXCLUSIVE,
                fix=script(
                    outside_transaction(ctx),
                    f"ALTER TABLE {parent} DETACH PARTITION {child} CONCURRENTLY;",
                    "-- if it is cancelled or fails half-way, finish it with:",
                    f"-- ALTER TABLE {parent} DETACH PARTITION {child} FINALIZE;",
                ),
            )
