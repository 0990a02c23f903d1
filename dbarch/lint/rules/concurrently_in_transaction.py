"""L103 concurrently-in-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context, migration_tools
from dbarch.lint.pg import alter_commands, relation
from dbarch.lint.pg_fix import option_on, outside_transaction, script
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class ConcurrentlyInTransaction(Rule):
    """A CONCURRENTLY operation inside a transaction block fails: the migration stops there.

    Why: CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and
    ALTER TABLE … DETACH PARTITION CONCURRENTLY commit internally between their phases, so
    PostgreSQL refuses them inside a transaction block with
    `ERROR: CREATE INDEX CONCURRENTLY cannot run inside a transaction block`. The block may
    be an explicit BEGIN … COMMIT, or one the migration tool opens around the whole file:
    alembic and Flyway run each migration in a transaction, and golang-migrate sends the file
    as one multi-statement query, which PostgreSQL runs as one implicit transaction.

    Instead: run the statement outside any transaction block: after the COMMIT, in a
    migration of its own, or with the tool's escape hatch (alembic's
    `op.get_context().autocommit_block()`, Flyway's `executeInTransaction=false`, a
    golang-migrate file holding this one statement).

        COMMIT;
        CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);

    Exempt: nothing; the statement fails whatever the table.
    """

    code = "L103"
    name = "concurrently-in-transaction"
    severity = Severity.ERROR
    nodes = ("IndexStmt", "DropStmt", "ReindexStmt", "AlterTableStmt")
    summary = "CONCURRENTLY inside a transaction block fails with an error"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not ctx.in_transaction:
            return
        found = _concurrent_operation(stmt)
        if found is None:
            return
        what, table = found
        if ctx.explicit_transaction:
            block = "this BEGIN … COMMIT block"
        else:
            block = f"the transaction {ctx.tool} wraps each migration in"
        note = None
        if not ctx.explicit_transaction:
            note = f"{ctx.tool}: {migration_tools()[ctx.tool]['about']}"
        yield self.finding(
            stmt,
            f"{what} cannot run inside a transaction block and runs inside {block}: PostgreSQL "
            f"stops the migration with \"{what} cannot run inside a transaction block\"",
            table=table,
            fix=script(outside_transaction(ctx), stmt.text),
            note=note,
        )


def _concurrent_operation(stmt: Statement) -> tuple[str, str | None] | None:
    """What CONCURRENTLY operation the statement is (as PostgreSQL names it), and its table."""
    node = stmt.node
    if stmt.kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY", relation(node.get("relation"))
    if stmt.kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY", None
    if stmt.kind == "ReindexStmt" and option_on(node.get("params"), "concurrently"):
        target = relation(node.get("relation"))
        table = target if node.get("kind") == "REINDEX_OBJECT_TABLE" else None
        return "REINDEX CONCURRENTLY", table
    if stmt.kind == "AlterTableStmt" and "AT_DetachPartition" in alter_table.subtypes(stmt):
        for cmd in alter_commands(stmt):
            definition = cmd.get("def") or {}
            if cmd.get("subtype") == "AT_DetachPartition" and (
                    definition.get("PartitionCmd") or {}).get("concurrent"):
                return "ALTER TABLE ... DETACH CONCURRENTLY", relation(stmt.node.get("relation"))
    return None

