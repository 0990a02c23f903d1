"""L102 drop-index-not-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import strings, unwrap
from dbarch.lint.pg_fix import outside_transaction, script
from dbarch.lint.pg_names import quote_name
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class DropIndexNotConcurrent(Rule):
    """Dropping an index without CONCURRENTLY queues every query on its table behind the drop.

    Why: `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table. The drop itself is
    quick, but the lock must wait for every transaction already using the table, and while it
    waits every new query on the table, SELECT included, waits behind it: one long report
    query turns a millisecond drop into an outage.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write).

    Instead: drop it concurrently, outside a transaction block, one index per statement
    (CONCURRENTLY accepts a single index and no CASCADE). It waits for running transactions
    without blocking new ones (SHARE UPDATE EXCLUSIVE).

        DROP INDEX CONCURRENTLY IF EXISTS orders_user_id_idx;

    Exempt: an index created earlier in the same migration.

    Versions: CONCURRENTLY cannot drop the index of a partitioned table (drop each
    partition's index concurrently, then the parent's index, which is then quick).
    """

    code = "L102"
    name = "drop-index-not-concurrent"
    severity = Severity.WARNING
    nodes = ("DropStmt",)
    summary = "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the table"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
            return
        names = [_qualified(item) for item in node.get("objects") or []]
        names = [n for n in names if n and n.rsplit(".", 1)[-1].lower() not in ctx.created_indexes]
        if not names:
            return
        table = index_table(ctx, names[0]) if len(names) == 1 else None
        where = f"its table {table}" if table else "the table each index belongs to"
        lines = [outside_transaction(ctx)]
        if node.get("behavior") == "DROP_CASCADE":
            lines.append("-- CONCURRENTLY does not accept CASCADE: drop the objects that depend "
                         "on the index first")
        lines += [f"DROP INDEX CONCURRENTLY IF EXISTS {n};" for n in names]
        yield self.finding(
            stmt,
            f"DROP INDEX {', '.join(names)} without CONCURRENTLY takes ACCESS EXCLUSIVE on "
            f"{where}: it waits for running queries and blocks every new one behind it",
            table=table,
            lock=ACCESS_EXCLUSIVE,
            fix=script(*lines),
        )


def _qualified(item: dict) -> str | None:
    kind, body = unwrap(item)
    if kind != "List":
        return None
    names = strings(body.get("items"))
    return ".".join(quote_name(n) for n in names) if names else None


def index_table(ctx: Context, index: str) -> str | None:
    """The table an index belongs to, when the live catalog (`--db`) lists it."""
    if ctx.catalog is None:
        return None
    bare = index.rsplit(".", 1)[-1].strip('"').lower()
    for key, stats in ctx.catalog.tables.items():
        if bare in (i.lower() for i in stats.indexes):
            return stats.name or key
    return None
