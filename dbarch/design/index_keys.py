"""The key one access pattern wants: columns, their order, method and covering columns.

For each drafted query: equality columns first (most selective first, by the spec's
volumes), then IN lists, then the ORDER BY columns in their direction, then one range or
prefix column (equality, sort, range: the order in which a B-tree can use them). Text search
gets a GIN index on the searched column. Covering columns (INCLUDE) only for hot patterns
that name their columns.

Separate from `indexes`, which merges these per-query candidates per table: this module looks
at one query at a time and never at the other candidates.
"""

from __future__ import annotations

from dbarch.design.ceilings import scaling_data
from dbarch.design.index_model import Candidate, Cardinality, Determined
from dbarch.design.index_order import sort_estimate
from dbarch.design.keys import design_data
from dbarch.schema.model import (
    AccessQuery,
    FilterOp,
    IndexColumn,
    IndexMethod,
    Table,
    TypeKind,
)
from dbarch.spec.quantities import human_bytes, human_count


def constraints(t: Table) -> list[tuple[str, list[str]]]:
    """(index name, columns) of the primary key and each unique constraint."""
    return [(f"{t.name}_pkey", list(t.primary_key)),
            *((u.name, list(u.columns)) for u in t.uniques)]


def equality_order(t: Table, columns: list[str], cardinality: Cardinality) -> list[str]:
    """Equality columns, most selective first where the spec tells: known many-valued columns
    (keys, references) by distinct values, then columns of unknown cardinality in the
    pattern's order, then known few-valued ones (enums, booleans), fewest values last."""
    low = design_data()["indexes"]["low_cardinality"]
    known = {c: cardinality[(t.name, c)] for c in columns if (t.name, c) in cardinality}
    high = sorted((c for c in known if known[c] > low), key=lambda c: -known[c])
    few = sorted((c for c in known if known[c] <= low), key=lambda c: -known[c])
    return high + [c for c in columns if c not in known] + few


def candidate_for(
    t: Table, q: AccessQuery, cardinality: Cardinality,
    max_group: dict[tuple[str, str], int] | None = None,
    determined: Determined | None = None,
) -> Candidate | None:
    """The index one query wants, or None when a constraint already answers it as a point
    lookup (then `q.index` is set to that constraint's index)."""
    # Columns a B-tree cannot key are filtered in memory, after the others narrow the rows.
    never = set(design_data()["indexes"]["not_btree"])
    filters = [f for f in q.filters if t.column(f.column).type.kind.value not in never]
    order_by = [o for o in q.order_by if t.column(o.column).type.kind.value not in never]
    text = [f.column for f in filters if f.op == FilterOp.text]
    if text:
        return Candidate(keys=[IndexColumn(name=text[0])], method=IndexMethod.gin, queries=[q])
    eq = [f.column for f in filters if f.op == FilterOp.eq]
    for name, cols in constraints(t):
        if cols and set(cols) <= set(eq):
            q.index = name  # at most one row per value: nothing to add
            return None
    # An IN list is a set of equalities: it ranks with them, so patterns that differ only
    # in `=` versus `IN` on a column share one index.
    eq = equality_order(
        t, list(dict.fromkeys(f.column for f in filters if f.op in (FilterOp.eq, FilterOp.in_))),
        cardinality)
    constraint = leading_constraint(t, eq)
    if constraint is None:
        # A column whose value follows from another equality column narrows nothing further:
        # without it the equalities may lead a unique constraint, whose index then serves.
        free = [c for c in eq if not any(c in (determined or {}).get((t.name, o), ())
                                         for o in eq if o != c)]
        constraint = leading_constraint(t, free) if free != eq else None
        eq = free if constraint is not None else eq
    if constraint is not None:
        eq = constraint[1][: len(eq)]
    keys = [IndexColumn(name=c) for c in eq]
    seen = set(eq)
    bound = group_bound(t, q, eq, max_group or {})
    for o in order_by if bound is None else []:
        if o.column not in seen:
            keys.append(IndexColumn(name=o.column, desc=o.desc))
            seen.add(o.column)
    for f in filters:
        if f.op in (FilterOp.range, FilterOp.prefix):
            if f.column not in seen:
                keys.append(IndexColumn(name=f.column, pattern_ops=f.op == FilterOp.prefix))
                seen.add(f.column)
            elif f.op == FilterOp.prefix:
                keys = [k.model_copy(update={"pattern_ops": True}) if k.name == f.column else k
                        for k in keys]
            break
    if not keys:
        return None
    if window_scan(t, q, keys):
        return Candidate(keys=keys, method=IndexMethod.brin, queries=[q], reasons=[
            f"{q.pattern} aggregates a window of {keys[0].name}, which grows with insertion "
            f"order: a BRIN index keeps one summary of about 32 bytes per 128 pages (1 MiB) "
            f"of table, about 1/30,000 of the table's size, where a B-tree on "
            f"{keys[0].name} would take about {human_bytes(_btree_bytes(t, keys[0].name))} "
            f"at {human_count(t.rows_at_horizon)} rows; and as it cannot return rows in order "
            "it never lures an ORDER BY ... LIMIT query away from the index designed for it "
            "(PostgreSQL; a B-tree on the other engines)"])
    reasons = []
    sorts = ({q.pattern: sort_estimate(t, q, cardinality, max_group or {})}
             if q.order_by else {})
    if bound is not None:
        col, rows = bound
        reasons.append(f"{q.pattern} needs no column for its ORDER BY: at most "
                       f"{human_count(rows)} rows share one {col}, LIMIT {q.limit} reads them "
                       "all anyway, and sorting that few in memory is cheaper than a wider "
                       "index to maintain")
    return Candidate(keys=keys, include=covering(t, q, seen), queries=[q], reasons=reasons,
                     order_note=key_order_note(t, q, keys, eq, cardinality), sorts=sorts,
                     bounded={q.pattern} if bound is not None else set())


