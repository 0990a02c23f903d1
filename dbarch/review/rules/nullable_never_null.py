"""R110 nullable-never-null."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.facts import COLUMN_STATS
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import Column, Table


@register
class NullableNeverNull(ReviewRule):
    """A nullable column that holds no NULL: the schema allows what the data never does.

    Why: a column the application always fills should say so. NOT NULL documents it, stops the
    first row that breaks it, lets the planner drop IS NULL branches, and saves readers from
    handling a NULL that never comes. Judged from the column statistics (PostgreSQL's pg_stats
    null_frac after ANALYZE; a sample of `sample_rows` rows elsewhere) on tables of at least
    `min_rows_for_stats` rows: statistics are a sample, so the fix checks first.

    Instead: on PostgreSQL 12+, a validated CHECK lets SET NOT NULL skip its scan, so no long
    ACCESS EXCLUSIVE lock is held:

        ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID;
        ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null;
        ALTER TABLE users ALTER COLUMN phone SET NOT NULL;
        ALTER TABLE users DROP CONSTRAINT users_phone_not_null;

    Needs: a live database with column statistics.
    """

    code = "R110"
    name = "nullable-never-null"
    severity = Severity.INFO
    requires = frozenset({COLUMN_STATS})
    summary = "a nullable column holds no NULL"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for table in ctx.schema.tables:
            for column in table.columns:
                if not column.nullable or column.name in table.primary_key:
                    continue
                found = ctx.stats(table.name, column.name)
                if found is None or found[0].null_frac is None or found[0].null_frac > 0:
                    continue
                facts = found[1]
                sample = (f"a sample of {facts.stats_rows:,} rows"
                          if ctx.facts and ctx.facts.sampled
                          else f"the statistics of {facts.rows:,} rows")
                yield self.finding(
                    table.name,
                    f"{table.name}.{column.name} is nullable but holds no NULL in {sample}",
                    "NOT NULL would document the rule the data already follows and reject the "
                    "first row that breaks it",
                    column=column.name,
                    fix=_fix(ctx, table, column),
                    note="statistics are a sample: the fix fails (and changes nothing) if a "
                         "NULL exists after all",
                )


def _fix(ctx: ReviewContext, table: Table, column: Column) -> str | None:
    if ctx.dialect != "postgresql":
        return ctx.alter_column(table, column, not_null=True)
    t, c = ctx.q(table.name), ctx.q(column.name)
    check = ctx.q(f"{table.name}_{column.name}_not_null")
    return "\n".join([
        f"ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;",
        f"ALTER TABLE {t} VALIDATE CONSTRAINT {check};",
        f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;",
        f"ALTER TABLE {t} DROP CONSTRAINT {check};",
    ])
