"""Index selection on a table-driven cost oracle (the what-if oracle's answers written out),
so the search itself is tested without a server; tests/test_advisor_pg.py runs it on HypoPG."""

from __future__ import annotations

from collections.abc import Iterable

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.oracle import Estimate
from dbarch.advisor.query import Query
from dbarch.advisor.select import Limits, Workload, Write, select

A = IndexCandidate("public.t", ("a",))
AB = IndexCandidate("public.t", ("a", "b"))
C = IndexCandidate("public.t", ("c",))
U = IndexCandidate("public.u", ("x",))
Q1 = Query("SELECT * FROM t WHERE a = 1", "q1", weight=10, tables=("t",))
Q2 = Query("SELECT * FROM t WHERE a = 1 AND b = 2", "q2", weight=10, tables=("t",))
Q3 = Query("SELECT * FROM u WHERE x = 1", "q3", weight=1, tables=("u",))

# query → list of (index, cost when the plan uses that index); the plan takes the cheapest
PLANS: dict[str, list[tuple[IndexCandidate, float]]] = {
    "q1": [(A, 10.0), (AB, 10.05)],  # A adds 0.3% once AB is in: not worth it
    "q2": [(A, 20.0), (AB, 5.0)],
    "q3": [(U, 50.0)],
}
BASE = {"q1": 100.0, "q2": 100.0, "q3": 100.0}


class TableOracle:
    """Costs from PLANS: the cheapest usable index, else the base cost."""

    def __init__(self, sizes: dict[IndexCandidate, int] | None = None,
                 plans: dict[str, list[tuple[IndexCandidate, float]]] | None = None) -> None:
        self.calls = 0
        self.seen: set[tuple[str, tuple[IndexCandidate, ...]]] = set()
        self.sizes = sizes or {}
        self.plans = plans or PLANS

    def estimate(self, query: Query, config: Iterable[IndexCandidate]) -> Estimate:
        key = (query.fingerprint, tuple(sorted(config)))
        if key not in self.seen:
            self.seen.add(key)
            self.calls += 1
        options = [(cost, index) for index, cost in self.plans.get(query.fingerprint, [])
                   if index in key[1]]
        if not options:
            return Estimate(BASE[query.fingerprint], frozenset())
        cost, index = min(options)
        return Estimate(cost, frozenset({index}))

    def size(self, candidate: IndexCandidate) -> int:
        return self.sizes.get(candidate, 1000)


def _select(oracle: TableOracle, queries: list[Query], pool: list[IndexCandidate],
            writes: list[Write] | None = None, **limits: int) -> list[IndexCandidate]:
    return select(Workload(queries, oracle, writes or []), pool, Limits(**limits)).chosen


def test_one_composite_serves_both_queries_instead_of_two_indexes() -> None:
    chosen = _select(TableOracle(), [Q1, Q2], [A, AB, C])
    assert chosen == [AB]


def test_an_index_no_plan_uses_is_rejected_with_its_reason() -> None:
    result = select(Workload([Q1], TableOracle(), []), [A, C], Limits())
    assert result.chosen == [A]
    assert "uses it for no query" in result.rejected[C]


def test_the_budget_keeps_a_big_index_out() -> None:
    oracle = TableOracle(sizes={A: 100, AB: 10_000})
    assert _select(oracle, [Q1, Q2], [A, AB], budget=5_000) == [A]
    # unbounded, both: A is best for q1, AB for q2, and together they cost least
    assert set(_select(TableOracle(sizes={A: 100, AB: 10_000}), [Q1, Q2], [A, AB])) == {A, AB}


def test_the_count_limit_takes_the_best_first() -> None:
    chosen = _select(TableOracle(), [Q1, Q2, Q3], [A, AB, U], max_indexes=1)
    assert chosen == [AB]  # 10*(95)+10*(88) beats 1*50
    assert set(_select(TableOracle(), [Q1, Q2, Q3], [A, AB, U])) == {AB, U}


def test_writes_that_change_the_column_make_an_index_not_worth_it() -> None:
    heavy = [Write("u", "update", weight=100, rows=1, columns=frozenset({"x"}))]
    assert _select(TableOracle(), [Q3], [U], heavy) == []
    hot = [Write("u", "update", weight=100, rows=1, columns=frozenset({"other"}))]
    assert _select(TableOracle(), [Q3], [U], hot) == [U]  # HOT updates: no index entry


def test_costs_before_and_after_and_what_each_index_serves() -> None:
    result = select(Workload([Q1, Q2, Q3], TableOracle(), []), [A, AB, U], Limits())
    assert result.before == {"q1": 100.0, "q2": 100.0, "q3": 100.0}
    assert result.after == {"q1": 10.05, "q2": 5.0, "q3": 50.0}
    assert result.serves[AB] == ["q1", "q2"] and result.serves[U] == ["q3"]


def test_a_chosen_index_that_a_later_one_replaces_is_pruned() -> None:
    # per byte, A is picked first (cheap), then AB for q2; with AB in place q1's plan also
    # prefers AB (cost 9 < 10 here), so A serves nothing and goes.
    plans = {"q1": [(A, 10.0), (AB, 9.0)], "q2": [(A, 20.0), (AB, 5.0)]}
    oracle = TableOracle(sizes={A: 10, AB: 11}, plans=plans)
    assert _select(oracle, [Q1, Q2], [A, AB]) == [AB]


def test_what_if_calls_stay_few_thanks_to_the_cache() -> None:
    oracle = TableOracle()
    _select(oracle, [Q1, Q2, Q3], [A, AB, C, U])
    assert oracle.calls <= 20


