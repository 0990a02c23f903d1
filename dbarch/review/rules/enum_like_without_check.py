"""R115 enum-like-without-check."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.facts import COLUMN_STATS
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.schema.model import Table, TypeKind


@register
class EnumLikeWithoutCheck(ReviewRule):
    """A text column with a handful of distinct values and no CHECK or enum type: a status or
    kind that accepts any string.

    Why: a column such as status ('pending', 'paid', 'shipped') is an enumeration. Without a
    CHECK (or an enum type), one misspelled write ('shiped') is stored for good and every
    reader's CASE quietly misses it. Judged from the column statistics (at most
    `enum_like.max_distinct` distinct values, and at most `.max_share` of the rows, on a table
    of at least `min_rows_for_stats` rows; review.yaml), so the values listed are the ones seen.

    Instead: a CHECK over the values in use, added without a long lock, then validated.

        ALTER TABLE orders ADD CONSTRAINT orders_status_check
            CHECK (status IN ('paid', 'pending', 'shipped')) NOT VALID;
        ALTER TABLE orders VALIDATE CONSTRAINT orders_status_check;

    Needs: a live database with column statistics.
    """

    code = "R115"
    name = "enum-like-without-check"
    requires = frozenset({COLUMN_STATS})
    summary = "a low-cardinality text column has no CHECK"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        rule = ctx.data["enum_like"]
        for table in ctx.schema.tables:
            keyed = set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
            keyed |= {u.columns[0] for u in table.uniques if len(u.columns) == 1}
            for column in table.columns:
                if column.type.kind not in (TypeKind.string, TypeKind.text) \
                        or column.name in keyed or _checked(table, column.name):
                    continue
                found = ctx.stats(table.name, column.name)
                if found is None or not found[0].n_distinct:
                    continue
                stats, facts = found
                distinct = round(stats.n_distinct or 0)
                if not 1 <= distinct <= int(rule["max_distinct"]) \
                        or distinct > float(rule["max_share"]) * max(facts.stats_rows, 1):
                    continue
                values = sorted(stats.common_values)
                complete = len(values) >= distinct
                shown = ", ".join(f"'{v}'" for v in values) or "unknown"
                yield self.finding(
                    table.name,
                    f"{table.name}.{column.name} holds {distinct} distinct values ({shown}) "
                    "with no CHECK or enum type",
                    "any string is accepted: one misspelled write is stored for good and "
                    "readers' CASEs miss it",
                    column=column.name,
                    fix=_fix(ctx, table, column.name, values) if complete and values else None,
                    note=None if complete else "the statistics list only some of the values: "
                    "complete the list with SELECT DISTINCT before adding the CHECK",
                )


def _checked(table: Table, column: str) -> bool:
    word = re.compile(rf"\b{re.escape(column)}\b", re.IGNORECASE)
    return any(ck.column == column or (ck.values is not None and ck.column == column)
               or word.search(ck.expression or "") for ck in table.checks)


def _fix(ctx: ReviewContext, table: Table, column: str, values: list[str]) -> str | None:
    t, c = ctx.q(table.name), ctx.q(column)
    name = ctx.q(f"{table.name}_{column}_check")
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    if ctx.dialect == "postgresql":
        return (f"ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({c} IN ({listed})) NOT VALID;\n"
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {name};")
    if ctx.dialect == "mysql":
        return f"ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({c} IN ({listed}));"
    return None  # SQLite cannot add a CHECK to an existing table
