"""R102 fk-without-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register


@register
class ForeignKeyWithoutIndex(ReviewRule):
    """A foreign key whose columns lead no index of the referencing table.

    Why: deleting a parent row, or changing its key, makes the database look for referencing
    rows; without an index that lookup scans the whole child table, once per parent row, while
    holding locks. Joins from a parent to its children (an order's items) scan too.

    Instead: an index whose leading columns are the foreign key's, built without blocking
    writes.

        CREATE INDEX CONCURRENTLY order_items_order_id_idx ON order_items (order_id);

    Exempt: MySQL/MariaDB, where InnoDB creates such an index for every foreign key itself.
    """

    code = "R102"
    name = "fk-without-index"
    dialects = frozenset({"postgresql", "sqlite"})
    not_applicable = "InnoDB indexes every foreign key itself"
    summary = "a foreign key's columns lead no index"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for table in ctx.schema.tables:
            keys = ctx.key_column_lists(table)
            for fk in table.foreign_keys:
                wanted = set(fk.columns)
                if any(set(k[: len(wanted)]) == wanted for k in keys):
                    continue
                name = f"{table.name}_{'_'.join(fk.columns)}_idx"
                concurrently = "CONCURRENTLY " if ctx.dialect == "postgresql" else ""
                yield self.finding(
                    table.name,
                    f"foreign key {fk.name} ({', '.join(fk.columns)}) → {fk.ref_table} has no "
                    "index on its columns",
                    f"every DELETE on {fk.ref_table} (and every join from it) scans "
                    f"{table.name} for referencing rows",
                    column=fk.columns[0] if len(fk.columns) == 1 else None,
                    fix=f"CREATE INDEX {concurrently}{ctx.q(name)} ON {ctx.q(table.name)} "
                        f"({ctx.columns_sql(fk.columns)});",
                )
