"""L106 cluster."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import relation
from dbarch.lint.pg_fix import script
from dbarch.lint.pg_names import quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class Cluster(Rule):
    """CLUSTER rewrites the table in index order under ACCESS EXCLUSIVE: the table is offline.

    Why: CLUSTER copies the whole table into a new file sorted by an index and rebuilds every
    index, holding ACCESS EXCLUSIVE on the table from start to end; it needs free disk for the
    copy and its sort. Every query on the table, SELECT included, waits. Without a table name
    it re-clusters every table that was clustered before.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write).

    Instead: record the clustering index (a catalog change, SHARE UPDATE EXCLUSIVE, no
    rewrite), then rewrite the table online with pg_repack outside the migration; pg_repack
    orders rows by the table's clustering index and holds ACCESS EXCLUSIVE only for moments
    at the start and for the swap at the end.

        ALTER TABLE orders CLUSTER ON orders_created_at_idx;
        -- outside the migration: pg_repack --table=orders

    Exempt: a table created earlier in the same migration.
    """

    code = "L106"
    name = "cluster"
    severity = Severity.ERROR
    nodes = ("ClusterStmt",)
    scales_with_table = True
    summary = "CLUSTER rewrites the table under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        table = relation(node.get("relation"))
        if table is None:
            yield self.finding(
                stmt,
                "CLUSTER without a table rewrites every table clustered before, each under "
                "ACCESS EXCLUSIVE for its whole copy and sort",
                lock=ACCESS_EXCLUSIVE,
                fix=script("-- outside the migration, online: pg_repack --all "
                           "(orders each table by its clustering index)"),
            )
            return
        if ctx.created_here(table):
            return
        index = node.get("indexname")
        quoted = quote_qualified(table)
        lines = []
        if index:
            lines.append(f"ALTER TABLE {quoted} CLUSTER ON {quote_name(index)};")
        lines.append(f"-- outside the migration, online (orders rows by the clustering index): "
                     f"pg_repack --table={table}")
        yield self.finding(
            stmt,
            f"CLUSTER {table} rewrites the table and its indexes in index order under ACCESS "
            f"EXCLUSIVE: every read and write on {table} waits until the copy finishes",
            table=table,
            lock=ACCESS_EXCLUSIVE,
            fix=script(*lines),
        )
