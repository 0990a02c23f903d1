"""Each read access pattern as the query the schema answers it with (`AccessQuery`).

Drafted before the indexes exist: `dbarch.design.indexes` designs an index from each drafted
query and fills in `AccessQuery.index`. Write patterns that find their rows with `where`
(updates, deletes) are drafted too, for index design only; they are not in `Schema.queries`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dbarch.schema.model import AccessQuery, FilterOp, QueryFilter, QueryOrder
from dbarch.spec.model import AccessPattern, PatternKind, Relationship, RelKind, Spec, WriteOp

if TYPE_CHECKING:
    from dbarch.design.relational import Design

_MEASURE = re.compile(r"^\s*(count|sum|avg|min|max)\s*\(\s*(\w+)\s*\)\s*$", re.IGNORECASE)


def draft_queries(d: Design) -> list[AccessQuery]:
    """One AccessQuery per read, aggregate and traversal pattern on a relational entity."""
    out = []
    for p in d.spec.access_patterns:
        if p.kind == PatternKind.write or p.entity not in d.tables or p.name in d.elsewhere:
            continue
        q = (traversal_query(d, p) if p.kind == PatternKind.traversal
             else aggregate_query(d, p) if p.kind == PatternKind.aggregate
             else read_query(d, p))
        if q is not None:
            out.append(q)
    return out


def draft_write_lookups(d: Design) -> list[AccessQuery]:
    """Updates and deletes that find their rows by `where`: they need indexes too."""
    out = []
    for p in d.spec.access_patterns:
        if (p.kind == PatternKind.write and p.where and p.entity in d.tables
                and p.name not in d.elsewhere
                and p.operation in (WriteOp.update, WriteOp.delete, WriteOp.upsert)):
            out.append(read_query(d, p))
    return out


def read_query(d: Design, p: AccessPattern) -> AccessQuery:
    """A read: the pattern's filters, order, limit and projection, in column names."""
    assert p.entity is not None
    table = d.tables[p.entity]
    col = d.column_of
    return AccessQuery(
        pattern=p.name,
        table=table.name,
        filters=[QueryFilter(column=col(p.entity, f), op=FilterOp(op.value))
                 for f, op in p.where.items()],
        order_by=[QueryOrder(column=col(p.entity, f), desc=desc) for f, desc in p.sort],
        limit=p.limit,
        project=[col(p.entity, f) for f in p.project],
        rate=p.rate,
    )


def aggregate_query(d: Design, p: AccessPattern) -> AccessQuery:
    """An aggregate: its filters plus a range on the time column, grouped by its groups.

    A group is not a filter: `site_max_5min` groups a site's readings by device, so every
    device of the site is read; only `where` narrows the rows (and so the index).
    """
    assert p.entity is not None and p.time is not None
    q = read_query(d, p)
    time_col = d.column_of(p.entity, p.time)
    if time_col not in {f.column for f in q.filters}:
        q.filters.append(QueryFilter(column=time_col, op=FilterOp.range))
    m = _MEASURE.match(p.measure or "")
    q.group_by = [d.column_of(p.entity, g) for g in p.group_by]
    q.aggregate = m.group(1).lower() if m else "count"
    q.measured = d.column_of(p.entity, m.group(2)) if m else None
    q.project = list(dict.fromkeys([*q.group_by, time_col, *([q.measured] if q.measured else [])]))
    return q


def resolve_via(spec: Spec, entity: str, via: str) -> Relationship | None:
    """The relationship a traversal follows: by its field name or name, else by the entity
    at its other end (the rule documented on AccessPattern)."""
    rels = spec.relationships_of(entity)
    for r in rels:
        if via in (r.name, r.field_name):
            return r
    for r in rels:
        other = r.to if r.from_ == entity else r.from_
        if other == via:
            return r
    return None


def traversal_query(d: Design, p: AccessPattern) -> AccessQuery | None:
    """The first hop of a traversal: equality on the reference column that links one step
    to the next (junction table for many-to-many). Later hops repeat it with the ids found."""
    assert p.entity is not None and p.via is not None
    rel = resolve_via(d.spec, p.entity, p.via)
    if rel is None:
        return None
    if rel.kind == RelKind.many_to_many:
        junction = d.junctions.get(id(rel))
        if junction is None:
            return None
        side = junction.primary_key[0] if rel.from_ == p.entity else junction.primary_key[1]
        table, column = junction.name, side
    else:
        child = d.tables.get(rel.child)
        if child is None:
            return None
        table, column = child.name, f"{rel.field_name}_id"
    return AccessQuery(
        pattern=p.name,
        table=table,
        filters=[QueryFilter(column=column, op=FilterOp.eq)],
        limit=p.limit,
        rate=p.rate,
    )

