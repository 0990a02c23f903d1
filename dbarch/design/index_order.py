"""Whether an index returns a query's rows in ORDER BY order, and what sorting costs if not.

Each index's reason says, per pattern with an ORDER BY, whether its final key returns the
rows in that order (`order_break`): only when every key column before the sort columns is
bound to a single value. An IN list or a range ahead of the sort column makes the engine read
every match and sort it; the reason then says so, with how many rows that is at the horizon.

Separate from the key design (`index_keys`) because it judges any key, final or not, and the
architecture document asks it the same question of the finished indexes.
"""

from __future__ import annotations

from dbarch.design.index_model import FILTER_SQL, Cardinality, OrderBreak, SortEstimate
from dbarch.design.keys import design_data
from dbarch.schema.model import AccessQuery, FilterOp, IndexColumn, IndexMethod, Table
from dbarch.spec.quantities import human_count


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
        rest = " AND ".join(f"{f.column} {FILTER_SQL[f.op]}" for f in q.filters
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
