"""R109 varchar-255-everywhere."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.review.context import ReviewContext
from dbarch.review.model import ReviewFinding
from dbarch.review.rule import ReviewRule, register
from dbarch.rulebook import Severity
from dbarch.schema.model import TypeKind


@register
class Varchar255Everywhere(ReviewRule):
    """Most text columns are varchar(255): lengths chosen by habit, not by the data.

    Why: 255 is a leftover of MySQL's old index-prefix and one-byte-length limits. A length
    that says nothing about the data neither stops bad values (a 200-character country code)
    nor fits real ones (a 300-character URL); MySQL also sizes in-memory temporary tables and
    sort buffers by the declared length. Reported when at least `varchar_255.min_columns`
    text columns exist and `varchar_255.share` of them are varchar(255) (review.yaml).

    Instead: a length from the data and the domain for each column (or text with a CHECK on
    PostgreSQL, where varchar(n) and text are stored alike). Measure first:

        SELECT max(char_length(email)) FROM users;
    """

    code = "R109"
    name = "varchar-255-everywhere"
    severity = Severity.INFO
    summary = "most text columns are varchar(255)"

    def check(self, ctx: ReviewContext) -> Iterator[ReviewFinding]:
        rule = ctx.data["varchar_255"]
        text = [(t, c) for t in ctx.schema.tables for c in t.columns
                if c.type.kind in (TypeKind.string, TypeKind.text)]
        habit = [(t, c) for t, c in text
                 if c.type.kind == TypeKind.string and c.type.length == int(rule["length"])]
        if len(text) < int(rule["min_columns"]) or not habit:
            return
        share = len(habit) / len(text)
        if share < float(rule["share"]):
            return
        shown = ", ".join(f"{t.name}.{c.name}" for t, c in habit[:8])
        more = f" and {len(habit) - 8} more" if len(habit) > 8 else ""
        t, c = habit[0]
        length = "char_length" if ctx.dialect != "sqlite" else "length"
        yield self.finding(
            None,
            f"{len(habit)} of {len(text)} text columns ({share:.0%}) are varchar(255): "
            f"{shown}{more}",
            "a length chosen by habit neither rejects bad values nor fits real ones",
            note=f"measure each column, e.g. SELECT max({length}({ctx.q(c.name)})) FROM "
                 f"{ctx.q(t.name)}; then set the length the domain needs",
        )
