"""Indexes from access patterns: one per need, merged so none is redundant.

Each query's own index is designed in `index_keys` (key order, method, covering columns);
this module merges them per table: a query whose key is a left prefix of the primary key or
of a unique constraint is served by it; candidates that are left prefixes of others merge
into them, carrying every pattern they serve; every foreign key gets an index unless its
columns already lead one. Whether each index returns its patterns' rows in ORDER BY order is
judged in `index_order`, and its reason is written in `index_reasons`.
"""

from __future__ import annotations

from dbarch.design.index_keys import candidate_for, constraints
from dbarch.design.index_model import Candidate, Cardinality, Determined
from dbarch.design.index_reasons import reason
from dbarch.design.keys import constraint_name
from dbarch.schema.model import AccessQuery, Index, IndexColumn, IndexMethod, Table, TypeKind
from dbarch.spec.quantities import human_count


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
