"""The index advisor on a TPC-H-shaped workload: how close to optimal, how many what-if calls,
how long, against the baselines, in one run.

    python bench/index_advisor.py --scale 0.1            # load SF 0.1 once, then advise
    python bench/index_advisor.py --scale 1 --skip-optimum

Loads the eight TPC-H tables at the scale factor given (bench/tpch/generate.py, inside
PostgreSQL; skipped when already loaded) into schema tpch_sf<scale>, with primary keys and no
other index, and the 22 query templates with parameters substituted (bench/tpch/workload.py).
Then, on the local PostgreSQL with HypoPG, for storage budgets of 0.25x, 0.5x, 1x and 2x the
size of the data (plus tighter ones where a budget actually binds: 1%, 2%, 5%, 10%):

- **dbarch**: `dbarch.advisor.advise` as `dbarch indexes` runs it, with a fresh what-if
  session per budget, so each row's what-if calls and runtime are its own;
- **no index**: the workload as it stands (relative cost 1 by definition);
- **one index per predicate column**: every single-column candidate the generator finds (the
  rule of thumb "index what you filter on"), all of them, whatever the budget: its size is
  printed so the reader sees when it would not fit;
- **exact optimum**, on a reduced workload small enough to enumerate: the queries with the
  fewest candidates, and the candidates that are best alone, capped so that every subset can be
  priced; every subset within the budget is priced with what-if calls and the cheapest wins.
  dbarch's search runs on the same reduced workload and candidates, so the gap is the search's
  alone.

Relative cost = the workload's planner cost (weighted sum of every query's total cost) with
the recommended indexes, divided by its cost with none. Goals from the issue: within 5% of the
optimum's relative cost wherever the optimum is computed, and the full recommendation at scale
factor 1 in under 60 s. A benchmark, not a test: it prints, and its exit code says only whether
it ran (0) or could not (2).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tpch import generate as tpch
from bench.tpch import workload as tpch_workload
from dbarch.advisor.advise import advise, writes_of
from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.candidates import generate
from dbarch.advisor.query import Query
from dbarch.advisor.select import Limits, Workload, select
from dbarch.advisor.workload import read_workload_file
from dbarch.engines.index_catalog import fetch_indexes
from dbarch.engines.introspect import introspect
from dbarch.engines.whatif import HypoPGOracle

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
BUDGETS = [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0]
GAP_GOAL = 0.05
SF1_SECONDS_GOAL = 60.0


@dataclass
class Row:
    budget: str
    method: str
    relative: float
    indexes: int
    size: int
    calls: int | str
    seconds: float
    note: str = ""


def _url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


def _cost(workload: Workload, config: list[IndexCandidate]) -> float:
    return sum(q.weight * workload.estimate(q, config).cost for q in workload.queries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reduced-queries", type=int, default=8)
    parser.add_argument("--reduced-pool", type=int, default=12)
    parser.add_argument("--skip-optimum", action="store_true")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    stats = tpch.load(args.url, args.scale, seed=args.seed, progress=say)
    schema = tpch.default_schema(args.scale)
    url = _url(args.url, schema)
    data_bytes = sum(row["table_bytes"] for row in stats.values())
    with tempfile.TemporaryDirectory() as tmp:
        path = tpch_workload.write_workload(Path(tmp) / "tpch.sql", args.seed, scale=args.scale)
        read = read_workload_file(path)
    tables = {f"{schema}.{t.name}": t for t in introspect(url).schema.tables}
    existing = [i for i in fetch_indexes(url) if i.table.startswith(f"{schema}.")]

    def candidates(queries: list[Query]) -> dict[str, list[IndexCandidate]]:
        return generate(queries, tables, search_path=(schema,))

    rows: list[Row] = []
    with HypoPGOracle.connect(url) as oracle:
        queries, problems = oracle.screen(read.queries)
    for problem in problems:
        say(f"left out: {problem}")
    say(f"{len(queries)} queries, data {data_bytes / 2**20:.0f} MiB")

    # dbarch at each budget, each in its own what-if session
    full_seconds = 0.0
    for fraction in BUDGETS:
        with HypoPGOracle.connect(url) as oracle:
            started = time.perf_counter()
            advice = advise(queries, candidates, oracle, Limits(budget=int(fraction * data_bytes)),
                            existing)
            seconds = time.perf_counter() - started
        if fraction == 1.0:
            full_seconds = seconds
        rows.append(Row(f"{fraction:g}x", "dbarch", advice.relative_cost,
                        len(advice.recommendations), advice.size_bytes, advice.whatif_calls,
                        seconds))
        say(f"budget {fraction:g}x: {advice.relative_cost:.3f} in {seconds:.1f}s")

    # baselines: none, and one index per predicate column
    with HypoPGOracle.connect(url) as oracle:
        workload = Workload(queries, oracle, writes_of(queries))
        base = _cost(workload, [])
        singles = sorted({c for found in candidates(queries).values() for c in found
                          if len(c.keys) == 1 and not c.include and c.where is None
                          and " " not in c.keys[0] and not c.keys[0].startswith("(")})
        started = time.perf_counter()
        single_cost = _cost(workload, singles)
        single_size = sum(oracle.size(c) for c in singles)
        rows.append(Row("any", "no index", 1.0, 0, 0, 0, 0.0))
        rows.append(Row("any", "one per predicate column", single_cost / base, len(singles),
                        single_size, oracle.calls, time.perf_counter() - started,
                        f"needs {single_size / data_bytes:.2f}x"))

    gaps: list[float] = []
    if not args.skip_optimum:
        gaps = _optimum(url, queries, candidates, data_bytes, args, rows, say)

    print(f"index advisor: TPC-H-shaped, scale factor {args.scale:g} ({data_bytes / 2**20:.0f} "
          f"MiB of tables), {len(queries)} queries; relative cost = planner cost with the "
          "indexes / with none")
    print()
    header = (f"{'budget':>7} {'method':<30} {'rel. cost':>9} {'indexes':>7} {'MiB':>8} "
              f"{'what-if':>8} {'seconds':>8}  note")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.budget:>7} {row.method:<30} {row.relative:>9.4f} {row.indexes:>7} "
              f"{row.size / 2**20:>8.1f} {row.calls!s:>8} {row.seconds:>8.1f}  {row.note}")
    print()
    if gaps:
        worst = max(gaps)
        print(f"goal: within {GAP_GOAL:.0%} of the optimum wherever computed: worst gap "
              f"{worst:.1%} — {'met' if worst <= GAP_GOAL else 'NOT met'}")
    if args.scale >= 1:
        print(f"goal: full recommendation at SF{args.scale:g} under {SF1_SECONDS_GOAL:.0f}s: "
              f"{full_seconds:.1f}s at budget 1x — "
              f"{'met' if full_seconds < SF1_SECONDS_GOAL else 'NOT met'}")
    else:
        print(f"(the 60 s goal is for scale factor 1: run with --scale 1; here 1x took "
              f"{full_seconds:.1f}s)")
    return 0


def _optimum(url: str, queries: list[Query], candidates, data_bytes: int,  # type: ignore[no-untyped-def]
             args: argparse.Namespace, rows: list[Row], say) -> list[float]:
    """Exact optimum by enumeration on a reduced workload; dbarch on the same; the gaps."""
    by_query = candidates(queries)
    reads = [q for q in queries if not q.is_write and by_query.get(q.fingerprint)]
    reduced = sorted(reads, key=lambda q: (len(by_query[q.fingerprint]), q.label))
    reduced = reduced[: args.reduced_queries]
    gaps = []
    with HypoPGOracle.connect(url) as oracle:
        workload = Workload(reduced, oracle, writes_of(reduced))
        base = _cost(workload, [])
        # the candidates best alone, capped so that 2^pool subsets can be priced
        alone = []
        for candidate in {c for q in reduced for c in by_query[q.fingerprint]}:
            gain = base - _cost(workload, [candidate])
            if gain > 0:
                alone.append((gain, candidate))
        pool = [c for _, c in sorted(alone, key=lambda p: (-p[0], p[1]))[: args.reduced_pool]]
        sizes = {c: oracle.size(c) for c in pool}
        say(f"optimum: {len(reduced)} queries ({', '.join(q.label for q in reduced)}), "
            f"{len(pool)} candidates, {2 ** len(pool)} subsets")
        started = time.perf_counter()
        priced = []
        for count in range(len(pool) + 1):
            for subset in itertools.combinations(pool, count):
                priced.append((sum(sizes[c] for c in subset), _cost(workload, list(subset)),
                               subset))
        enumerate_seconds = time.perf_counter() - started
        enumerate_calls = oracle.calls
    for fraction in BUDGETS:
        budget = int(fraction * data_bytes)
        best = min((cost, size, subset) for size, cost, subset in priced if size <= budget)
        optimum = best[0] / base
        with HypoPGOracle.connect(url) as fresh:
            started = time.perf_counter()
            chosen = select(Workload(reduced, fresh, writes_of(reduced)), pool,
                            Limits(budget=budget))
            seconds = time.perf_counter() - started
            ours = _cost(Workload(reduced, fresh, writes_of(reduced)), chosen.chosen) / base
        gap = (ours - optimum) / optimum if optimum else 0.0
        gaps.append(gap)
        rows.append(Row(f"{fraction:g}x", "reduced: exact optimum", optimum, len(best[2]),
                        best[1], enumerate_calls, enumerate_seconds))
        rows.append(Row(f"{fraction:g}x", "reduced: dbarch", ours, len(chosen.chosen),
                        sum(chosen.sizes.values()), fresh.calls, seconds, f"gap {gap:+.1%}"))
    return gaps


if __name__ == "__main__":
    sys.exit(main())
