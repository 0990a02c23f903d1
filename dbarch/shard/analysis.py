"""Judge and rank candidate shard keys from their statistics and the workload's routes.

Pure: every figure comes in as KeyStats (SQL aggregates) and Routes (the workload read against
the key). A key scores on four factors, each in 0..1 and multiplied: how evenly rows (and new
rows) spread over the shards (mean/max), how evenly the workload's traffic does, the share of
the workload that stays on one shard, and whether the key has values enough to scale out. The
strategy (hash or range) is the one that scores higher for the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbarch.shard.model import (
    HASH,
    MULTI,
    RANGE,
    SINGLE,
    Distribution,
    KeyReport,
    KeyStats,
    Route,
)

ValueShards = Mapping[tuple[str, ...], tuple[int, int, int]]  # value → (rows, hash, range)


@dataclass(frozen=True)
class Settings:
    """The judgement's knobs, from dbarch/shard/data/shard.yaml and the command line."""

    shards: int
    monotonic_correlation: float
    hot_shard_ratio: float
    min_values_per_shard: int
    weights: Mapping[str, float]
    range_margin: float = 1.25

    @classmethod
    def load(cls, shards: int, data: Mapping[str, Any]) -> Settings:
        """Settings from the data file's figures, for `shards` shards."""
        thresholds = data["thresholds"]
        return cls(shards=shards, monotonic_correlation=float(data["monotonic_correlation"]),
                   hot_shard_ratio=float(thresholds["hot_shard_ratio"]),
                   min_values_per_shard=int(thresholds["min_values_per_shard"]),
                   weights=dict(data["weights"]),
                   range_margin=float(thresholds["range_margin"]))


def max_to_mean(loads: Sequence[float]) -> float:
    """The fullest shard's load over the mean load (1 is perfectly even; N is all on one)."""
    total = sum(loads)
    if not loads or total <= 0:
        return 1.0
    return max(loads) / (total / len(loads))


def monotonicity(stats: KeyStats, threshold: float) -> str:
    """MongoDB's monotonicity.type: monotonic when |correlation| reaches the threshold."""
    if stats.correlation is None:
        return "unknown"
    return "monotonic" if abs(stats.correlation) >= threshold else "not monotonic"


def distribution(routes: Sequence[Route], strategy: str) -> Distribution:
    """Percentages of the routes' weight that are single-shard, multi-shard, scatter-gather."""
    total = sum(r.weight for r in routes)
    out = Distribution()
    if total <= 0:
        return out
    for r in routes:
        kind = r.hash if strategy == HASH else r.range
        share = 100.0 * r.weight / total
        if kind == SINGLE:
            out.single += share
        elif kind == MULTI:
            out.multi += share
        else:
            out.scatter += share
    return out


def traffic(routes: Sequence[Route], stats: KeyStats, values: ValueShards,
            strategy: str) -> list[float] | None:
    """The workload's rows touched per shard under `strategy`, or None without a workload.

    A query naming literal key values adds its weight times each value's rows to that value's
    shard. A query whose value is a parameter, or that reaches every shard, is assumed to pick
    values the way the data holds them (uniformly over the distinct values): it adds its weight
    times the shard's rows over the number of distinct values, to every shard.
    """
    per_route = traffic_by_route(routes, stats, values, strategy)
    if not per_route:
        return None
    return [sum(loads) for loads in zip(*per_route.values(), strict=True)]


def traffic_by_route(routes: Sequence[Route], stats: KeyStats, values: ValueShards,
                     strategy: str) -> dict[str, list[float]]:
    """Each route's (by label) rows touched per shard, as `traffic` sums them."""
    buckets = stats.hash_buckets if strategy == HASH else stats.range_buckets
    distinct = max(stats.distinct, 1)
    out: dict[str, list[float]] = {}
    for r in routes:
        load = out.setdefault(r.label, [0.0] * len(buckets))
        known = [values[v] for v in r.values if v in values]
        if known and not r.parameterized:
            for rows, hashed, ranged in known:
                load[hashed if strategy == HASH else ranged] += r.weight * max(rows, 1)
            continue
        for shard, rows in enumerate(buckets):
            load[shard] += r.weight * rows / distinct
    return out


def busiest(routes: Sequence[Route], stats: KeyStats, values: ValueShards,
            strategy: str) -> tuple[str, float] | None:
    """The query that loads the busiest shard most, and its share of that shard's load."""
    per_route = traffic_by_route(routes, stats, values, strategy)
    if not per_route:
        return None
    totals = [sum(loads) for loads in zip(*per_route.values(), strict=True)]
    shard = max(range(len(totals)), key=lambda i: totals[i])
    if totals[shard] <= 0:
        return None
    label = max(per_route, key=lambda k: per_route[k][shard])
    return label, per_route[label][shard] / totals[shard]


