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

Each index's reason says, per pattern with an ORDER BY, whether its final key returns the
rows in that order (`order_break`): only when every key column before the sort columns is
bound to a single value. An IN list or a range ahead of the sort column makes the engine read
every match and sort it; the reason then says so, with how many rows that is at the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.design.ceilings import scaling_data
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
from dbarch.spec.quantities import human_bytes, human_count, human_rate

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
    sorts: dict[str, SortEstimate] = field(default_factory=dict)
    bounded: set[str] = field(default_factory=set)

    @property
    def signature(self) -> list[tuple[str, bool]]:
        """What decides whether one index can stand in for another: columns and opclass."""
        return [(c.name, c.pattern_ops) for c in self.keys]

    def serves_prefix(self, columns: list[str]) -> bool:
        """Whether `columns` lead this index, so it serves anything they would."""
        names = [c.name for c in self.keys]
        return self.method == IndexMethod.btree and names[: len(columns)] == columns


@dataclass(frozen=True)
class SortEstimate:
    """How many rows an engine sorts for a query when its index cannot return them in order:
    the rows one equality value selects at the horizon (an average, or a bound from
    max_fanout), and for an IN list on a reference the list length."""

    rows: float
    basis: str
    in_column: str | None = None
    in_values: str = ""
    list_length: int | None = None


@dataclass(frozen=True)
class OrderBreak:
    """Why an index cannot return a query's rows in ORDER BY order.

    kind: `in` / `range` / `prefix` (a filter that is not a single value on `column`, a key
    column before `sort_column`), `unbound` (a key column before `sort_column` the query does
    not filter), `missing` (the key has no `sort_column` there), `directions` (the ORDER BY
    mixes ASC and DESC unlike the key), `method` (not a B-tree: no order at all).
    """

    kind: str
    column: str
    sort_column: str

    def cause(self) -> str:
        """The break in words: `status IN (...) precedes updated_at in the key`."""
        if self.kind == "in":
            return f"{self.column} IN (...) precedes {self.sort_column} in the key"
        if self.kind in ("range", "prefix"):
            return f"the {self.kind} on {self.column} precedes {self.sort_column} in the key"
        if self.kind == "unbound":
            return (f"{self.column} precedes {self.sort_column} in the key and the query does "
                    "not bind it")
        if self.kind == "directions":
            return "the ORDER BY mixes ASC and DESC unlike the key"
        if self.kind == "method":
            return f"a {self.column} index keeps no order"
        return f"the key holds no {self.sort_column} after the columns the query binds"


def order_break(keys: list[IndexColumn], method: IndexMethod,
                q: AccessQuery) -> OrderBreak | None:
    """None when an index with `keys` returns `q`'s rows in its ORDER BY order (so LIMIT stops
    after that many entries), else what stops it.

    Every key column before the sort columns must be bound to one value by `=`; an ORDER BY
    column bound by `=` is constant and needs no place in the key. The sort columns must follow
    in the key's directions, or all in the opposite ones (a backward scan).
    """
    exact = {f.column for f in q.filters if f.op == FilterOp.eq}
    pending = [o for o in q.order_by if o.column not in exact]
    if not pending:
        return None
    if method != IndexMethod.btree:
        return OrderBreak("method", method.value, pending[0].column)
    ops = {f.column: f.op for f in q.filters}
    flipped: bool | None = None
    done = 0
    for k in keys:
        if done == len(pending):
            return None
        o = pending[done]
        if k.name == o.column:
            if flipped is None:
                flipped = k.desc != o.desc
            elif flipped != (k.desc != o.desc):
                return OrderBreak("directions", k.name, o.column)
            done += 1
        elif k.name not in exact:
            op = ops.get(k.name)
            kind = {FilterOp.in_: "in", FilterOp.range: "range",
                    FilterOp.prefix: "prefix"}.get(op, "unbound") if op else "unbound"
            return OrderBreak(kind, k.name, o.column)
    if done == len(pending):
        return None
    return OrderBreak("missing", pending[done].column, pending[done].column)


