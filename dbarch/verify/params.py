"""Parameters for an access pattern, chosen from the sample so the query finds typical rows.

Pure. A planner's choice depends on the value: the busiest user's orders may rightly be read
by a full scan, a typical user's never. So `eq` takes a value of median frequency (not the most
common, not a one-off), and every other filter is taken from a row that has that value, so the
combined filter matches at least one row.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from dbarch.schema.model import AccessQuery, FilterOp
from dbarch.verify.sample import SampleTable
from dbarch.verify.tuning import verify_tuning

_TUNING = verify_tuning().params
"""Window shares, prefix length, IN list length, pages: `params` in `dbarch/data/verify.yaml`."""

_WORD = re.compile(r"[A-Za-z]{4,}")


def choose_params(q: AccessQuery, table: SampleTable) -> dict[str, Any]:
    """Column → parameter for each filter of `q`, drawn from `table`'s sample rows.

    Raises KeyError naming the column when a filter's column is not in the table.
    """
    for f in q.filters:
        if f.column not in table.columns:
            raise KeyError(f"{q.table}.{f.column}")
    index = {c: i for i, c in enumerate(table.columns)}
    filtered = [f.column for f in q.filters]
    rows = [r for r in table.rows if all(r[index[c]] is not None for c in filtered)]
    if not rows:
        return {f.column: None for f in q.filters}
    anchor = _anchor(q, rows, index)
    params: dict[str, Any] = {}
    for f in q.filters:
        value = anchor[index[f.column]]
        if f.op == FilterOp.eq:
            params[f.column] = value
        elif f.op == FilterOp.in_:
            params[f.column] = _in_values(value, [r[index[f.column]] for r in rows])
        elif f.op == FilterOp.prefix:
            params[f.column] = str(value)[:_TUNING.prefix_length]
        elif f.op == FilterOp.text:
            params[f.column] = _rarest_word(str(value), [r[index[f.column]] for r in rows])
    for f in q.filters:
        if f.op == FilterOp.range:
            params[f.column] = _range(q, f.column, anchor, rows, index)
    return params


def _anchor(q: AccessQuery, rows: list[tuple[Any, ...]], index: dict[str, int]) -> tuple[Any, ...]:
    """The row whose values become the parameters.

    Its equality columns hold a combination of median frequency; for a pattern that reads a
    page (ORDER BY … LIMIT n), the least frequent combination with `pages` pages of rows (else
    the most frequent), because a page in order is asked of parents with more than a page:
    for the others any order is free, and a planner rightly ignores an index's order.
    """
    eq = [index[f.column] for f in q.filters if f.op in (FilterOp.eq, FilterOp.in_)]
    if not eq:
        return rows[len(rows) // 2]
    counts = Counter(tuple(r[i] for i in eq) for r in rows)
    ranked = sorted(counts.items(), key=lambda kv: (kv[1], str(kv[0])))
    chosen = ranked[len(ranked) // 2][0]
    if q.order_by and q.limit:
        busy = [key for key, n in ranked if n >= _TUNING.pages * q.limit]
        chosen = busy[0] if busy else ranked[-1][0]
    return next(r for r in rows if tuple(r[i] for i in eq) == chosen)


def _in_values(value: Any, values: list[Any]) -> list[Any]:
    """The anchor's value and other existing values, `in_list_length` in all."""
    out = [value]
    for v in sorted(set(values), key=str):
        if v not in out:
            out.append(v)
        if len(out) == _TUNING.in_list_length:
            break
    return out


def _rarest_word(text: str, values: list[Any]) -> str:
    """The word of `text` that fewest rows contain: the selective search a user types."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))
    if not words:
        return text.split()[0] if text.split() else text
    blobs = [str(v).lower() for v in values]
    return min(words, key=lambda w: (sum(w in b for b in blobs), w))


def _range(
    q: AccessQuery, column: str, anchor: tuple[Any, ...], rows: list[tuple[Any, ...]],
    index: dict[str, int],
) -> tuple[Any, Any]:
    """A window of existing values around the anchor's value."""
    eq = [f.column for f in q.filters if f.op == FilterOp.eq]
    value = anchor[index[column]]
    low, high = _window(sorted(r[index[column]] for r in rows), value, _TUNING.range_share_alone)
    if eq:
        # Within one user's rows, a share of them; but never narrower than the window over the
        # whole table, or a user with one row would turn the range into an equality.
        same = sorted(r[index[column]] for r in rows
                      if all(r[index[c]] == anchor[index[c]] for c in eq))
        within = _window(same, value, _TUNING.range_share_within)
        low, high = min(low, within[0]), max(high, within[1])
    return low, high


def _window(values: list[Any], centre_value: Any, share: float) -> tuple[Any, Any]:
    """About `share` of the sorted `values`, around `centre_value`."""
    width = max(1, int(len(values) * share))
    centre = values.index(centre_value)
    low = max(0, min(centre - width // 2, len(values) - 1 - width))
    high = min(len(values) - 1, low + width)
    return values[low], values[high]
