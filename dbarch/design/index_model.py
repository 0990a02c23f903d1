"""The index designer's working data: candidates, sort estimates and order breaks.

A Candidate is an index while it is being designed, with the queries it serves; a
SortEstimate and an OrderBreak say what happens when an index cannot return a query's rows
in ORDER BY order. They are separate from the steps that make and merge them
(`index_keys`, `index_order`, `indexes`) because every one of those steps reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.schema.model import AccessQuery, FilterOp, IndexColumn, IndexMethod

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


# How each filter reads in the one-line SQL shape of a query (reasons and rewrites quote it).
FILTER_SQL = {
    FilterOp.eq: "= ?",
    FilterOp.in_: "IN (...)",
    FilterOp.range: "BETWEEN ? AND ?",
    FilterOp.prefix: "LIKE 'abc%'",
    FilterOp.text: "matches words",
}
