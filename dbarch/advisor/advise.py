"""The index advice for one workload: candidates → what-if selection → recommendations, plus
the existing indexes that can go.

Pure: the planner is reached through a `CostOracle`, the schema and the existing indexes come
in as values. `dbarch.api.indexes` wires it to a live PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.existing import DropCandidate, ExistingIndex, judge
from dbarch.advisor.oracle import CostOracle
from dbarch.advisor.query import Query
from dbarch.advisor.select import Limits, Selection, Workload, Write, select
from dbarch.errors import Problem

Generator = Callable[[list[Query]], dict[str, list[IndexCandidate]]]


@dataclass
class QueryCost:
    """One query's planner cost before and after the recommended indexes."""

    label: str
    fingerprint: str
    weight: float
    before: float
    after: float
    sql: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "weight": self.weight, "cost_before": round(self.before, 2),
                "cost_after": round(self.after, 2), "sql": self.sql}


@dataclass
class Recommendation:
    """An index to create, how big it is, and the queries whose plans read it."""

    candidate: IndexCandidate
    size_bytes: int
    queries: list[QueryCost]
    maintenance: float  # planner cost units the workload's writes pay to keep it

    @property
    def statement(self) -> str:
        return self.candidate.ddl() + ";"

    @property
    def gain(self) -> float:
        return sum(q.weight * (q.before - q.after) for q in self.queries)

    def as_dict(self) -> dict[str, object]:
        return {"statement": self.statement, "table": self.candidate.table,
                "keys": list(self.candidate.keys), "include": list(self.candidate.include),
                "where": self.candidate.where, "size_bytes": self.size_bytes,
                "write_cost": round(self.maintenance, 2),
                "queries": [q.as_dict() for q in self.queries]}


@dataclass
class Advice:
    """Everything `dbarch indexes` reports."""

    recommendations: list[Recommendation] = field(default_factory=list)
    drops: list[DropCandidate] = field(default_factory=list)
    queries: list[QueryCost] = field(default_factory=list)
    candidates: int = 0
    whatif_calls: int = 0
    limits: Limits = field(default_factory=Limits)
    problems: list[Problem] = field(default_factory=list)  # queries left out, and why
    rejected: int = 0

    @property
    def cost_before(self) -> float:
        return sum(q.weight * q.before for q in self.queries)

    @property
    def cost_after(self) -> float:
        return sum(q.weight * q.after for q in self.queries)

    @property
    def relative_cost(self) -> float:
        return self.cost_after / self.cost_before if self.cost_before else 1.0

    @property
    def size_bytes(self) -> int:
        return sum(r.size_bytes for r in self.recommendations)

    def as_dict(self) -> dict[str, object]:
        return {
            "recommendations": [r.as_dict() for r in self.recommendations],
            "drops": [d.as_dict() for d in self.drops],
            "workload": {"queries": len(self.queries), "cost_before": round(self.cost_before, 2),
                         "cost_after": round(self.cost_after, 2),
                         "relative_cost": round(self.relative_cost, 4)},
            "queries": [q.as_dict() for q in self.queries],
            "size_bytes": self.size_bytes,
            "budget_bytes": self.limits.budget,
            "max_indexes": self.limits.max_indexes,
            "candidates": self.candidates,
            "whatif_calls": self.whatif_calls,
            "notices": [p.as_dict() for p in self.problems],
        }


def advise(queries: list[Query], generate: Generator, oracle: CostOracle, limits: Limits,
           existing: Iterable[ExistingIndex] = ()) -> Advice:
    """Recommend indexes for `queries` (already screened: each one plans) within `limits`.

    `generate` gives each query's candidates (by fingerprint); candidates an existing index
    already serves are dropped before any what-if call.
    """
    existing = list(existing)
    by_query = generate(queries)
    pool = {c for found in by_query.values() for c in found if not _served(c, existing)}
    workload = Workload(queries, oracle, writes_of(queries))
    selection = select(workload, pool, limits)
    advice = _report(queries, selection, limits)
    advice.candidates = len(pool)
    advice.rejected = len(selection.rejected)
    # An index the workload's own plans read today is not unused, whatever the statistics say
    # (they may have been reset, or the workload may be new).
    in_use = {name for q in queries for name in oracle.estimate(q, ()).existing}
    advice.drops = judge(existing, in_use=in_use)
    advice.whatif_calls = oracle.calls
    return advice


def _report(queries: list[Query], selection: Selection, limits: Limits) -> Advice:
    costs = {q.fingerprint: QueryCost(q.label or q.fingerprint, q.fingerprint, q.weight,
                                      selection.before[q.fingerprint],
                                      selection.after[q.fingerprint], q.sql)
             for q in queries if q.fingerprint in selection.before}
    recommendations = [
        Recommendation(candidate, selection.sizes[candidate],
                       [costs[f] for f in selection.serves.get(candidate, [])],
                       selection.maintenance.get(candidate, 0.0))
        for candidate in selection.chosen
    ]
    recommendations.sort(key=lambda r: -r.gain)
    return Advice(recommendations=recommendations, queries=list(costs.values()), limits=limits)


def _served(candidate: IndexCandidate, existing: list[ExistingIndex]) -> bool:
    """Whether a valid existing B-tree already answers every lookup the candidate would."""
    if candidate.method != "btree":
        return False
    for index in existing:
        if (index.valid and index.method == "btree" and index.table == candidate.table
                and index.predicate == candidate.where
                and index.keys[: len(candidate.keys)] == candidate.keys
                and set(candidate.include) <= set(index.keys) | set(index.include)):
            return True
    return False


def writes_of(queries: Iterable[Query]) -> list[Write]:
    """The workload's writes as index maintenance sees them: table, rows, columns set."""
    writes = []
    for query in queries:
        if not query.is_write or not query.tables:
            continue
        table = query.tables[0].rsplit(".", 1)[-1].strip('"').lower()
        rows, columns = 1.0, frozenset[str]()
        try:
            stmt = parse_sql(query.sql)[0].stmt
        except Exception:  # the screen already planned it: keep the defaults
            stmt = None
        if isinstance(stmt, ast.InsertStmt):
            select_stmt = stmt.selectStmt
            values = getattr(select_stmt, "valuesLists", None)
            rows = float(len(values)) if values else 1.0
        elif isinstance(stmt, ast.UpdateStmt):
            columns = frozenset(t.name.lower() for t in stmt.targetList or () if t.name)
        writes.append(Write(table, query.kind, query.weight, rows, columns))
    return writes


@dataclass
class Validation:
    """The recommended indexes built for real, and the plans with them."""

    built: list[str] = field(default_factory=list)
    costs: dict[str, tuple[float, float]] = field(default_factory=dict)  # label → before, after
    unused: list[str] = field(default_factory=list)  # built, but no plan reads it
    problems: list[Problem] = field(default_factory=list)
    kept: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"built": self.built, "kept": self.kept, "unused": self.unused,
                "costs": {k: {"before": round(b, 2), "after": round(a, 2)}
                          for k, (b, a) in self.costs.items()},
                "notices": [p.as_dict() for p in self.problems]}


@dataclass
class IndexAdvice:
    """What `dbarch indexes` prints: the advice, how long it took, and the validation."""

    advice: Advice
    seconds: float
    source: str = ""
    validation: Validation | None = None

    def as_dict(self) -> dict[str, object]:
        data = {"source": self.source, "seconds": round(self.seconds, 2),
                **self.advice.as_dict()}
        if self.validation is not None:
            data["validation"] = self.validation.as_dict()
        return data
