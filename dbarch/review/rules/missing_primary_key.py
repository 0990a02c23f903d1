"""R101 missing-primary-key."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import Table


@register
class MissingPrimaryKey(ReviewRule):
    """A table without a primary key: its rows cannot be addressed one by one.

    Why: without a key nothing stops the same row from being stored twice, and nothing names
    one row for an UPDATE or DELETE. PostgreSQL refuses UPDATE and DELETE on a table published
    for logical replication without a replica identity; InnoDB clusters such a table on a
    hidden 6-byte row id that no query can use; Galera and group replication require a primary
    key on every table; ORMs need one to map rows to objects.

    Instead: promote a unique NOT NULL column set, or add a generated key.

        ALTER TABLE events ADD PRIMARY KEY (event_id);
        ALTER TABLE audit_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
    """

    code = "R101"
    name = "missing-primary-key"
    severity = Severity.ERROR
    summary = "a table has no primary key"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        for table in ctx.schema.tables:
            if table.primary_key:
                continue
            candidate = _natural_key(table)
            yield self.finding(
                table.name,
                f"{table.name} has no primary key",
                "duplicate rows cannot be prevented or told apart; replication and ORMs need "
                "a key to address a row",
                fix=_fix(ctx, table, candidate),
                note=(f"the unique NOT NULL columns ({', '.join(candidate)}) can become the key"
                      if candidate else "no unique NOT NULL column set: add a generated key"),
            )


def _natural_key(table: Table) -> list[str] | None:
    """A unique column set whose columns are all NOT NULL, else an `id` column."""
    nullable = {c.name for c in table.columns if c.nullable}
    sets = [u.columns for u in table.uniques] + [ix.column_names for ix in table.indexes
                                                 if ix.unique and ix.where is None]
    for columns in sets:
        if not nullable & set(columns):
            return list(columns)
    if any(c.name == "id" and not c.nullable for c in table.columns):
        return ["id"]
    return None


def _fix(ctx: ReviewContext, table: Table, key: list[str] | None) -> str | None:
    t = ctx.q(table.name)
    if ctx.dialect == "sqlite":
        return None  # SQLite cannot add a primary key to an existing table: rebuild it
    if key:
        return f"ALTER TABLE {t} ADD PRIMARY KEY ({ctx.columns_sql(key)});"
    if ctx.dialect == "mysql":
        return f"ALTER TABLE {t} ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;"
    return f"ALTER TABLE {t} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"
