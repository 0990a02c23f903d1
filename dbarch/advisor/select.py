"""Choosing indexes under a storage budget and a count limit, with index interaction.

A greedy search over what-if costs, the approach of the published advisors that come closest
to the optimum for their effort (DB2 Advisor's benefit per byte, and Extend's re-evaluation of
every candidate against the configuration chosen so far). Each round, every remaining candidate
is priced against the indexes already chosen, not alone: once an index on (customer_id) is in,
a candidate on (customer_id, created_at) is worth only what it adds. The gain of a candidate is
the weighted drop in the planner cost of the queries on its table, minus what it costs the
workload's writes to maintain it; below 1% of the workload's cost as the indexes chosen before
it leave it (data/costs.yaml), an index is not worth its space. Two greedy passes run, one
ranking by gain per byte (the better choice under a tight budget) and one by gain alone; the
cheaper configuration wins. A
final pass removes any chosen index that no query plan reads any more, so nothing is
recommended that the planner would not use.

The oracle caches by (query, the chosen indexes on the query's tables), so a round costs a
what-if call only for the queries on the table a candidate is for.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.oracle import CandidateRefused, CostOracle, Estimate
from dbarch.advisor.query import Query
from dbarch.data_files import package_data


def cost_data() -> dict[str, Any]:
    """dbarch/advisor/data/costs.yaml: index maintenance costs per written row."""
    return package_data("dbarch.advisor", "costs.yaml")


@dataclass(frozen=True)
class Write:
    """A write of the workload, as far as index maintenance is concerned."""

    table: str
    kind: str  # insert | update | delete
    weight: float
    rows: float = 1.0
    columns: frozenset[str] = frozenset()  # for an UPDATE: the columns it sets


@dataclass
class Limits:
    """What the chosen configuration may take: bytes on disk and number of indexes."""

    budget: int | None = None
    max_indexes: int | None = None


@dataclass
class Selection:
    """The chosen indexes with the costs that justify them."""

    chosen: list[IndexCandidate]
    sizes: dict[IndexCandidate, int]
    before: dict[str, float]  # query fingerprint → planner cost with no new index
    after: dict[str, float]  # … with the chosen ones
    serves: dict[IndexCandidate, list[str]] = field(default_factory=dict)  # fingerprints
    maintenance: dict[IndexCandidate, float] = field(default_factory=dict)
    rejected: dict[IndexCandidate, str] = field(default_factory=dict)  # why, for reports


class Workload:
    """Queries and writes with their weights, and the cost of a configuration over them."""

    def __init__(self, queries: list[Query], oracle: CostOracle, writes: list[Write]) -> None:
        self.queries = [q for q in queries if q.kind != "insert"]
        self.oracle = oracle
        self.writes = writes
        self._tables = {q.fingerprint: _bare_set(q.tables) for q in self.queries}

    def on_table(self, table: str) -> list[Query]:
        """The queries whose plans an index on `table` can change."""
        bare = _bare(table)
        return [q for q in self.queries if bare in self._tables[q.fingerprint]]

    def estimate(self, query: Query, config: Iterable[IndexCandidate]) -> Estimate:
        tables = self._tables[query.fingerprint]
        relevant = sorted(c for c in config if _bare(c.table) in tables)
        return self.oracle.estimate(query, relevant)

    def cost(self, config: Iterable[IndexCandidate]) -> float:
        chosen = list(config)
        return sum(q.weight * self.estimate(q, chosen).cost for q in self.queries) + sum(
            self.maintenance(c) for c in chosen)

    def maintenance(self, candidate: IndexCandidate) -> float:
        """What keeping `candidate` up to date costs the workload's writes, per period."""
        per_row = cost_data()["maintenance_per_row"]
        table = _bare(candidate.table)
        total = 0.0
        for write in self.writes:
            if write.table != table:
                continue
            if write.kind == "update" and not _touches(candidate, write.columns):
                continue  # a HOT update: no new index entry
            total += write.weight * write.rows * float(per_row.get(write.kind, 0.0))
        return total


