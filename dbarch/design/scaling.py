"""The scaling strategy of a design: its capacity model, its step plan and their assumptions.

Pure arithmetic over the spec, the decisions and the relational schema, in four layers:
`ceilings` (what one node of each product sustains, from `dbarch/data/scaling.yaml`), `sizing`
(bytes per row and per index entry), `capacity` (rows, bytes, rates and connections now, at the
horizon and at its multiples) and `scaling_steps` (the first load point at which pooling,
caching, replicas, memory, partitioning, sharding and multi-region become necessary, with
`shard_keys` ranking the shard key candidates). This module puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbarch.design.capacity import PartCapacity, build_capacity, load_labels
from dbarch.design.ceilings import scaling_data
from dbarch.design.scaling_steps import Step, scaling_steps
from dbarch.select.model import Decisions
from dbarch.spec.model import Spec


@dataclass
class CapacityModel:
    """Capacity of every part at now, at the horizon and at its multiples, and the step plan."""

    horizon_years: float
    labels: list[str]
    parts: list[PartCapacity]
    steps: list[Step]
    assumptions: list[str]

    def part(self, name: str) -> PartCapacity:
        """The server holding part `name` (or named `name`)."""
        for p in self.parts:
            if p.part == name or name in p.members:
                return p
        raise KeyError(name)


def capacity_model(spec: Spec, decisions: Decisions, schema: Any | None = None) -> CapacityModel:
    """The capacity model and the scaling step plan for a design.

    `schema` is the relational `Schema` (or None when there is no relational part); its tables
    give the column types that bytes per row are estimated from.
    """
    parts = build_capacity(spec, decisions, schema)
    labels = load_labels()
    steps = scaling_steps(spec, parts, labels)
    data = scaling_data()
    assumptions = [
        f"Traffic grows with the data it touches: a pattern's rate at the horizon "
        f"({spec.scale.horizon_years:g} years) is its rate now times its entity's volume growth.",
        f"1x is the horizon load; {', '.join(labels[2:])} multiply both rows and rates.",
        "Row sizes: per-type widths as PostgreSQL stores them, "
        f"{data['row_overhead_bytes']['postgresql']} bytes of row overhead in PostgreSQL "
        f"({data['row_overhead_bytes']['default']} elsewhere), a "
        f"{data['heap_bloat_factor'] - 1:.0%} dead-row allowance; B-tree entries are the key plus "
        f"{data['index_entry_overhead_bytes']} bytes at {data['index_fill_factor']:.0%} fill; "
        f"{' and '.join(data['clustered_primary_key'])} tables are clustered on the primary key "
        "(no separate primary key index).",
        f"Working set = every index + {data['hot_data_fraction']:.0%} of the table data "
        "(append-only and time-partitioned tables: that share of their indexes too).",
        "Row writes count every row a write pattern changes; inserts into append-only entities "
        f"are batched (multi-row INSERT / COPY) and count 1/{data['append_batch_factor']}.",
        "Connections by Little's law: rate x mean service time ("
        + ", ".join(f"{k} {v * 1000:g} ms" for k, v in data["service_time_seconds"].items())
        + f"), times {data['pool_overprovision']} for application pool headroom; a batched "
        "insert is one statement per batch.",
        "Ceilings are single-node figures for the reference instance named per product; "
        "re-measure with pgbench / sysbench / redis-benchmark on the target hardware.",
    ]
    return CapacityModel(spec.scale.horizon_years, labels, parts, steps, assumptions)