def sort_estimate(t: Table, q: AccessQuery, cardinality: Cardinality,
                  max_group: dict[tuple[str, str], int]) -> SortEstimate:
    """The rows `q` selects by its equality filters at the horizon: what an engine sorts when
    the index cannot return them in order. Only many-valued columns (keys, references) divide
    the table: enums and booleans are too skewed for an average to mean anything."""
    data = design_data()
    low = data["indexes"]["low_cardinality"]
    rows = float(max(t.rows_at_horizon, 1))
    exact = [f.column for f in q.filters if f.op == FilterOp.eq]
    bounds = [(max_group[(t.name, c)], c) for c in exact if (t.name, c) in max_group]
    many = [(rows / cardinality[(t.name, c)], c) for c in exact
            if cardinality.get((t.name, c), 0) > low]
    bound = min(bounds, default=None)
    mean = min(many, default=None)
    if mean is not None and (bound is None or mean[0] < bound[0]):
        per, col = mean
        basis = (f"~{human_count(per)} rows per {col} on average at the horizon "
                 f"({human_count(rows)} rows / ~{human_count(rows / per)} values)")
        # The largest group, where the spec gives it, is what p99 sees.
        worst = next((n for n, c in bounds if c == col), None)
        est = (SortEstimate(per, basis) if worst is None else SortEstimate(
            float(worst), f"{basis}, up to {human_count(worst)} in the largest "
                          "(the relationship's max_fanout)"))
    elif bound is not None:
        n, col = bound
        est = SortEstimate(float(n), f"at most {human_count(n)} rows share one {col} "
                                     "(the relationship's max_fanout)")
    else:
        est = SortEstimate(rows, f"up to all {human_count(rows)} rows at the horizon when "
                                 "the filter is wide")
    listed = next((f.column for f in q.filters if f.op == FilterOp.in_), None)
    if listed is None:
        return est
    card = cardinality.get((t.name, listed))
    if card is not None and card <= low:
        return SortEstimate(est.rows, est.basis, listed,
                            f"at most {human_count(card)}, the column's distinct values",
                            int(card))
    # A list of references (the authors a user follows): its length is not in the spec.
    n = data["denormalize"]["default_in_list"]
    listing = f"~{n} per list, assumed"
    if card is None or bound is not None or mean is not None:
        # The equality filter already bounds the rows; the list only narrows them further.
        return SortEstimate(est.rows, est.basis, listed, listing, n)
    total = min(rows / card * n, rows)
    return SortEstimate(total, f"~{human_count(rows / card)} rows per {listed} on average at "
                        f"the horizon ({human_count(rows)} rows / ~{human_count(card)} values) "
                        f"× ~{n} listed ≈ {human_count(total)} rows", listed, listing, n)


def order_note(q: AccessQuery, keys: list[IndexColumn], method: IndexMethod,
               estimate: SortEstimate | None) -> str:
    """Whether `q`'s rows come out of the index in ORDER BY order, and if not, what the engine
    does instead and how many rows that is."""
    if not q.order_by:
        return ""
    brk = order_break(keys, method, q)
    limit = f" before LIMIT {q.limit}" if q.limit else ""
    if brk is None:
        flipped = any(k.name == o.column and k.desc != o.desc for k in keys for o in q.order_by)
        back = " (read backwards)" if flipped else ""
        stop = (f"so LIMIT {q.limit} stops after {q.limit} entries" if q.limit
                else "so the engine does not sort them")
        return f"{q.pattern}: rows come out of the index{back} already in ORDER BY order, {stop}"
    if brk.kind == "in" and estimate is not None and estimate.in_values:
        what = (f"the engine reads one range per listed {brk.column} ({estimate.in_values}) "
                f"and sorts the matches{limit}")
    else:
        what = f"the engine sorts every matching row{limit}"
    note = f"{q.pattern}: {brk.cause()}, so {what}"
    if estimate is None:
        return note
    cheap = design_data()["indexes"]["sort_cheap_rows"]
    ranged = [f.column for f in q.filters if f.op in (FilterOp.range, FilterOp.prefix)]
    basis = estimate.basis + (f", fewer once the {ranged[0]} range applies" if ranged else "")
    if estimate.rows <= cheap:
        return (f"{note}: {basis}; under {human_count(cheap)} rows that read and sort stays "
                "cheap")
    note = f"{note}: {basis}, too many to read and sort on every call"
    # One value per query turns the list into an equality: offered only when the key then
    # returns each branch in order (no second list or range ahead of the sort column).
    single = q.model_copy(update={"filters": [
        f.model_copy(update={"op": FilterOp.eq}) if f.column == brk.column else f
        for f in q.filters]})
    if brk.kind == "in" and q.limit and order_break(keys, method, single) is None:
        rest = " AND ".join(f"{f.column} {_OPS[f.op]}" for f in q.filters
                            if f.column != brk.column)
        shape = f"{brk.column} = ?" + (f" AND {rest}" if rest else "")
        order = ", ".join(o.column + (" DESC" if o.desc else "") for o in q.order_by)
        most = (f"at most {estimate.list_length} × {q.limit} = "
                f"{human_count(estimate.list_length * q.limit)} rows"
                if estimate.list_length else f"{q.limit} rows per listed value")
        # Each branch stops after LIMIT entries read in key order; PostgreSQL merges the
        # ordered branches (Merge Append) instead of sorting them, checked in the tests.
        note += (f"; to bound it, query each {brk.column} value on its own ({shape} ORDER BY "
                 f"{order} LIMIT {q.limit}, read in index order) under UNION ALL with the "
                 f"same ORDER BY and LIMIT outside: {most} reach the merge (PostgreSQL: "
                 "Merge Append, no sort)")
    return note


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
        into.sorts.update(c.sorts)
        into.bounded |= c.bounded
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
            into.reasons += c.reasons
            into.sorts.update(c.sorts)
            into.bounded |= c.bounded
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


def _btree_bytes(t: Table, column: str) -> float:
    """A one-column B-tree's size at the horizon, by the capacity model's widths and fill."""
    data = scaling_data()
    col = next((c for c in t.columns if c.name == column), None)
    width = data["column_bytes"].get(col.type.kind.value, 8) if col is not None else 8
    entry = width + data["index_entry_overhead_bytes"]
    return t.rows_at_horizon * entry / data["index_fill_factor"]
