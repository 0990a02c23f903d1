"""The capacity model: each server's rows, bytes, rates and connections now and at 1x/10x/100x.

Parts on one product share a server. For each, the table sizes (`dbarch.design.sizing`) and the
access patterns' rates give the totals at each load point: now, the horizon load (1x) and its
multiples from `dbarch/data/scaling.yaml`; connections follow Little's law.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dbarch.design.ceilings import Ceiling, ceiling_of, scaling_data
from dbarch.design.sizing import TableSize, entity_size, table_size
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import AccessPattern, Consistency, PatternKind, Spec

_READ_KINDS = (PatternKind.read, PatternKind.traversal, PatternKind.aggregate)


@dataclass
class PatternLoad:
    """An access pattern's rate now and at the horizon, and the row operations it causes."""

    name: str
    kind: PatternKind
    entity: str | None
    consistency: Consistency
    rate_now: float
    growth: float
    rows_per_op: int
    transaction: bool = False
    batched: bool = False
    # A write the primary takes and a feed (CDC, outbox) copies into this projection: it
    # loads the projection's writes, but no application connection waits on it here.
    fed: bool = False

    @property
    def is_read(self) -> bool:
        """Reads, traversals and aggregates; writes are the rest."""
        return self.kind in _READ_KINDS

    @property
    def rate_horizon(self) -> float:
        """The rate at the horizon: today's rate times the growth of what it touches."""
        return self.rate_now * self.growth

    def rate_at(self, label: str) -> float:
        """The rate at load point `label` (now, 1x, 10x, 100x)."""
        return at_load(label, self.rate_now, self.rate_horizon)


@dataclass
class LoadPoint:
    """Totals for one part at one load point: now, or a multiple of the horizon load."""

    label: str
    multiple: float | None
    rows: float
    data_bytes: float
    index_bytes: float
    read_rate: float
    write_rate: float
    in_flight: float
    connections: float
    working_set_bytes: float

    @property
    def total_bytes(self) -> float:
        """Data plus indexes."""
        return self.data_bytes + self.index_bytes


@dataclass
class PartCapacity:
    """The capacity model of one server: the parts of the workload on one product."""

    part: str
    product: str
    paradigm: Paradigm
    ceiling: Ceiling
    tables: list[TableSize]
    patterns: list[PatternLoad]
    points: list[LoadPoint]
    members: list[str] = field(default_factory=list)

    def point(self, label: str) -> LoadPoint:
        """The load point called `label` (now, 1x, 10x, 100x)."""
        for p in self.points:
            if p.label == label:
                return p
        raise KeyError(label)


def _growth(spec: Spec, entities: Iterable[str]) -> float:
    if not scaling_data()["traffic_follows_volume"]:
        return 1.0
    ratios = [1.0]
    for name in entities:
        e = spec.entities.get(name)
        if e is not None and e.volume > 0:
            ratios.append(e.volume_at(spec.scale.horizon_years) / e.volume)
    return max(ratios)


def _part_of_pattern(decisions: Decisions, p: AccessPattern) -> list[Decision]:
    owners = [d for d in decisions.parts if p.name in d.patterns]
    if owners:
        return owners
    entities = p.touches if p.kind == PatternKind.write else [p.entity or ""]
    return [d for d in decisions.parts if any(e in d.entities for e in entities)]


def pattern_loads(spec: Spec, group: list[Decision], decisions: Decisions) -> list[PatternLoad]:
    """The patterns these parts (one server) serve, with their rates and row writes per call."""
    entities = {e for d in group for e in d.entities}
    loads = []
    projected = {e for d in group if d.projection_of for e in d.entities}
    for p in spec.access_patterns:
        fed = (p.kind == PatternKind.write and any(e in projected for e in p.touches)
               and not any(d in group for d in _part_of_pattern(decisions, p)))
        if not fed and not any(d in group for d in _part_of_pattern(decisions, p)):
            continue
        if p.kind == PatternKind.write:
            mine = [e for e in p.touches if e in entities] or p.touches
            appends = p.operation.value == "insert" and all(
                spec.entities[e].append_only for e in p.touches if e in spec.entities)
            loads.append(PatternLoad(p.name, p.kind, p.entity, p.consistency, p.rate,
                                     _growth(spec, p.touches), len(mine), p.transaction,
                                     appends, fed))
        else:
            loads.append(PatternLoad(p.name, p.kind, p.entity, p.consistency, p.rate,
                                     _growth(spec, [p.entity or ""]), 1))
    return loads