def select(workload: Workload, candidates: Iterable[IndexCandidate], limits: Limits) -> Selection:
    """The configuration of `candidates` with the lowest workload cost found within `limits`."""
    pool = sorted(set(candidates))
    before = {q.fingerprint: workload.estimate(q, ()).cost for q in workload.queries}
    rejected: dict[IndexCandidate, str] = {}
    useful = []
    sizes: dict[IndexCandidate, int] = {}
    for candidate in pool:  # alone, does the planner use it at all?
        try:
            sizes[candidate] = workload.oracle.size(candidate)
            used = any(candidate in workload.estimate(q, [candidate]).used
                       for q in workload.on_table(candidate.table))
        except CandidateRefused as exc:
            rejected[candidate] = f"the planner cannot consider it: {exc.reason}"
            continue
        if used:
            useful.append(candidate)
        else:
            rejected[candidate] = "the planner uses it for no query of the workload"
    best: list[IndexCandidate] = []
    best_cost = workload.cost(best)
    for per_byte in (True, False):
        chosen = _greedy(workload, useful, sizes, limits, per_byte=per_byte)
        total = workload.cost(chosen)
        if total < best_cost - 1e-9:
            best, best_cost = chosen, total
    best = _prune(workload, best)
    after = {q.fingerprint: workload.estimate(q, best).cost for q in workload.queries}
    serves = {c: [q.fingerprint for q in workload.on_table(c.table)
                  if c in workload.estimate(q, best).used] for c in best}
    for candidate in useful:
        if candidate not in best:
            rejected[candidate] = "another choice served its queries better within the limits"
    return Selection(chosen=best, sizes={c: sizes[c] for c in best}, before=before, after=after,
                     serves=serves, maintenance={c: workload.maintenance(c) for c in best},
                     rejected=rejected)


def _greedy(workload: Workload, pool: list[IndexCandidate], sizes: dict[IndexCandidate, int],
            limits: Limits, *, per_byte: bool) -> list[IndexCandidate]:
    """Greedy selection, evaluated lazily: a candidate's gain only shrinks as other indexes
    join the configuration (they take over some of its queries), so a gain computed in an
    earlier round bounds its gain now. Candidates wait in a heap by that bound; only the top
    one is re-priced against the current configuration, and it is chosen when its fresh
    score still beats every other bound. The choices are the plain greedy's wherever gains do
    shrink, for a fraction of the what-if calls."""
    chosen: list[IndexCandidate] = []
    used_bytes = 0
    current = {q.fingerprint: workload.estimate(q, ()).cost for q in workload.queries}
    share = float(cost_data()["min_gain_share"])

    def gain_of(candidate: IndexCandidate) -> float:
        trial = [*chosen, candidate]
        gain = sum(q.weight * (current[q.fingerprint] - workload.estimate(q, trial).cost)
                   for q in workload.on_table(candidate.table))
        return gain - workload.maintenance(candidate)

    def score(candidate: IndexCandidate, gain: float) -> float:
        return gain / max(sizes[candidate], 1) if per_byte else gain

    heap: list[tuple[float, int, IndexCandidate]] = []
    for order, candidate in enumerate(pool):
        gain = gain_of(candidate)
        if gain > 0:
            heapq.heappush(heap, (-score(candidate, gain), order, candidate))
    priced_in = {c: 0 for _, _, c in heap}  # the round each bound was computed in
    while heap:
        if limits.max_indexes is not None and len(chosen) >= limits.max_indexes:
            break
        _, order, candidate = heapq.heappop(heap)
        if limits.budget is not None and used_bytes + sizes[candidate] > limits.budget:
            continue  # the budget only fills up: it will never fit
        if priced_in[candidate] != len(chosen):
            gain = gain_of(candidate)
            if gain > 0:
                priced_in[candidate] = len(chosen)
                heapq.heappush(heap, (-score(candidate, gain), order, candidate))
            continue
        # priced against the current configuration and still on top: take it, if it is
        # worth its space (measured against the workload as the chosen indexes leave it)
        gain = gain_of(candidate)  # cached: the same configuration as when priced
        floor = share * sum(q.weight * current[q.fingerprint] for q in workload.queries)
        if gain <= floor:
            continue
        chosen.append(candidate)
        used_bytes += sizes[candidate]
        for q in workload.on_table(candidate.table):
            current[q.fingerprint] = workload.estimate(q, chosen).cost
    return chosen


def _prune(workload: Workload, chosen: list[IndexCandidate]) -> list[IndexCandidate]:
    """Drop chosen indexes that no plan reads once the others exist (a later, wider index
    took over their queries), as long as the workload cost does not rise."""
    kept = list(chosen)
    changed = True
    while changed:
        changed = False
        for candidate in list(kept):
            if any(candidate in workload.estimate(q, kept).used
                   for q in workload.on_table(candidate.table)):
                continue
            without = [c for c in kept if c != candidate]
            if workload.cost(without) <= workload.cost(kept) + 1e-9:
                kept, changed = without, True
    return kept


def _bare(table: str) -> str:
    return table.rsplit(".", 1)[-1].strip('"').lower()


def _bare_set(tables: Iterable[str]) -> set[str]:
    return {_bare(t) for t in tables}


def _touches(candidate: IndexCandidate, columns: frozenset[str]) -> bool:
    if not columns:
        return True  # unknown: assume the update changes indexed columns
    named = {c.split(" ")[0].lower() for c in candidate.columns if not c.startswith("(")}
    named |= {c.lower() for c in candidate.include}
    expression = " ".join(c for c in candidate.columns if c.startswith("(")).lower()
    return bool(named & columns) or any(col in expression for col in columns)
