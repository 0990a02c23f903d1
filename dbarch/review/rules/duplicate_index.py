"""R103 duplicate-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext, bare
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register


@register
class DuplicateIndex(ReviewRule):
    """Two indexes with the same definition: one of them only costs.

    Why: every INSERT, UPDATE of a key column and DELETE maintains both, and both take disk and
    cache, while the planner uses only one. The one kept is the one enforcing the most (primary
    key, then unique constraint, then unique index), then the older.

    Instead: drop the copy (PostgreSQL: concurrently, without blocking writes).

        DROP INDEX CONCURRENTLY public.orders_user_id_idx1;
    """

    code = "R103"
    name = "duplicate-index"
    summary = "an index repeats another's definition"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for drop in ctx.drops:
            if drop.reason != "duplicate":
                continue
            yield self.finding(
                bare(drop.index.table),
                f"index {bare(drop.index.name)} duplicates "
                f"{bare(drop.other.name) if drop.other else 'another index'}: {drop.detail}",
                "writes maintain both indexes and both take disk and cache; reads use one",
                fix=ctx.drop_statement(drop),
                note=f"frees {drop.frees_bytes:,} bytes" if drop.frees_bytes else None,
            )
