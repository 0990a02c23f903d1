"""R106 int-key-near-limit."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.facts import SEQUENCES, SequenceFacts
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import Column, Table


@register
class IntKeyNearLimit(ReviewRule):
    """A generated integer key has used a large share of its type's range.

    Why: when the sequence (or AUTO_INCREMENT) passes the column type's largest value, every
    INSERT fails: the application is down until the column is widened, and widening int to
    bigint rewrites the table and every index on it, with every foreign key that references
    it. Reported from `int_key_near_limit.warn` of the range (error from `.error`, review.yaml),
    early enough to widen it online.

    Instead: widen the key (and the columns that reference it) to bigint; on a large table,
    through a new column backfilled in batches (`dbarch migrate plan --fill`).

        ALTER SEQUENCE orders_id_seq AS bigint;
        ALTER TABLE orders ALTER COLUMN id TYPE bigint;

    Needs: a live database (the sequence's last value, AUTO_INCREMENT).
    """

    code = "R106"
    name = "int-key-near-limit"
    requires = frozenset({SEQUENCES})
    summary = "a generated key has used much of its integer range"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        assert ctx.facts is not None
        tables = {t.name: t for t in ctx.schema.tables}
        levels = ctx.data["int_key_near_limit"]
        for seq in ctx.facts.sequences:
            table = tables.get(seq.table)
            if table is None or not any(c.name == seq.column for c in table.columns):
                continue
            column = table.column(seq.column)
            limit = ctx.int_limit(column)
            if not limit or seq.last_value <= 0:
                continue
            share = seq.last_value / limit
            if share < float(levels["warn"]):
                continue
            severity = Severity.ERROR if share >= float(levels["error"]) else Severity.WARNING
            referencing = [f"{t.name}.{fk.columns[0]}" for t in ctx.schema.tables
                           for fk in t.foreign_keys
                           if fk.ref_table == table.name and fk.ref_columns == [column.name]]
            yield self.finding(
                table.name,
                f"{table.name}.{column.name} ({column.type.native or column.type.kind.value}) "
                f"is at {seq.last_value:,} of {limit:,} ({share:.0%})",
                "once the generator passes the type's limit every INSERT fails; widening the "
                "column rewrites the table",
                column=column.name,
                fix=_fix(ctx, table, column, seq),
                note=("widen the referencing columns too: " + ", ".join(referencing))
                if referencing else None,
                severity=severity,
            )


def _fix(ctx: ReviewContext, table: Table, column: Column, seq: SequenceFacts) -> str | None:
    if ctx.dialect == "postgresql":
        lines = [f"ALTER SEQUENCE {seq.sequence} AS bigint;"] if seq.sequence else []
        lines.append(f"ALTER TABLE {ctx.q(table.name)} ALTER COLUMN {ctx.q(column.name)} "
                     "TYPE bigint;")
        return "\n".join(lines)
    if ctx.dialect == "mysql":
        unsigned = "unsigned" in (column.type.native or "").lower()
        return ctx.alter_column(table, column, native="BIGINT UNSIGNED" if unsigned else "BIGINT")
    return None
