"""R112 sparse-wide-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.facts import COLUMN_STATS
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import Column, Table


@register
class SparseWideTable(ReviewRule):
    """A wide table where many columns are almost always NULL: a candidate for the attribute
    pattern.

    Why: columns that apply to a few rows each (the attributes of one product category, the
    options of one plan) make the table wide, every new kind of row adds columns (a schema
    change), and each query must know which columns mean something for which rows. Reported on
    tables of at least `sparse_columns.min_columns` columns with at least `.min_sparse`
    columns NULL in `.null_frac` of the rows (review.yaml).

    Instead: keep the common columns; move the sparse ones into one document column (jsonb,
    indexable with GIN) or, when they are filtered on by value, a child table of
    (key, name, value) rows.

        ALTER TABLE products ADD COLUMN attributes jsonb;
        UPDATE products SET attributes =
            jsonb_strip_nulls(jsonb_build_object('voltage', voltage, 'isbn', isbn));

    Needs: a live database with column statistics.
    """

    code = "R112"
    name = "sparse-wide-table"
    severity = Severity.INFO
    requires = frozenset({COLUMN_STATS})
    summary = "a wide table with many mostly-NULL columns"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        rule = ctx.data["sparse_columns"]
        for table in ctx.schema.tables:
            if len(table.columns) < int(rule["min_columns"]):
                continue
            sparse = []
            for column in table.columns:
                found = ctx.stats(table.name, column.name)
                if found and found[0].null_frac is not None \
                        and found[0].null_frac >= float(rule["null_frac"]):
                    sparse.append(column)
            if len(sparse) < int(rule["min_sparse"]):
                continue
            yield self.finding(
                table.name,
                f"{table.name} has {len(table.columns)} columns, {len(sparse)} of them NULL in "
                f"at least {float(rule['null_frac']):.0%} of the rows: "
                + ", ".join(c.name for c in sparse),
                "each kind of row uses a few of the columns; every new kind adds columns and a "
                "schema change",
                fix=_fix(ctx, table, sparse),
                note="move the sparse columns into one document column (the attribute "
                     "pattern), or a (key, name, value) child table when queries filter on "
                     "them; drop them once the application reads the new place",
            )


def _fix(ctx: ReviewContext, table: Table, sparse: list[Column]) -> str | None:
    t = ctx.q(table.name)
    if ctx.dialect == "postgresql":
        pairs = ", ".join(f"'{c.name}', {ctx.q(c.name)}" for c in sparse)
        return (f"ALTER TABLE {t} ADD COLUMN attributes jsonb;\n"
                f"UPDATE {t} SET attributes = jsonb_strip_nulls(jsonb_build_object({pairs}));")
    if ctx.dialect == "mysql":
        pairs = ", ".join(f"'{c.name}', {ctx.q(c.name)}" for c in sparse)
        return (f"ALTER TABLE {t} ADD COLUMN attributes JSON;\n"
                f"UPDATE {t} SET attributes = JSON_OBJECT({pairs});")
    return None
