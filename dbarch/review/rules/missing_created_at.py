"""R113 missing-created-at."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import Table, TypeKind


@register
class MissingCreatedAt(ReviewRule):
    """An entity table without a creation time (created_at or an equivalent name).

    Why: when a row appeared is the first question of every incident, audit, support ticket
    and data fix, and the one most often needed for time-ordered reads, retention and
    partitioning by time. It cannot be reconstructed later. The accepted names are
    `created_columns` in review.yaml; junction tables (a primary key made of foreign keys and
    nothing else to say) are exempt.

    Instead: a NOT NULL creation time filled by the database.

        ALTER TABLE customers ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

    Existing rows get the time of the ALTER: say so where the column is read.
    """

    code = "R113"
    name = "missing-created-at"
    severity = Severity.INFO
    summary = "a table has no creation time column"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        names = {n.lower() for n in ctx.data["created_columns"]}
        for table in ctx.schema.tables:
            if _junction(table):
                continue
            if any(c.name.lower() in names
                   and c.type.kind in (TypeKind.timestamp, TypeKind.date) for c in table.columns):
                continue
            yield self.finding(
                table.name,
                f"{table.name} has no creation time ({', '.join(sorted(names)[:3])}, ...)",
                "when a row appeared cannot be reconstructed later; audits, support, retention "
                "and time-ordered reads need it",
                fix=_fix(ctx, table),
                note="existing rows get the time of the ALTER",
            )


def _junction(table: Table) -> bool:
    """A link table: its key is made of foreign key columns, with at most one more column."""
    in_fks = {c for fk in table.foreign_keys for c in fk.columns}
    return (len(table.primary_key) >= 2 and set(table.primary_key) <= in_fks
            and len(table.columns) <= len(table.primary_key) + 1)


def _fix(ctx: ReviewContext, table: Table) -> str:
    t = ctx.q(table.name)
    if ctx.dialect == "postgresql":
        return f"ALTER TABLE {t} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();"
    if ctx.dialect == "mysql":
        return (f"ALTER TABLE {t} ADD COLUMN created_at TIMESTAMP NOT NULL "
                "DEFAULT CURRENT_TIMESTAMP;")
    # SQLite refuses a non-constant default in ADD COLUMN: new rows must set it (or a trigger)
    return f"ALTER TABLE {t} ADD COLUMN created_at TEXT;"
