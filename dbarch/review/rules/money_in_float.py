"""R108 money-in-float."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.schema.model import TypeKind


@register
class MoneyInFloat(ReviewRule):
    """An amount of money in a floating-point column (real, double precision, float).

    Why: binary floating point cannot hold most decimal fractions: 0.1 + 0.2 is
    0.30000000000000004, sums drift by cents over many rows, and equality tests on amounts
    fail. Column names are matched against `money_words` in review.yaml (price, amount, total,
    cost, ...).

    Instead: an exact decimal with the currency's scale (or an integer count of the smallest
    unit, cents).

        ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);
    """

    code = "R108"
    name = "money-in-float"
    summary = "a money column is floating point"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        money = set(ctx.data["money_words"])
        for table in ctx.schema.tables:
            for column in table.columns:
                if column.type.kind != TypeKind.float or not money & set(ctx.words(column.name)):
                    continue
                native = "numeric(12,2)" if ctx.dialect == "postgresql" else "DECIMAL(12,2)"
                yield self.finding(
                    table.name,
                    f"{table.name}.{column.name} holds money in "
                    f"{column.type.native or 'floating point'}",
                    "floating point cannot hold most decimal fractions: sums drift and equal "
                    "amounts compare unequal",
                    column=column.name,
                    fix=ctx.alter_column(table, column, native=native),
                    note="choose the scale of the currency (2 for most, 0 for JPY, 3 for BHD); "
                         "the change rewrites the table",
                )
