"""R107 timestamp-without-time-zone."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.schema.model import TypeKind


@register
class TimestampWithoutTimeZone(ReviewRule):
    """A `timestamp` (without time zone) column: a point in time stored without its zone.

    Why: `timestamp without time zone` keeps the wall-clock reading the application sent and
    forgets which zone it was in. Servers, sessions and clients in different zones then read
    and compare different instants; daylight-saving changes make an hour ambiguous. PostgreSQL's
    own advice (wiki "Don't Do This") is timestamptz for points in time: it stores UTC and
    converts on the way in and out.

    Instead: timestamptz, saying which zone the stored values were in (UTC assumed here).

        ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz
            USING placed_at AT TIME ZONE 'UTC';

    Exempt: MySQL/MariaDB and SQLite, which have no timestamp type that keeps a zone.
    """

    code = "R107"
    name = "timestamp-without-time-zone"
    dialects = frozenset({"postgresql"})
    not_applicable = "no timestamp type with a time zone in this engine"
    summary = "a timestamp column without time zone"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for table in ctx.schema.tables:
            for column in table.columns:
                native = (column.type.native or "").lower()
                if column.type.kind != TypeKind.timestamp or not native.startswith("timestamp"):
                    continue
                if native.startswith("timestamptz") or "with time zone" in native:
                    continue
                c = ctx.q(column.name)
                yield self.finding(
                    table.name,
                    f"{table.name}.{column.name} is {native} (without time zone)",
                    "the instant depends on the zone of whoever wrote it; comparisons across "
                    "zones and DST changes go wrong",
                    column=column.name,
                    fix=f"ALTER TABLE {ctx.q(table.name)} ALTER COLUMN {c} TYPE timestamptz "
                        f"USING {c} AT TIME ZONE 'UTC';",
                    note="the conversion assumes the stored values are UTC; name the zone they "
                         "were written in if not. The change rewrites the table.",
                )
