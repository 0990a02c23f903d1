"""Indexes from access patterns: one per need, merged so none is redundant.

For each drafted query: equality columns first (most selective first, by the spec's
volumes), then IN lists, then the ORDER BY columns in their direction, then one range or
prefix column (equality, sort, range: the order in which a B-tree can use them). Text search
gets a GIN index on the searched column. Covering columns (INCLUDE) only for hot patterns
that name their columns.

Then per table: a query whose key is a left prefix of the primary key or of a unique
constraint is served by it; candidates that are left prefixes of others merge into them,
carrying every pattern they serve; every foreign key gets an index unless its columns
already lead one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.design.keys import constraint_name, design_data
from dbarch.schema.model import (
    AccessQuery,
    FilterOp,
    Index,
    IndexColumn,
    IndexMethod,
    Table,
    TypeKind,
)
from dbarch.spec.quantities import human_count, human_rate

Cardinality = dict[tuple[str, str], float]
Determined = dict[tuple[str, str], set[str]]


@dataclass
class Candidate:
    """An index being designed, with the queries it serves and any other reasons."""

    keys: list[IndexColumn]
    method: IndexMethod = IndexMethod.btree
    include: list[str] = field(default_factory=list)
    queries: list[AccessQuery] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    name: str | None = None
    order_note: str = ""

    @property
    def signature(self) -> list[tuple[str, bool]]:
        """What decides whether one index can stand in for another: columns and opclass."""
        return [(c.name, c.pattern_ops) for c in self.keys]

    def serves_prefix(self, columns: list[str]) -> bool:
        """Whether `columns` lead this index, so it serves anything they would."""
        names = [c.name for c in self.keys]
        return self.method == IndexMethod.btree and names[: len(columns)] == columns


def is_prefix(short: list[tuple[str, bool]], long: list[tuple[str, bool]]) -> bool:
    """Whether `short` is a left prefix of `long` (or equal)."""
    return len(short) <= len(long) and long[: len(short)] == short


def design_indexes(
    tables: list[Table],
    queries: list[AccessQuery],
    cardinality: Cardinality,
    purge: dict[str, str] | None = None,
    max_group: dict[tuple[str, str], int] | None = None,
    determined: Determined | None = None,
) -> None:
    """Design the indexes of `tables` for `queries`; set each query's `index`.

    `cardinality` estimates distinct values per (table, column); `purge` names, per table,
    the column a TTL purge job deletes by; `max_group` bounds, per (table, column), how many
    rows share one value (a relationship's max_fanout); `determined` gives, per (table,
    column), the columns whose value follows from it (a reading's site from its device).
    """
    purge = purge or {}
    max_group = max_group or {}
    by_name = {t.name: t for t in tables}
    pending: dict[str, list[Candidate]] = {
        t.name: [Candidate(keys=list(ix.columns), method=ix.method, include=list(ix.include),
                           reasons=[ix.reason] if ix.reason else [], name=ix.name)
                 for ix in t.indexes]
        for t in tables
    }
    for q in queries:
        t = by_name[q.table]
        c = candidate_for(t, q, cardinality, max_group, determined)
        if c is not None:
            pending[t.name].append(c)
    used: set[str] = {n for t in tables for n in constraint_names(t)}
    for t in tables:
        if t.name in purge:
            col = purge[t.name]
            pending[t.name].append(Candidate(
                keys=[IndexColumn(name=col)],
                reasons=[f"TTL purge: a batched DELETE ... WHERE {col} < cutoff reads only "
                         f"the expired rows of {human_count(t.rows_at_horizon)} rows"],
            ))
        t.indexes = finalize(t, pending[t.name], used)


def constraint_names(t: Table) -> list[str]:
    """Names of the indexes that constraints create: the primary key and unique constraints."""
    return [f"{t.name}_pkey", *(u.name for u in t.uniques)]


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
    reasons = []
    if bound is not None:
        col, rows = bound
        reasons.append(f"{q.pattern} needs no column for its ORDER BY: at most "
                       f"{human_count(rows)} rows share one {col}, LIMIT {q.limit} reads them "
                       "all anyway, and sorting that few in memory is cheaper than a wider "
                       "index to maintain")
    return Candidate(keys=keys, include=covering(t, q, seen), queries=[q], reasons=reasons,
                     order_note=key_order_note(t, q, keys, eq, cardinality))


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

    def values(c: str) -> str:
        """`category_id (~1.2k values)` where the spec tells the count."""
        n = cardinality.get((t.name, c))
        return f"{c} (~{human_count(n)} values)" if n is not None else c

    parts = []
    constraint = leading_constraint(t, eq)
    if eq:
        most = " most selective first" if len(eq) > 1 else ""
        if constraint is not None and len(eq) > 1:
            most = f" in the order of {constraint[0]}, which leads with them"
        parts.append(f"equality on {', '.join(values(c) for c in eq)}{most}")
    rest = [k for k in keys if k.name not in eq]
    sort = {o.column for o in q.order_by}
    ranged = {f.column for f in q.filters if f.op in (FilterOp.range, FilterOp.prefix)}
    for k in rest:
        roles = [r for r, on in (("ORDER BY", k.name in sort), ("range", k.name in ranged)) if on]
        parts.append(f"then {k.name}{' DESC' if k.desc else ''} for the {' and '.join(roles)}")
    tail = (f", so LIMIT {q.limit} stops after {q.limit} index entries, already in order"
            if q.limit and sort else ", one index range scan")
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


def finalize(t: Table, pending: list[Candidate], used: set[str]) -> list[Index]:
    """Merge the table's candidates into a set with no redundant index, add foreign-key
    indexes, name everything, and point each query at its index."""
    kept: list[Candidate] = []
    by_constraint: list[tuple[Candidate, str]] = []
    cons = constraints(t)
    for c in pending:
        served = next((name for name, cols in cons if c.method == IndexMethod.btree
                       and not c.include and c.name is None
                       and is_prefix(c.signature, [(x, False) for x in cols])), None)
        if served is not None:
            by_constraint.append((c, served))
            continue
        kept.append(c)
    merged: list[Candidate] = []
    for c in sorted(kept, key=lambda c: -len(c.keys)):
        into = next((m for m in merged if m.method == c.method
                     and (is_prefix(c.signature, m.signature) if c.method == IndexMethod.btree
                          else c.signature == m.signature)), None)
        if into is None:
            merged.append(c)
            continue
        into.queries += c.queries
        into.reasons += c.reasons
        key_names = {k.name for k in into.keys}
        into.include += [i for i in c.include if i not in into.include and i not in key_names]
        into.name = into.name or c.name
    for c, served in by_constraint:
        # The constraint's index serves it; an index designed anyway for another pattern that
        # leads with the same columns serves it too, and planners pick that one when it is
        # narrower, so the query is pointed there (found by verification on MariaDB).
        into = next((m for m in merged if m.method == IndexMethod.btree
                     and is_prefix(c.signature, m.signature)), None)
        if into is None:
            for q in c.queries:
                q.index = served
        else:
            into.queries += c.queries
    for fk in t.foreign_keys:
        leading = next((m for m in merged if m.serves_prefix(fk.columns)), None)
        if any(cols[: len(fk.columns)] == fk.columns for _, cols in cons):
            continue
        if leading is not None:
            leading.reasons.append(f"also the index of foreign key {fk.name}")
            continue
        merged.append(Candidate(
            keys=[IndexColumn(name=c) for c in fk.columns],
            reasons=[f"foreign key {fk.name} → {fk.ref_table} (ON DELETE {fk.on_delete.value}):"
                     f" each delete or key change in {fk.ref_table} looks up referencing rows; "
                     f"without it that is a scan of {human_count(t.rows_at_horizon)} rows"],
        ))
    out = []
    for m in merged:
        name = m.name or index_name(t, m, used)
        used.add(name)
        for q in m.queries:
            q.index = name
        out.append(Index(
            name=name,
            columns=m.keys,
            include=m.include,
            method=m.method,
            serves=list(dict.fromkeys(q.pattern for q in m.queries)),
            reason=reason(t, m),
        ))
    return out


def index_name(t: Table, c: Candidate, used: set[str]) -> str:
    """`orders_user_id_created_at_idx`; `_search_idx` for text search; unique in the schema."""
    cols = [k.name for k in c.keys]
    textual = c.method == IndexMethod.gin and all(
        t.column(k).type.kind in (TypeKind.string, TypeKind.text) for k in cols)
    suffix = "search_idx" if textual else (
        "idx" if c.method == IndexMethod.btree else f"{c.method.value}_idx")
    if any(k.pattern_ops for k in c.keys):
        suffix = "pattern_idx"
    name = constraint_name(t.name, cols, suffix)
    n = 2
    while name in used:
        name = constraint_name(t.name, cols, f"{suffix}{n}")
        n += 1
    return name


_OPS = {
    FilterOp.eq: "= ?",
    FilterOp.in_: "IN (...)",
    FilterOp.range: "BETWEEN ? AND ?",
    FilterOp.prefix: "LIKE 'abc%'",
    FilterOp.text: "matches words",
}


def describe(q: AccessQuery) -> str:
    """The query in one line: `user_id = ? ORDER BY created_at DESC LIMIT 20`."""
    out = " AND ".join(f"{f.column} {_OPS[f.op]}" for f in q.filters)
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