def _service_time(spec: Spec, load: PatternLoad) -> float:
    times = scaling_data()["service_time_seconds"]
    if load.kind == PatternKind.write:
        return times["transaction"] if load.transaction else times["write"]
    return times[load.kind.value]


def _point(spec: Spec, label: str, multiple: float | None, tables: list[TableSize],
           loads: list[PatternLoad]) -> LoadPoint:
    data = scaling_data()
    if multiple is None:
        rows = [t.rows_now for t in tables]
        rates = [ld.rate_now for ld in loads]
    else:
        rows = [t.rows_horizon * multiple for t in tables]
        rates = [ld.rate_horizon * multiple for ld in loads]
    data_bytes = sum(t.data_bytes(r) for t, r in zip(tables, rows, strict=True))
    index_bytes = sum(t.index_bytes(r) for t, r in zip(tables, rows, strict=True))
    reads = sum(r for ld, r in zip(loads, rates, strict=True) if ld.is_read)
    batch = data["append_batch_factor"]
    writes = sum(r * ld.rows_per_op / (batch if ld.batched else 1)
                 for ld, r in zip(loads, rates, strict=True) if not ld.is_read)
    # A batched insert holds one connection per batch, not per row: the same assumption that
    # counts its rows 1/batch above, so the two figures describe one ingest path.
    in_flight = sum(r / (batch if ld.batched else 1) * _service_time(spec, ld)
                    for ld, r in zip(loads, rates, strict=True) if not ld.fed)
    return LoadPoint(
        label=label,
        multiple=multiple,
        rows=sum(rows),
        data_bytes=data_bytes,
        index_bytes=index_bytes,
        read_rate=reads,
        write_rate=writes,
        in_flight=in_flight,
        connections=math.ceil(in_flight * data["pool_overprovision"]),
        working_set_bytes=sum(t.hot_bytes(r, data["hot_data_fraction"])
                              for t, r in zip(tables, rows, strict=True)),
    )


def _label(multiple: float) -> str:
    return f"{multiple:g}x"


def load_labels() -> list[str]:
    """The load points, in order: now, then each multiple of the horizon load (1x, 10x, 100x)."""
    return ["now"] + [_label(float(m)) for m in scaling_data()["multiples"]]


def at_load(label: str, now: float, horizon: float) -> float:
    """A quantity at load point `label`: its value now, or its horizon value times the multiple."""
    if label == "now":
        return now
    return horizon * float(label.rstrip("x"))


def _servers(decisions: Decisions) -> list[list[Decision]]:
    """Parts grouped by product: parts on the same product share one server (the selection
    places a part on the primary's own product only as a separate part of the same server)."""
    groups: dict[str, list[Decision]] = {}
    for d in decisions.parts:
        groups.setdefault(d.product, []).append(d)
    return list(groups.values())


def build_capacity(spec: Spec, decisions: Decisions, schema: Any | None) -> list[PartCapacity]:
    """Sizes and rates of every server (parts sharing a product) at now and at each multiple."""
    multiples = [float(m) for m in scaling_data()["multiples"]]
    first_relational = next((d for d in decisions.parts if d.paradigm == Paradigm.relational),
                            None)
    referenced = ({fk.ref_table for t in schema.tables for fk in t.foreign_keys}
                  if schema is not None else set())
    parts = []
    for group in _servers(decisions):
        lead = group[0]
        entities = list(dict.fromkeys(e for d in group for e in d.entities))
        tables: list[TableSize] = []
        tabled: set[str] = set()
        if schema is not None and any(d.paradigm == Paradigm.relational for d in group):
            for t in schema.tables:
                if t.entity in entities or (t.entity is None and first_relational in group):
                    tables.append(table_size(spec, t, lead.product, referenced))
                    tabled.add(t.entity or "")
        tables += [entity_size(spec, e) for e in entities
                   if e in spec.entities and e not in tabled]
        loads = pattern_loads(spec, group, decisions)
        points = [_point(spec, "now", None, tables, loads)]
        points += [_point(spec, _label(m), m, tables, loads) for m in multiples]
        name = " + ".join(d.part for d in group)
        parts.append(PartCapacity(name, lead.product, lead.paradigm,
                                  ceiling_of(lead.product, lead.product_name), tables, loads,
                                  points, [d.part for d in group]))
    return parts

