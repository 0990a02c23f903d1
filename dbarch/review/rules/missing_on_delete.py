"""R114 missing-on-delete."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext, singular
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.schema.model import ForeignKey, OnDelete, Table


@register
class MissingOnDelete(ReviewRule):
    """An ownership relation (order_items → orders) left at the default ON DELETE.

    Why: a child that lives and dies with its parent (an order's items, a document's versions)
    should say what happens when the parent goes. Left at the default (NO ACTION; on MySQL
    RESTRICT, which is also what an explicit RESTRICT reads back as), deleting the parent
    fails while children exist, and every caller must delete the children first, in the right
    order, inside the same transaction, or leave orphans when it forgets. A child is read as
    owned when its table name starts with the parent's singular name (order_items, order_lines)
    or ends with a part word of `ownership_parts` (review.yaml) and the key is named after the
    parent.

    Instead: choose. CASCADE when the children are part of the parent (the usual case for an
    owned child); RESTRICT, written out, when deleting a parent that has children must fail
    (PostgreSQL keeps an explicit RESTRICT apart from the default, and this rule accepts it);
    SET NULL only for an optional reference, which ownership is not.

        ALTER TABLE order_items DROP CONSTRAINT order_items_order_id_fkey,
            ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id)
            REFERENCES orders (id) ON DELETE CASCADE NOT VALID;
        ALTER TABLE order_items VALIDATE CONSTRAINT order_items_order_id_fkey;
    """

    code = "R114"
    name = "missing-on-delete"
    summary = "an owned child's foreign key keeps the default ON DELETE"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        parts = {p.lower() for p in ctx.data["ownership_parts"]}
        # PostgreSQL and SQLite tell an explicit RESTRICT from the default; MySQL does not.
        defaults = {OnDelete.no_action} if ctx.dialect != "mysql" \
            else {OnDelete.no_action, OnDelete.restrict}
        for table in ctx.schema.tables:
            for fk in table.foreign_keys:
                if fk.on_delete not in defaults or fk.ref_table == table.name:
                    continue
                if not _owned(ctx, table, fk, parts):
                    continue
                yield self.finding(
                    table.name,
                    f"{table.name} looks owned by {fk.ref_table}, but its foreign key "
                    f"{fk.name} ({', '.join(fk.columns)}) keeps the default ON DELETE "
                    f"{fk.on_delete.value}",
                    f"deleting a row of {fk.ref_table} fails while rows of {table.name} "
                    "reference it: every caller must delete the children first",
                    column=fk.columns[0] if len(fk.columns) == 1 else None,
                    fix=_fix(ctx, table, fk),
                    note="choose: CASCADE when the children are part of the parent (usual for "
                         "owned rows); RESTRICT, written out, when such a delete must fail",
                )




def _owned(ctx: ReviewContext, table: Table, fk: ForeignKey, parts: set[str]) -> bool:
    owner = singular(fk.ref_table).lower()
    child = table.name.lower()
    if child.startswith(owner + "_") and child != owner:
        return True
    words = ctx.words(table.name)
    named_after = any(c.lower().startswith(owner) for c in fk.columns)
    return bool(words) and words[-1] in parts and named_after


def _fix(ctx: ReviewContext, table: Table, fk: ForeignKey) -> str | None:
    t, name = ctx.q(table.name), ctx.q(fk.name)
    references = (f"FOREIGN KEY ({ctx.columns_sql(fk.columns)}) REFERENCES "
                  f"{ctx.q(fk.ref_table)} ({ctx.columns_sql(fk.ref_columns)}) ON DELETE CASCADE")
    if ctx.dialect == "postgresql":
        return (f"ALTER TABLE {t} DROP CONSTRAINT {name},\n"
                f"    ADD CONSTRAINT {name} {references} NOT VALID;\n"
                f"ALTER TABLE {t} VALIDATE CONSTRAINT {name};")
    if ctx.dialect == "mysql":
        return (f"ALTER TABLE {t} DROP FOREIGN KEY {name};\n"
                f"ALTER TABLE {t} ADD CONSTRAINT {name} {references};")
    return None  # SQLite cannot alter a foreign key: the table is rebuilt