def window_scan(t: Table, q: AccessQuery, keys: list[IndexColumn]) -> bool:
    """Whether `q` is an aggregate over a time window alone on a column that follows the
    insertion order (`created_at`): the case BRIN was made for."""
    return (q.aggregate is not None and len(keys) == 1 and keys[0].name == "created_at"
            and [f.op for f in q.filters] == [FilterOp.range]
            and t.column("created_at").type.kind == TypeKind.timestamp)


def leading_constraint(t: Table, eq: list[str]) -> tuple[str, list[str]] | None:
    """The primary key or unique constraint whose leading columns are exactly the equality
    columns, in any order: equalities may come in any order in a B-tree key, so taking the
    constraint's order lets its index serve the query instead of a new one."""
    if not eq:
        return None
    return next(((name, cols) for name, cols in constraints(t)
                 if len(cols) >= len(eq) and set(cols[: len(eq)]) == set(eq)), None)


def group_bound(t: Table, q: AccessQuery, eq: list[str],
                max_group: dict[tuple[str, str], int]) -> tuple[str, int] | None:
    """(column, rows) when an equality column caps the matching rows at or under the LIMIT:
    then the index needs no sort column. None when the spec gives no such bound."""
    if not q.order_by or not q.limit:
        return None
    exact = {f.column for f in q.filters if f.op == FilterOp.eq}
    bounds = [(c, max_group[(t.name, c)]) for c in eq
              if c in exact and (t.name, c) in max_group]
    best = min(bounds, key=lambda b: b[1], default=None)
    return best if best is not None and best[1] <= q.limit else None


def key_order_note(t: Table, q: AccessQuery, keys: list[IndexColumn], eq: list[str],
                   cardinality: Cardinality) -> str:
    """Why the key columns come in this order, with the distinct values the spec gives."""
    if len(keys) < 2:
        return ""

    listed = {f.column for f in q.filters if f.op == FilterOp.in_}

    def values(c: str, mark: bool = True) -> str:
        """`category_id (~1.2k values)` where the spec tells the count; `status IN` for a list."""
        n = cardinality.get((t.name, c))
        name = f"{c} IN" if c in listed and mark else c
        return f"{name} (~{human_count(n)} values)" if n is not None else name

    parts = []
    constraint = leading_constraint(t, eq)
    if eq:
        most = " most selective first" if len(eq) > 1 else ""
        if constraint is not None and len(eq) > 1:
            most = f" in the order of {constraint[0]}, which leads with them"
        if set(eq) <= listed:
            lists = "IN lists" if len(eq) > 1 else "IN list"
            parts.append(f"{lists} on {', '.join(values(c, False) for c in eq)}{most}")
        else:
            kind = "equality or IN" if listed & set(eq) else "equality"
            parts.append(f"{kind} on {', '.join(values(c) for c in eq)}{most}")
    rest = [k for k in keys if k.name not in eq]
    sort = {o.column for o in q.order_by}
    ranged = {f.column for f in q.filters if f.op in (FilterOp.range, FilterOp.prefix)}
    for k in rest:
        roles = [r for r, on in (("ORDER BY", k.name in sort), ("range", k.name in ranged)) if on]
        parts.append(f"then {k.name}{' DESC' if k.desc else ''} for the {' and '.join(roles)}")
    # Whether that order also delivers the ORDER BY is said per pattern (order_note).
    tail = "" if sort or listed else ", one index range scan"
    return "key order: " + ", ".join(parts) + tail


def covering(t: Table, q: AccessQuery, key_columns: set[str]) -> list[str]:
    """INCLUDE columns: the rest of a hot pattern's projection, if few and narrow."""
    rules = design_data()["indexes"]
    if not q.project or q.rate < rules["covering_min_rate"]:
        return []
    rest = [c for c in q.project if c not in key_columns and c not in t.primary_key]
    never = set(rules["never_include"])
    if len(rest) > rules["covering_max_columns"] or any(
        t.column(c).type.kind.value in never for c in rest
    ):
        return []
    return rest


def _btree_bytes(t: Table, column: str) -> float:
    """A one-column B-tree's size at the horizon, by the capacity model's widths and fill."""
    data = scaling_data()
    col = next((c for c in t.columns if c.name == column), None)
    width = data["column_bytes"].get(col.type.kind.value, 8) if col is not None else 8
    entry = width + data["index_entry_overhead_bytes"]
    return t.rows_at_horizon * entry / data["index_fill_factor"]
