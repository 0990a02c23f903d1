"""R104 redundant-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext, bare
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register


@register
class RedundantIndex(ReviewRule):
    """An index whose keys lead a longer index on the same table: the longer one serves it.

    Why: a B-tree on (a, b) answers every lookup on a alone, in the same order; the index on
    (a) adds write cost and disk for nothing. A unique index is never called redundant (the
    longer index does not enforce its uniqueness).

    Instead: drop the shorter index.

        -- orders_user_id_idx (user_id) leads orders_user_id_created_at_idx (user_id, created_at)
        DROP INDEX CONCURRENTLY public.orders_user_id_idx;
    """

    code = "R104"
    name = "redundant-index"
    summary = "an index's keys lead a longer index"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for drop in ctx.drops:
            if drop.reason != "redundant":
                continue
            yield self.finding(
                bare(drop.index.table),
                f"index {bare(drop.index.name)} is redundant: {drop.detail}",
                "the longer index serves the same lookups; this one only adds write cost and "
                "disk",
                fix=ctx.drop_statement(drop),
                note=f"frees {drop.frees_bytes:,} bytes" if drop.frees_bytes else None,
            )