def judge(columns: tuple[str, ...], origin: list[str], stats: KeyStats, routes: list[Route],
          values: ValueShards, colocated: dict[str, list[str]], settings: Settings) -> KeyReport:
    """One key's report: metrics per strategy, the better strategy, score, reasons, warnings."""
    n = settings.shards
    load = {HASH: max_to_mean(stats.hash_buckets), RANGE: max_to_mean(stats.range_buckets)}
    mono = monotonicity(stats, settings.monotonic_correlation)
    newest = stats.newest_in_last_range
    insert_load = {HASH: load[HASH],
                   RANGE: max(1.0, newest * n) if newest is not None else load[RANGE]}
    reads = [r for r in routes if r.kind == "select"]
    writes = [r for r in routes if r.kind != "select"]
    flows = {s: traffic(routes, stats, values, s) for s in (HASH, RANGE)}
    traffic_ratio = {s: (max_to_mean(f) if f is not None else None) for s, f in flows.items()}
    both = {s: distribution(routes, s) for s in (HASH, RANGE)}
    cardinality = min(1.0, stats.distinct / (settings.min_values_per_shard * n))
    w = settings.weights

    def score(strategy: str) -> float:
        balance = 1.0 / max(load[strategy], insert_load[strategy])
        flow = traffic_ratio[strategy]
        spread = 1.0 / flow if flow else 1.0
        d = both[strategy]
        locality = (d.single + 0.5 * d.multi) / 100.0 if routes else 1.0
        return (balance ** w["balance"] * spread ** w["traffic"]
                * max(locality, 0.01) ** w["locality"] * cardinality ** w["cardinality"])

    scores = {s: score(s) for s in (HASH, RANGE)}
    # Ranges cut at today's quantiles are even by construction and drift as data arrives
    # (splits, rebalancing); hashing stays even unattended, so ranges must win clearly.
    strategy = RANGE if scores[RANGE] > scores[HASH] * settings.range_margin else HASH
    report = KeyReport(
        columns=columns, origin=origin, stats=stats, monotonicity=mono, strategy=strategy,
        load=load, insert_load=insert_load, traffic=traffic_ratio,
        reads={s: distribution(reads, s) for s in (HASH, RANGE)},
        writes={s: distribution(writes, s) for s in (HASH, RANGE)},
        routes=routes, colocated=colocated, score=scores[strategy])
    _explain(report, settings, both[strategy], cardinality,
             busiest(routes, stats, values, strategy))
    return report


def rank(reports: list[KeyReport]) -> list[KeyReport]:
    """Best first: the score, then more distinct values, then the name (stable output)."""
    return sorted(reports, key=lambda r: (-round(r.score, 9), -r.stats.distinct, r.name))


def _explain(r: KeyReport, settings: Settings, shares: Distribution, cardinality: float,
             culprit: tuple[str, float] | None) -> None:
    """The reasons (what is good) and warnings (what breaks) behind a key's score."""
    n = settings.shards
    stats = r.stats
    hot = settings.hot_shard_ratio
    rows = max(stats.rows_read - stats.nulls, 1)
    where = " (in the sample)" if stats.sampled else ""
    if stats.most_common:
        value, count = stats.most_common[0]
        share = count / rows
        if share * n > hot:
            r.warnings.append(
                f"skewed: the most common value {value!r} holds {share:.1%} of the rows{where}, "
                f"{share * n:.1f}× one shard's fair share at {n} shards; no strategy splits a "
                "value, so its shard carries at least that, and adding shards does not help")
    if cardinality < 1.0:
        r.warnings.append(
            f"low cardinality: {stats.distinct:,} distinct values{where}, fewer than "
            f"{settings.min_values_per_shard} per shard at {n} shards: the key caps how far the "
            "data can spread")
    else:
        r.reasons.append(f"{stats.distinct:,} distinct values{where}, enough for {n} shards")
    if stats.nulls:
        r.warnings.append(f"{stats.nulls:,} rows{where} have a NULL key: they all land on one "
                          "shard (and Citus refuses NULL distribution values on insert)")
    chosen = r.load[r.strategy]
    how = "hashed" if r.strategy == HASH else "cut into ranges"
    if chosen > hot:
        r.warnings.append(f"hot shard: {how} over {n} shards, the fullest holds "
                          f"{chosen:.2f}× the mean rows")
    else:
        r.reasons.append(f"{how} over {n} shards, the rows spread evenly (fullest "
                         f"shard {chosen:.2f}× the mean)")
    if r.monotonicity == "monotonic":
        newest = stats.newest_in_last_range
        tail = f" ({newest:.0%} of the newest rows fall in the last of {n} ranges)" \
            if newest is not None else ""
        text = (f"monotonic (correlation {stats.correlation:.2f} with {stats.order_by}): "
                f"range sharding sends every insert to the last shard{tail}, "
                f"{r.insert_load[RANGE]:.1f}× the mean")
        if r.strategy == RANGE:
            r.warnings.append(text)
        else:
            r.reasons.append(text + "; hashed instead, inserts spread")
    elif r.monotonicity == "not monotonic":
        r.reasons.append(f"not monotonic (correlation {stats.correlation:.2f} with "
                         f"{stats.order_by}): inserts spread under range sharding too")
    if r.routes:
        r.reasons.append(
            f"workload ({r.strategy}): {shares.single:.1f}% of the weight single-shard, "
            f"{shares.multi:.1f}% multi-shard, {shares.scatter:.1f}% scatter-gather")
        flow = r.traffic.get(r.strategy)
        if flow is not None and flow > hot:
            text = (f"hot traffic: the busiest shard serves {flow:.2f}× the mean of the "
                    "workload's rows")
            if culprit is not None:
                route = next(x for x in r.routes if x.label == culprit[0])
                named = ", ".join("/".join(v) for v in route.values[:3])
                text += (f", {culprit[1]:.0%} of it from {culprit[0]}"
                         + (f" (key {named}, as written in the workload)" if named
                            and not route.parameterized else ""))
            r.warnings.append(text)
        if shares.scatter > 50.0:
            r.warnings.append(f"{shares.scatter:.1f}% of the workload's weight would be "
                              "scatter-gather: most queries do not name the key")
    if len(r.colocated) > 1:
        others = sorted(t for t in r.colocated if t != next(iter(r.colocated)))
        r.reasons.append(f"co-locates {', '.join(others)} (joins on the key stay on one shard)")
