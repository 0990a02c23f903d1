"""L104 reindex-blocking."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import relation
from dbarch.lint.pg_fix import option_on, outside_transaction, script
from dbarch.lint.pg_names import object_name, quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.drop_index_not_concurrent import index_table
from dbarch.lint.statement import Statement

_TARGETS = {
    "REINDEX_OBJECT_INDEX": "INDEX",
    "REINDEX_OBJECT_TABLE": "TABLE",
    "REINDEX_OBJECT_SCHEMA": "SCHEMA",
    "REINDEX_OBJECT_DATABASE": "DATABASE",
    "REINDEX_OBJECT_SYSTEM": "SYSTEM",
}


@register
class ReindexBlocking(Rule):
    """REINDEX without CONCURRENTLY blocks writes to the table and every query that plans on it.

    Why: a plain REINDEX rebuilds each index from scratch, reading the whole table. For the
    whole rebuild it holds SHARE on the table, so INSERT, UPDATE and DELETE wait, and ACCESS
    EXCLUSIVE on the index being rebuilt. The planner opens every index of a table to plan a
    query on it, so SELECTs that need planning wait too: in practice the table stops.

    Lock: SHARE on the table and ACCESS EXCLUSIVE on each index being rebuilt (blocks writes,
    and reads that are planned while it runs).

    Instead: on PostgreSQL 12 and later, rebuild concurrently, outside a transaction block
    (SHARE UPDATE EXCLUSIVE: reads and writes continue):

        REINDEX INDEX CONCURRENTLY orders_user_id_idx;

    Before 12, build a replacement beside it and swap (the definition comes from
    `SELECT pg_get_indexdef('orders_user_id_idx'::regclass)`):

        CREATE INDEX CONCURRENTLY orders_user_id_idx_new ON orders (user_id);
        DROP INDEX CONCURRENTLY orders_user_id_idx;
        ALTER INDEX orders_user_id_idx_new RENAME TO orders_user_id_idx;

    Exempt: a table or index created earlier in the same migration.

    Versions: REINDEX CONCURRENTLY exists since PostgreSQL 12; it cannot rebuild system
    catalogs (REINDEX SYSTEM has no concurrent form). Before 12, an index that backs a
    PRIMARY KEY or UNIQUE constraint cannot be dropped this way; swap it with ALTER TABLE …
    ADD CONSTRAINT … USING INDEX instead.
    """

    code = "L104"
    name = "reindex-blocking"
    severity = Severity.ERROR
    nodes = ("ReindexStmt",)
    scales_with_table = True
    summary = "REINDEX without CONCURRENTLY blocks writes, and reads that plan on the table"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        if option_on(node.get("params"), "concurrently"):
            return
        target = _TARGETS.get(node.get("kind", ""), "INDEX")
        name = relation(node.get("relation")) or node.get("name") or ""
        bare = name.rsplit(".", 1)[-1].lower()
        if target == "INDEX" and bare in ctx.created_indexes:
            return
        if target == "TABLE" and ctx.created_here(name):
            return
        table = name if target == "TABLE" else index_table(ctx, name) if target == "INDEX" else None
        what = f"REINDEX {target} {name}".rstrip()
        scope = f"table {table}" if table else (
            "the index's table" if target == "INDEX" else "every table it reaches")
        index = name if target == "INDEX" else "each index"
        yield self.finding(
            stmt,
            f"{what} holds SHARE on {scope} and ACCESS EXCLUSIVE on {index} while it "
            "rebuilds: writes wait, and so does every query the planner has to plan on it",
            table=table,
            lock=ACCESS_EXCLUSIVE,
            fix=_fix(target, name, table, ctx),
        )


def _fix(target: str, name: str, table: str | None, ctx: Context) -> str | None:
    """REINDEX … CONCURRENTLY on 12+, the build-beside-and-swap recipe before."""
    where = outside_transaction(ctx)
    quoted = quote_qualified(name) if name else ""
    if target == "SYSTEM":
        return None  # system catalogs have no concurrent rebuild
    if ctx.pg_version >= 12:
        return script(where, f"REINDEX {target} CONCURRENTLY {quoted}".rstrip() + ";")
    if target != "INDEX":
        return script(
            f"-- PostgreSQL {ctx.pg_version} has no REINDEX CONCURRENTLY: for each index of "
            f"{name or 'the database'} (SELECT indexrelid::regclass FROM pg_index …), build a "
            "copy with CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY the old one and "
            "rename the copy")
    schema, _, bare = name.rpartition(".")
    new = object_name(bare, None, "new")
    qualified_new = f"{quote_name(schema)}.{quote_name(new)}" if schema else quote_name(new)
    on = quote_qualified(table) if table else "<its table>"
    return script(
        f"-- PostgreSQL {ctx.pg_version} has no REINDEX CONCURRENTLY: build a copy, then swap.",
        f"-- Copy the columns and options from: SELECT pg_get_indexdef('{name}'::regclass);",
        where,
        f"CREATE INDEX CONCURRENTLY {quote_name(new)} ON {on} (<columns of {bare}>);",
        f"DROP INDEX CONCURRENTLY {quoted};",
        f"ALTER INDEX {qualified_new} RENAME TO {quote_name(bare)};",
    )
