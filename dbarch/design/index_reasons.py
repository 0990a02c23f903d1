"""The words of an index: the query shape it serves and why it exists.

Separate from the merging in `indexes` because it only writes: it reads a finished
Candidate and changes nothing.
"""

from __future__ import annotations

from dbarch.design.index_model import FILTER_SQL, Candidate
from dbarch.design.index_order import order_note
from dbarch.schema.model import AccessQuery, IndexMethod, Table
from dbarch.spec.quantities import human_count, human_rate


def describe(q: AccessQuery) -> str:
    """The query in one line: `user_id = ? ORDER BY created_at DESC LIMIT 20`."""
    out = " AND ".join(f"{f.column} {FILTER_SQL[f.op]}" for f in q.filters)
    if q.order_by:
        out += " ORDER BY " + ", ".join(o.column + (" DESC" if o.desc else "")
                                        for o in q.order_by)
    if q.limit:
        out += f" LIMIT {q.limit}"
    return out.strip()


def reason(t: Table, c: Candidate) -> str:
    """Why the index exists, with the patterns' rates and the table's size."""
    parts = [f"{q.pattern} at {human_rate(q.rate)}: {describe(q)}" for q in c.queries]
    if c.method == IndexMethod.gin:
        parts.append("full-text search: a GIN index over the words of "
                     f"{', '.join(k.name for k in c.keys)}")
    elif c.order_note:
        parts.append(c.order_note)
    for q in c.queries:
        # A pattern whose whole group is read anyway says so in its own reason.
        note = "" if q.pattern in c.bounded else order_note(
            q, c.keys, c.method, c.sorts.get(q.pattern))
        if note:
            parts.append(note)
    if c.include:
        top = max(c.queries, key=lambda q: q.rate)
        parts.append(f"INCLUDE ({', '.join(c.include)}): index-only scans for "
                     f"{top.pattern} at {human_rate(top.rate)}, no table lookup per row")
    if any(k.pattern_ops for k in c.keys):
        parts.append("prefix LIKE: PostgreSQL uses a B-tree for it only with text_pattern_ops")
    parts += c.reasons
    if c.queries:
        parts.append(f"{human_count(t.rows_at_horizon)} rows at the horizon")
    return "; ".join(parts)
