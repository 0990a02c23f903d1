"""A read access pattern (AccessQuery) as the SELECT an application would send, per dialect.

Pure: builds a sqlglot expression tree and lets sqlglot spell it for postgres, mysql or sqlite.
Parameters are literals (EXPLAIN needs values to estimate selectivity), given as a dict of
column → value: a value for `eq`, a list for `in`, a (low, high) pair for `range`, the prefix
for `prefix`, one word for `text`.

How values are written follows the storage chosen in `dbarch/data/types.yaml`: SQLite keeps
timestamps as ISO 8601 text ending in `Z`, MySQL keeps UUIDs in BINARY(16).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from dbarch.render.base import dialect_data
from dbarch.schema.model import AccessQuery, FilterOp

DIALECTS: dict[str, str] = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
"""dbarch dialect name → sqlglot dialect name."""


def sqlite_timestamp(value: datetime) -> str:
    """A timestamp as SQLite stores it here: ISO 8601 UTC with milliseconds and `Z`.

    The same text the DDL's `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` default writes, so stored
    values and query literals compare as text in time order.
    """
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def literal(value: Any, dialect: str) -> exp.Expression:
    """One Python value as a SQL literal of `dialect` (postgresql, mysql, sqlite)."""
    target = DIALECTS[dialect]
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        if target == "sqlite":
            return exp.Literal.number(int(value))
        return exp.Boolean(this=value)
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, datetime):
        if target == "sqlite":
            return exp.Literal.string(sqlite_timestamp(value))
        return exp.Literal.string(value.isoformat(sep=" "))
    if isinstance(value, date):
        return exp.Literal.string(value.isoformat())
    if isinstance(value, uuid.UUID):
        if target == "mysql":  # BINARY(16)
            return exp.HexString(this=value.hex)
        return exp.Literal.string(str(value))
    if isinstance(value, bytes):
        return exp.HexString(this=value.hex())
    return exp.Literal.string(str(value))


def render_query(q: AccessQuery, dialect: str, params: Mapping[str, Any]) -> str:
    """The SELECT for `q` in `dialect`, with `params` inlined as literals."""
    target = DIALECTS.get(dialect)
    if target is None:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {sorted(DIALECTS)}")
    columns: list[exp.Expression] = [exp.column(c, quoted=True) for c in q.project]
    if q.aggregate:
        columns = [exp.column(c, quoted=True) for c in q.group_by]
        columns.append(_aggregate(q.aggregate, q.measured))
    select = exp.select(*(columns or [exp.Star()])).from_(exp.table_(q.table, quoted=True))
    conditions = [
        _condition(f.column, f.op, params[f.column], dialect, q.index) for f in q.filters
    ]
    if conditions:
        select = select.where(exp.and_(*conditions))
    if q.aggregate and q.group_by:
        select = select.group_by(*(exp.column(c, quoted=True) for c in q.group_by))
    if q.order_by:
        # Each engine's own NULL order (PostgreSQL: NULLs sort high; MySQL, SQLite: low), so no
        # NULLS FIRST/LAST clause is written: with one, a DESC index may no longer give the order.
        nulls_high = target == "postgres"
        select = select.order_by(*(
            exp.Ordered(this=exp.column(o.column, quoted=True), desc=o.desc,
                        nulls_first=o.desc == nulls_high)
            for o in q.order_by
        ))
    if q.limit is not None:
        select = select.limit(q.limit)
    return select.sql(dialect=target)


_AGGREGATES: dict[str, type[exp.AggFunc]] = {
    "count": exp.Count, "sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max,
}


def _aggregate(function: str, column: str | None) -> exp.Expression:
    """`max("value")`, or `count(*)` when nothing is measured."""
    if column is None:
        return exp.Count(this=exp.Star())
    return _AGGREGATES[function](this=exp.column(column, quoted=True))


def _condition(
    column: str, op: FilterOp, value: Any, dialect: str, index: str | None = None
) -> exp.Expression:
    col = exp.column(column, quoted=True)
    target = DIALECTS[dialect]
    if op == FilterOp.eq:
        if value is None:
            return exp.Is(this=col, expression=exp.Null())
        return exp.EQ(this=col, expression=literal(value, dialect))
    if op == FilterOp.in_:
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        return exp.In(this=col, expressions=[literal(v, dialect) for v in values])
    if op == FilterOp.range:
        low, high = value
        return exp.Between(this=col, low=literal(low, dialect), high=literal(high, dialect))
    if op == FilterOp.prefix:
        text = str(value)
        if target == "sqlite":
            # LIKE is case-insensitive in SQLite and so cannot use a BINARY-collated index;
            # GLOB is the case-sensitive prefix match that can.
            return exp.Glob(this=col, expression=exp.Literal.string(_glob_escape(text) + "*"))
        return exp.Like(this=col, expression=exp.Literal.string(_like_escape(text) + "%"))
    if op == FilterOp.text:
        word = exp.Literal.string(str(value))
        if target == "postgres":
            config = exp.Literal.string(dialect_data()["postgresql"]["text_search_config"])
            # sqlglot's MatchAgainst is `this @@ expressions` in PostgreSQL: the document
            # expression must be the GIN index's, to_tsvector(config, column), to use it.
            return exp.MatchAgainst(
                this=exp.Anonymous(this="plainto_tsquery", expressions=[config, word]),
                expressions=[exp.Anonymous(this="to_tsvector", expressions=[config, col])],
            )
        if target == "mysql":
            return exp.MatchAgainst(
                this=word, expressions=[col], modifier="IN NATURAL LANGUAGE MODE"
            )
        if index:
            # SQLite's full-text index is an FTS5 table over the rows (named as the index):
            # match in it, then read the rows by rowid.
            fts = exp.table_(index, quoted=True)
            inner = (
                exp.select(exp.column("rowid")).from_(fts)
                .where(exp.Match(this=exp.column(index, quoted=True), expression=word))
            )
            return exp.In(this=exp.column("rowid"), query=exp.Subquery(this=inner))
        return exp.Like(this=col, expression=exp.Literal.string(f"%{_like_escape(str(value))}%"))
    raise ValueError(f"unknown filter op {op!r}")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
