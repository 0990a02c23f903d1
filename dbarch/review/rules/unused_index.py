"""R105 unused-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext, bare
from dbarch.review.facts import INDEX_USAGE
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register


@register
class UnusedIndex(ReviewRule):
    """An index no query has read since the statistics began, on a table that is read.

    Why: every write maintains the index, and it takes disk and cache, yet the planner never
    chose it. Judged only on tables read at least `unused_index.min_table_reads` times
    (review.yaml) since the statistics began, so that a table nobody queries yet does not make
    all its indexes look unused. Indexes that enforce a rule (primary key, unique, exclusion)
    are never reported. Check replicas too: each keeps its own counters, and an index only a
    replica reads looks unused on the primary.

    Instead: drop it (PostgreSQL: concurrently).

        DROP INDEX CONCURRENTLY public.orders_status_idx;

    Needs: a live PostgreSQL (pg_stat_user_indexes.idx_scan). MariaDB keeps index usage only
    with userstat=ON; a DDL file has none.
    """

    code = "R105"
    name = "unused-index"
    requires = frozenset({INDEX_USAGE})
    summary = "an index no query has read"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for drop in ctx.drops:
            if drop.reason != "unused":
                continue
            table = bare(drop.index.table)
            found = ctx.table_facts(table)
            reads = f", while {table} was read {found.reads:,} times" if found and found.reads \
                else ""
            yield self.finding(
                table,
                f"index {bare(drop.index.name)} has had {drop.detail}{reads}",
                "writes maintain an index no plan reads; it takes disk and cache",
                fix=ctx.drop_statement(drop),
                note=(f"frees {drop.frees_bytes:,} bytes; " if drop.frees_bytes else "")
                + "check the replicas' counters before dropping",
            )
