"""L101 index-not-concurrent."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import SHARE
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class IndexNotConcurrent(Rule):
    """Creating an index without CONCURRENTLY blocks every write to the table while it builds.

    Why: `CREATE INDEX` holds a SHARE lock on the table for the whole build, which reads every
    row and sorts it: minutes to hours on a large table. Reads go on; every INSERT, UPDATE and
    DELETE waits, and so does everything queued behind them.

    Lock: SHARE on the table (blocks INSERT, UPDATE, DELETE; SELECT continues).

    Instead: build it concurrently, outside a transaction block (it takes SHARE UPDATE
    EXCLUSIVE, which blocks no reads or writes); if it fails it leaves an INVALID index to drop
    and retry.

        CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_idx ON orders (user_id);

    Exempt: a table created earlier in the same migration (nobody uses it yet).
    """

    code = "L101"
    name = "index-not-concurrent"
    severity = Severity.ERROR
    nodes = ("IndexStmt",)
    scales_with_table = True
    summary = "CREATE INDEX without CONCURRENTLY blocks writes for the whole build"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        table = relation(node.get("relation"))
        if node.get("concurrent") or ctx.created_here(table):
            return
        name = node.get("idxname") or "the index"
        yield self.finding(
            stmt,
            f"CREATE INDEX {name} on {table} without CONCURRENTLY blocks writes to {table} "
            "until the build finishes",
            table=table,
            lock=SHARE,
            fix=_concurrent(stmt.text),
        )


def _concurrent(text: str) -> str:
    """The statement rewritten with CONCURRENTLY after CREATE [UNIQUE] INDEX."""
    import re

    return re.sub(r"(?i)^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX)\b", r"\1 CONCURRENTLY", text, count=1)
