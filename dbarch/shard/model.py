"""What `dbarch shard` measures and concludes, as plain data.

The engine (dbarch/engines/shard_stats.py) fills `TableFacts` and `KeyStats` from SQL
aggregates; the pure analysis (dbarch/shard/analysis.py) turns them, with the workload's routes,
into ranked `KeyReport`s. Names follow MongoDB's analyzeShardKey where the two overlap
(numDistinctValues, mostCommonValues, monotonicity, percentageOfSingleShardReads …) so a user
can hold the figures side by side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dbarch.schema.model import Table

SINGLE, MULTI, SCATTER = "single", "multi", "scatter"
HASH, RANGE = "hash", "range"


@dataclass
class TableFacts:
    """One table of the sharded table's schema: its model, size and how it is used."""

    table: Table  # columns, primary key, foreign keys (dbarch.schema.model)
    qualified: str  # schema.table as the catalog names it
    rows: int
    bytes: int
    reads: int = 0  # tuples read since the statistics reset (seq_tup_read + idx_tup_fetch)
    writes: int = 0  # tuples inserted, updated and deleted since then


@dataclass
class KeyStats:
    """One candidate key's statistics, computed in the database.

    `rows_read` is how many rows the aggregates read: all of them, or a TABLESAMPLE SYSTEM
    sample when `sampled` (then counts are of the sample; shares are what compare).
    `most_common` is MongoDB's mostCommonValues: (value as text, frequency in rows read).
    `correlation` is the correlation of the key's rank with insertion order (`order_by`: a time
    column, else the physical row position), MongoDB's recordIdCorrelationCoefficient.
    `hash_buckets`/`range_buckets` are the rows on each of the N simulated shards, hashing the
    key (abs(hashtext(key::text)) % N) or cutting its leading column at its N-quantiles
    (`range_bounds`). `newest_in_last_range` is the share of the newest 1/N of the rows that
    falls into the last range: the shard every insert hits when the key is monotonic.
    """

    columns: tuple[str, ...]
    rows_read: int
    sampled: bool
    sample_percent: float | None
    distinct: int
    nulls: int
    most_common: list[tuple[str, int]]
    correlation: float | None
    order_by: str
    hash_buckets: list[int]
    range_buckets: list[int]
    range_bounds: list[str]
    newest_in_last_range: float | None


@dataclass
class Route:
    """Where one workload query goes under a key: single shard, a few (multi) or all
    (scatter-gather), for each strategy, and the literal key values it names (for traffic)."""

    label: str
    weight: float
    kind: str  # select, insert, update, delete
    hash: str
    range: str
    values: list[tuple[str, ...]] = field(default_factory=list)
    parameterized: bool = False  # the key is compared with $n: its value is not known
    why: str = ""


@dataclass
class Distribution:
    """MongoDB's readDistribution / writeDistribution for one strategy: percentages of the
    workload's weight."""

    single: float = 0.0
    multi: float = 0.0
    scatter: float = 0.0

    def as_dict(self, what: str) -> dict[str, float]:
        """The percentages under analyzeShardKey's names (`what`: Reads or Writes)."""
        return {f"percentageOfSingleShard{what}": round(self.single, 2),
                f"percentageOfMultiShard{what}": round(self.multi, 2),
                f"percentageOfScatterGather{what}": round(self.scatter, 2)}


@dataclass
class KeyReport:
    """One candidate key, judged: its metrics, the strategy that suits it, the tables that
    co-locate with it, its score and the reasons behind it."""

    columns: tuple[str, ...]
    origin: list[str]
    stats: KeyStats
    monotonicity: str  # monotonic, not monotonic, unknown (MongoDB's monotonicity.type)
    strategy: str  # hash or range
    load: dict[str, float]  # strategy → max/mean rows per shard
    insert_load: dict[str, float]  # strategy → max/mean of new rows per shard
    traffic: dict[str, float | None]  # strategy → max/mean workload traffic per shard
    reads: dict[str, Distribution]
    writes: dict[str, Distribution]
    routes: list[Route]
    colocated: dict[str, list[str]]  # table → its columns that carry the key
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The key as written on the command line: `a` or `a,b`."""
        return ",".join(self.columns)

    def as_dict(self) -> dict[str, Any]:
        """The key's report for `--format json`, with analyzeShardKey's metric names."""
        stats = self.stats
        rows = max(stats.rows_read, 1)
        return {
            "key": list(self.columns),
            "origin": self.origin,
            "score": round(self.score, 4),
            "strategy": self.strategy,
            "keyCharacteristics": {
                "numDocsSampled": stats.rows_read,
                "sampled": stats.sampled,
                "samplePercent": stats.sample_percent,
                "numDistinctValues": stats.distinct,
                "isUnique": stats.distinct == stats.rows_read - stats.nulls and stats.nulls == 0,
                "numNulls": stats.nulls,
                "mostCommonValues": [{"value": v, "frequency": n, "share": round(n / rows, 4)}
                                     for v, n in stats.most_common],
                "monotonicity": {"recordIdCorrelationCoefficient":
                                 None if stats.correlation is None
                                 else round(stats.correlation, 4),
                                 "type": self.monotonicity, "insertionOrder": stats.order_by},
            },
            "shards": {
                HASH: {"rows": stats.hash_buckets, "maxToMean": round(self.load[HASH], 3),
                       "insertMaxToMean": round(self.insert_load[HASH], 3),
                       "trafficMaxToMean": _round(self.traffic.get(HASH))},
                RANGE: {"rows": stats.range_buckets, "bounds": stats.range_bounds,
                        "maxToMean": round(self.load[RANGE], 3),
                        "insertMaxToMean": round(self.insert_load[RANGE], 3),
                        "newestInLastRange": _round(stats.newest_in_last_range),
                        "trafficMaxToMean": _round(self.traffic.get(RANGE))},
            },
            "readDistribution": {s: d.as_dict("Reads") for s, d in self.reads.items()},
            "writeDistribution": {s: d.as_dict("Writes") for s, d in self.writes.items()},
            "routes": [asdict(r) for r in self.routes],
            "colocated": self.colocated,
            "reasons": self.reasons,
            "warnings": self.warnings,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass
class ShardReport:
    """What `dbarch shard` prints: the table, the ranked keys, the tables around them and the
    configuration for the best key."""

    table: str
    rows: int
    shards: int
    keys: list[KeyReport]
    reference: list[str] = field(default_factory=list)
    reference_why: dict[str, str] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)  # table → why it is neither
    config: dict[str, str] = field(default_factory=dict)  # citus, vitess, mongodb → text
    workload: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def best(self) -> KeyReport | None:
        """The recommended key: the highest score."""
        return self.keys[0] if self.keys else None

    def as_dict(self) -> dict[str, Any]:
        """The report for `--format json`."""
        return {
            "table": self.table, "rows": self.rows, "shards": self.shards,
            "workload": self.workload,
            "recommended": self.best.name if self.best else None,
            "keys": [k.as_dict() for k in self.keys],
            "referenceTables": [{"table": t, "why": self.reference_why.get(t, "")}
                                for t in self.reference],
            "otherTables": self.other,
            "config": self.config,
            "notices": self.notices,
        }
