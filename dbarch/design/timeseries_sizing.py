"""Time-series sizing: `dbarch/data/timeseries.yaml`, the ingest rate and its growth, and the
partition interval chosen from them.

Plain arithmetic over the spec and the data file, with no table or SQL in it; the partition
layout (`timeseries_partitions`) and the rollup tables (`timeseries_rollups`) both size their
partitions with `choose_interval`, so it sits below both.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design import partitioning
from dbarch.spec.model import PatternKind, Spec, WriteOp


@cache
def ts_data() -> dict[str, Any]:
    """The parsed `dbarch/data/timeseries.yaml`."""
    data: dict[str, Any] = load_yaml("timeseries.yaml")
    return data


def ingest_rate(spec: Spec, entity: str) -> float:
    """Rows written per second now: the insert/upsert patterns on the entity, else the
    arrival rate the volume and TTL imply."""
    rate = sum(p.rate for p in spec.access_patterns
               if p.kind == PatternKind.write and p.operation in (WriteOp.insert, WriteOp.upsert)
               and (p.entity == entity or entity in p.touches))
    return rate or partitioning.rows_per_day(spec, entity) / 86400


def growth(spec: Spec, entity: str) -> float:
    """How much the ingest rate grows by the horizon (it follows the volume)."""
    e = spec.entities[entity]
    return e.volume_at(spec.scale.horizon_years) / e.volume if e.volume else 1.0


def choose_interval(rate: float, row_bytes: float, ttl: float | None) -> dict[str, Any]:
    """The longest interval whose partition (at `rate` rows/s, `row_bytes` each with its
    indexes) fits the memory target and that divides the TTL finely enough."""
    rules = ts_data()["partitioning"]
    target = rules["memory_bytes"] * rules["memory_share"]
    finest_for_ttl = ttl / rules["min_partitions_per_ttl"] if ttl else math.inf
    allowed = [i for i in rules["intervals"] if rules["seconds"][i] <= finest_for_ttl]
    allowed = allowed or [rules["intervals"][-1]]
    chosen = next((i for i in allowed if rate * rules["seconds"][i] * row_bytes <= target),
                  allowed[-1])
    seconds = rules["seconds"][chosen]
    span = ttl or 0
    return {"interval": chosen, "seconds": seconds, "rows": rate * seconds,
            "bytes": rate * seconds * row_bytes, "target_bytes": target,
            "fits": rate * seconds * row_bytes <= target,
            "live": math.ceil(span / seconds) + rules["ahead"] if span else None}
