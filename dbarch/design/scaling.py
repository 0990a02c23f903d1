"""The capacity model behind the scaling strategy: sizes, rates, and when each scaling step fires.

Pure arithmetic over the spec, the decisions and the relational schema. Every ceiling and
threshold comes from `dbarch/data/scaling.yaml` with its source; this module only combines them:
bytes per row from column types, rows now / at the horizon / at 10x and 100x of the horizon,
read and write rates, connections by Little's law, and the first load point at which each step
(pooling, caching, replicas, memory, partitioning, sharding, multi-region) becomes necessary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from ruamel.yaml import YAML

from dbarch.schema.model import Column, Table, TypeKind
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec import quantities
from dbarch.spec.model import (
    AccessPattern,
    AttrType,
    Consistency,
    Op,
    PatternKind,
    RelKind,
    Spec,
)

_EXPONENT = re.compile(r"\b\d+(?:\.\d+)?e[+-]\d+")


def _plain(text: str) -> str:
    """Three significant digits print 2700 as `2.7e+03`; a document wants `2700`."""
    return _EXPONENT.sub(lambda m: f"{float(m.group()):.0f}", text)


def human_bytes(n: float) -> str:
    """Binary units without exponent form: 2700 TiB, not 2.7e+03 TiB."""
    return _plain(quantities.human_bytes(n))


def human_count(n: float) -> str:
    """2M, 1.5k; never exponent form."""
    return _plain(quantities.human_count(n))


def human_rate(n: float) -> str:
    """200/s, 30/min; never exponent form."""
    return _plain(quantities.human_rate(n))

# Spec attribute types stored without a relational schema (non-relational parts) map onto the
# column kinds whose sizes the data file holds.
_ATTR_KIND: dict[AttrType, str] = {
    AttrType.string: "string", AttrType.text: "text", AttrType.int: "int",
    AttrType.bigint: "bigint", AttrType.decimal: "decimal", AttrType.money: "decimal",
    AttrType.float: "float", AttrType.bool: "bool", AttrType.date: "date",
    AttrType.timestamp: "timestamp", AttrType.uuid: "uuid", AttrType.email: "string",
    AttrType.enum: "enum", AttrType.json: "json", AttrType.map: "json", AttrType.list: "array",
    AttrType.blob: "blob", AttrType.geo: "geo",
}

_READ_KINDS = (PatternKind.read, PatternKind.traversal, PatternKind.aggregate)


@cache
def scaling_data() -> dict[str, Any]:
    """The parsed `dbarch/data/scaling.yaml` (loaded once)."""
    text = files("dbarch").joinpath("data/scaling.yaml").read_text(encoding="utf-8")
    return YAML(typ="safe").load(text)


ALL_STEPS = ("pooling", "caching", "replicas", "memory", "partitioning", "sharding")


@dataclass(frozen=True)
class Ceiling:
    """What one node of a product sustains, per the data file, with where the figures come from."""

    product: str
    name: str
    instance: str
    read_ops: float
    write_ops: float
    connections: int
    ram_bytes: int
    max_ram_bytes: int
    storage_bytes: int
    pooler: str
    replica: str
    memory: str
    partitioning: str
    sharding: str
    multi_region: str
    sources: tuple[str, ...]
    measured: bool
    steps: tuple[str, ...] = ALL_STEPS
    cache: str = ""
    shard_note: str = ""
    scale_up_reads: bool = True


def ceiling_of(product: str, display_name: str | None = None) -> Ceiling:
    """The single-node ceiling of `product`; unknown products get the conservative default."""
    products = scaling_data()["products"]
    entry = products.get(product)
    measured = entry is not None
    entry = entry or products["default"]
    return Ceiling(
        product=product,
        name=entry["name"] if measured else (display_name or product),
        instance=entry["instance"],
        read_ops=float(entry["read_ops"]),
        write_ops=float(entry["write_ops"]),
        connections=int(entry["connections"]),
        ram_bytes=int(entry["ram_bytes"]),
        max_ram_bytes=int(entry["max_ram_bytes"]),
        storage_bytes=int(entry["storage_bytes"]),
        pooler=entry["pooler"],
        replica=entry["replica"],
        memory=entry["memory"],
        partitioning=entry["partitioning"],
        sharding=entry["sharding"],
        multi_region=entry["multi_region"],
        sources=tuple(entry["sources"]),
        measured=measured,
        steps=tuple(entry.get("steps", ALL_STEPS)),
        cache=" ".join(str(entry.get("cache", products_default_cache())).split()),
        shard_note=entry.get("shard_note", ""),
        scale_up_reads=bool(entry.get("scale_up_reads", True)),
    )


def products_default_cache() -> str:
    """How reads are cached when the product names no cache of its own."""
    return str(scaling_data()["default_cache"])


@dataclass
class TableSize:
    """The estimated footprint of one table (or one non-relational collection)."""

    table: str
    entity: str | None
    row_bytes: int
    index_bytes_per_row: int
    rows_now: int
    rows_horizon: int
    indexes: int
    partitioned: str | None = None
    expires: bool = False
    append_only: bool = False
    referenced: bool = False

    def hot_bytes(self, rows: float, hot_fraction: float) -> float:
        """Bytes that must stay in memory: every index page, and the hot share of the rows.

        Append-only and time-partitioned tables are read near their newest rows, so only the
        hot share of their indexes is touched too.
        """
        if self.append_only or (self.partitioned or "").startswith("range"):
            return hot_fraction * (self.data_bytes(rows) + self.index_bytes(rows))
        return self.index_bytes(rows) + hot_fraction * self.data_bytes(rows)

    def data_bytes(self, rows: float) -> float:
        """Heap bytes for `rows` rows."""
        return rows * self.row_bytes

    def index_bytes(self, rows: float) -> float:
        """Bytes of all this table's indexes for `rows` rows."""
        return rows * self.index_bytes_per_row


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

    @property
    def is_read(self) -> bool:
        """Reads, traversals and aggregates; writes are the rest."""
        return self.kind in _READ_KINDS

    @property
    def rate_horizon(self) -> float:
        """The rate at the horizon: today's rate times the growth of what it touches."""
        return self.rate_now * self.growth


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
class Step:
    """One scaling step, the condition that makes it necessary, and the first point it fires at."""

    key: str
    title: str
    part: str
    action: str
    trigger: str
    fires_at: str | None
    subjects: list[str] = field(default_factory=list)
    measure: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    when: dict[str, str] = field(default_factory=dict, repr=False)


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


def _column_bytes(column: Column, avg_size: int | None) -> int:
    sizes = scaling_data()["column_bytes"]
    if avg_size:
        return int(avg_size)
    kind = column.type.kind
    base = int(sizes[kind.value])
    if kind == TypeKind.string and column.type.length:
        # A short declared maximum bounds the average below the default assumption.
        return min(base, column.type.length + 1)
    return base


def _avg_sizes(spec: Spec, table: Table) -> dict[str, int | None]:
    if table.entity is None or table.entity not in spec.entities:
        return {}
    return {n: a.avg_size for n, a in spec.entities[table.entity].attributes.items()}


def _expires(spec: Spec, entity: Any) -> bool:
    """Whether rows of `entity` are deleted by age within the horizon: a TTL, or the
    compliance retention on history rows when it is shorter than the horizon."""
    if entity is None:
        return False
    retention = spec.compliance.retention
    horizon = spec.scale.horizon_years * 365 * 86400
    return bool(entity.ttl or (entity.append_only and retention and retention < horizon))


def table_size(spec: Spec, table: Table, product: str,
               referenced: frozenset[str] | set[str] = frozenset()) -> TableSize:
    """The estimated bytes per row and index bytes per row of one relational table."""
    data = scaling_data()
    overheads = data["row_overhead_bytes"]
    avg = _avg_sizes(spec, table)
    widths = {c.name: _column_bytes(c, avg.get(c.name)) for c in table.columns}
    heap = (sum(widths.values()) + overheads.get(product, overheads["default"]))
    row_bytes = math.ceil(heap * data["heap_bloat_factor"])
    secondary = [u.columns for u in table.uniques]
    secondary += [ix.column_names + ix.include for ix in table.indexes]
    if product in data["clustered_primary_key"]:
        # InnoDB stores the rows in the primary key's B-tree, and every secondary index entry
        # carries the primary key columns to find the row.
        key_sets = [cols + [c for c in table.primary_key if c not in cols] for cols in secondary]
    else:
        key_sets = [table.primary_key, *secondary]
    per_entry = data["index_entry_overhead_bytes"]
    index_bytes = sum(
        (sum(widths.get(c, 8) for c in cols) + per_entry) / data["index_fill_factor"]
        for cols in key_sets
    )
    entity = spec.entities.get(table.entity) if table.entity else None
    rows_now = table.rows or (entity.volume if entity else 0)
    rows_horizon = table.rows_at_horizon or (
        int(entity.volume_at(spec.scale.horizon_years)) if entity else rows_now
    )
    return TableSize(
        table=table.name,
        entity=table.entity,
        row_bytes=row_bytes,
        index_bytes_per_row=math.ceil(index_bytes),
        rows_now=rows_now,
        rows_horizon=max(rows_horizon, rows_now),
        indexes=len(key_sets),
        partitioned=(
            f"{table.partitioning.kind.value} on {table.partitioning.column}"
            if table.partitioning else None
        ),
        expires=_expires(spec, entity),
        append_only=bool(entity and entity.append_only),
        referenced=table.name in referenced,
    )


def entity_size(spec: Spec, entity_name: str) -> TableSize:
    """The estimated footprint of an entity stored outside the relational schema."""
    data = scaling_data()
    sizes = data["column_bytes"]
    entity = spec.entities[entity_name]
    body = sum(
        int(a.avg_size) if a.avg_size else int(sizes[_ATTR_KIND[a.type]])
        for a in entity.attributes.values()
    )
    refs = len(spec.references_of(entity_name))
    # id + created_at + updated_at + one id per reference
    body += sizes["bigint"] + 2 * sizes["timestamp"] + refs * sizes["bigint"]
    overhead = data["row_overhead_bytes"]["default"]
    row_bytes = math.ceil((body + overhead) * data["heap_bloat_factor"])
    key_entry = sizes["bigint"] + data["index_entry_overhead_bytes"]
    key = math.ceil(key_entry / data["index_fill_factor"])
    return TableSize(
        table=entity_name,
        entity=entity_name,
        row_bytes=row_bytes,
        index_bytes_per_row=key,
        rows_now=entity.volume,
        rows_horizon=max(int(entity.volume_at(spec.scale.horizon_years)), entity.volume),
        indexes=1,
        expires=entity.ttl is not None,
        append_only=entity.append_only,
    )


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
    for p in spec.access_patterns:
        if not any(d in group for d in _part_of_pattern(decisions, p)):
            continue
        if p.kind == PatternKind.write:
            mine = [e for e in p.touches if e in entities] or p.touches
            appends = p.operation.value == "insert" and all(
                spec.entities[e].append_only for e in p.touches if e in spec.entities)
            loads.append(PatternLoad(p.name, p.kind, p.entity, p.consistency, p.rate,
                                     _growth(spec, p.touches), len(mine), p.transaction,
                                     appends))
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
    in_flight = sum(r * _service_time(spec, ld) for ld, r in zip(loads, rates, strict=True))
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


def _first(labels: list[str], fired: Callable[[str], bool]) -> str | None:
    return next((label for label in labels if fired(label)), None)


def _label(multiple: float) -> str:
    return f"{multiple:g}x"


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
    labels = ["now"] + [_label(m) for m in multiples]
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
        points = [_point(spec, labels[0], None, tables, loads)]
        points += [_point(spec, _label(m), m, tables, loads) for m in multiples]
        name = " + ".join(d.part for d in group)
        parts.append(PartCapacity(name, lead.product, lead.paradigm,
                                  ceiling_of(lead.product, lead.product_name), tables, loads,
                                  points, [d.part for d in group]))
    return parts


# --- the steps ----------------------------------------------------------------------------


def _pooling(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "pooling" not in c.steps or c.connections <= 1:
        return None
    fires = _first(labels, lambda lb: part.point(lb).connections > c.connections)
    return Step(
        key="pooling", title="Connection pooling", part=part.part,
        action=f"{c.pooler}.",
        trigger=(f"estimated client connections (in-flight queries x "
                 f"{scaling_data()['pool_overprovision']} pool headroom) exceed {c.connections}, "
                 f"the practical number of {c.name} connections"),
        fires_at=fires,
        measure={lb: f"{human_count(part.point(lb).connections)} conn "
                     f"({part.point(lb).in_flight:.3g} in flight)" for lb in labels},
    )


def _rate_at(load: PatternLoad, label: str) -> float:
    if label == "now":
        return load.rate_now
    return load.rate_horizon * float(label.rstrip("x"))


def _caching(part: PartCapacity, labels: list[str], redis: str | None = None) -> Step | None:
    if "caching" not in part.ceiling.steps:
        return None
    share = scaling_data()["thresholds"]["cache_read_share"]
    threshold = share * part.ceiling.read_ops
    trigger = (f"one eventual-consistency read pattern alone takes {share:.0%} of a "
               f"{part.ceiling.name} node's ~{human_rate(part.ceiling.read_ops)} point reads "
               f"({human_rate(threshold)})")
    eventual = [ld for ld in part.patterns
                if ld.is_read and ld.consistency == Consistency.eventual]
    if not eventual:
        return Step(
            key="caching", title="Caching", part=part.part,
            action="No cache: every read pattern of this part requires strong or "
                   "read-your-writes consistency, which a cache would break.",
            trigger=trigger, fires_at=None,
        )
    fires = _first(labels, lambda lb: any(_rate_at(ld, lb) >= threshold for ld in eventual))
    hot = [ld.name for ld in eventual if fires and _rate_at(ld, fires) >= threshold]
    return Step(
        key="caching", title="Caching", part=part.part,
        action=f"{part.ceiling.cache}."
        + (f" The Redis of part {redis} can hold it: no new product to run."
           if redis and "Redis" in part.ceiling.cache else ""),
        trigger=trigger,
        fires_at=fires,
        subjects=hot or [ld.name for ld in eventual],
        measure={lb: ", ".join(f"{ld.name} {human_rate(_rate_at(ld, lb))}" for ld in eventual)
                 for lb in labels},
    )


def _replicas(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "replicas" not in c.steps:
        return None
    fraction = scaling_data()["thresholds"]["replica_read_fraction"]
    limit = fraction * c.read_ops
    fires = _first(labels, lambda lb: part.point(lb).read_rate > limit)
    reads = [ld for ld in part.patterns if ld.is_read]
    offload = [ld.name for ld in reads if ld.consistency == Consistency.eventual]
    sticky = [ld.name for ld in reads if ld.consistency == Consistency.read_your_writes]
    primary = [ld.name for ld in reads if ld.consistency == Consistency.strong]
    notes = []
    if offload:
        notes.append(f"May read from replicas (eventual, tolerate lag): {', '.join(offload)}.")
    if sticky:
        notes.append("Replica only once it has replayed the session's last write "
                     f"(read-your-writes), else the primary: {', '.join(sticky)}.")
    if primary:
        notes.append(f"Stay on the primary (strong consistency): {', '.join(primary)}.")
    total = sum(ld.rate_now for ld in reads)
    if total and (offload or sticky):
        share = sum(ld.rate_now for ld in reads if ld.name in offload) / total
        notes.append(f"Replicas can take {share:.0%} of the read rate (the eventual reads)"
                     + (", more as read-your-writes sessions age past the lag." if sticky
                        else "."))
    action = f"{c.replica}."
    if not offload and not sticky:
        grow = "with a larger node, then by " if c.scale_up_reads else "by "
        action = ("Replicas would offload no read: every read pattern needs strong consistency. "
                  f"Serve more reads {grow}{c.sharding}.")
    return Step(
        key="replicas", title="Read replicas", part=part.part,
        action=action,
        trigger=(f"reads exceed {fraction:.0%} of one {c.name} node's "
                 f"~{human_rate(c.read_ops)} point reads ({human_rate(limit)})"),
        fires_at=fires,
        subjects=offload + sticky,
        measure={lb: human_rate(part.point(lb).read_rate) for lb in labels},
        notes=notes,
    )


def _memory(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "memory" not in c.steps or not c.ram_bytes:
        return None
    fraction = scaling_data()["thresholds"]["working_set_ram_fraction"]
    limit = fraction * c.ram_bytes
    fires = _first(labels, lambda lb: part.point(lb).working_set_bytes > limit)
    return Step(
        key="memory", title="Working set in memory", part=part.part,
        action=f"{c.memory} (reference instance: {c.instance}).",
        trigger=(f"working set (all indexes + {scaling_data()['hot_data_fraction']:.0%} of data) "
                 f"exceeds {fraction:.0%} of {human_bytes(c.ram_bytes)} RAM "
                 f"({human_bytes(limit)})"),
        fires_at=fires,
        measure={lb: human_bytes(part.point(lb).working_set_bytes) for lb in labels},
    )


def _time_column(spec: Spec, entity: str) -> str:
    """The timestamp rows of `entity` are read by: an aggregate's window, a range filter, or
    a sort; created_at when no pattern says."""
    for p in spec.access_patterns:
        if p.entity != entity:
            continue
        if p.time:
            return p.time
        ranged = [f for f, op in p.where.items() if op == Op.range]
        if ranged:
            return ranged[0]
    return "created_at"


def _interval(ttl: float | None) -> str:
    """Partitions small enough that expiry drops whole ones, few enough to plan quickly."""
    if ttl is not None and ttl <= 14 * 86400:
        return "day"
    if ttl is not None and ttl <= 180 * 86400:
        return "week"
    return "month"


def _partition_key(spec: Spec, t: TableSize) -> str:
    entity = spec.entities.get(t.entity) if t.entity else None
    if entity and t.entity and (entity.ttl or entity.append_only):
        column = _time_column(spec, t.entity)
        return (f"RANGE on {column}, one partition per {_interval(entity.ttl)}: expiry and "
                "archival become DETACH/DROP PARTITION, and recent-row reads prune to the "
                "newest partitions")
    if t.referenced:
        return ("HASH on the primary key, so foreign keys to it stay valid (the key holds the "
                "partition column); the gain is per-partition vacuum and index rebuilds, not "
                "pruning — past this, sharding (below) is the stronger step")
    return "HASH on the primary key (or on the shard key candidate of the sharding step)"


def _partitioning(spec: Spec, part: PartCapacity, labels: list[str]) -> Step | None:
    if part.paradigm != Paradigm.relational or "partitioning" not in part.ceiling.steps:
        return None
    data = scaling_data()
    ram = part.ceiling.ram_bytes
    ttl_rows = data["thresholds"]["ttl_partition_min_rows"]

    def rows(t: TableSize, lb: str) -> float:
        return t.rows_now if lb == "now" else t.rows_horizon * float(lb.rstrip("x"))

    def needs(t: TableSize, lb: str) -> bool:
        size = t.data_bytes(rows(t, lb)) + t.index_bytes(rows(t, lb))
        return size > ram or (t.expires and rows(t, lb) >= ttl_rows)

    firing: dict[str, str] = {}
    notes = []
    for t in part.tables:
        if t.partitioned:
            notes.append(f"{t.table}: already partitioned in the schema ({t.partitioned}).")
            continue
        first = _first(labels, lambda lb, t=t: needs(t, lb))
        if first:
            firing[t.table] = first
            notes.append(f"{t.table}: from {first}, {_partition_key(spec, t)}.")
    fires = min(firing.values(), key=labels.index) if firing else None
    candidates = [t for t in part.tables if not t.partitioned] or part.tables
    largest = max(candidates, key=lambda t: t.data_bytes(t.rows_horizon), default=None)

    def size(t: TableSize, lb: str) -> float:
        return t.data_bytes(rows(t, lb)) + t.index_bytes(rows(t, lb))

    return Step(
        key="partitioning", title="Partitioning", part=part.part,
        action=f"Partition the tables below with {part.ceiling.partitioning}.",
        trigger=(f"a table's data + indexes exceed the server's {human_bytes(ram)} RAM, or an "
                 f"expiring table reaches {human_count(ttl_rows)} rows"),
        fires_at=fires,
        subjects=sorted(firing, key=lambda n: labels.index(firing[n])),
        when=dict(firing),
        measure=({lb: f"{largest.table} {human_bytes(size(largest, lb))}" for lb in labels}
                 if largest else {}),
        notes=notes,
    )


@dataclass(frozen=True)
class ShardKey:
    """A shard key candidate: the entity whose id routes, the data it keeps together, and the
    share of the part's traffic that stays on one shard."""

    entity: str
    field: str
    data_share: float
    single_shard_share: float
    colocated: list[str]
    reference: list[str]


def _ancestor_map(spec: Spec, entities: Iterable[str]) -> dict[str, set[str]]:
    """Every entity's transitive parents, each computed once from its parents' sets."""
    parents: dict[str, list[str]] = {}
    for r in spec.relationships:
        if r.kind != RelKind.many_to_many:
            parents.setdefault(r.child, []).append(r.parent)
    memo: dict[str, set[str]] = {}
    for start in entities:
        # Iterative post-order, so a 1000-deep chain does not hit the recursion limit; an
        # entity met again while in progress (a cycle) contributes what is known so far.
        stack = [(start, False)]
        busy: set[str] = set()
        while stack:
            e, done = stack.pop()
            if e in memo:
                continue
            if done:
                found: set[str] = set()
                for p in parents.get(e, []):
                    found.add(p)
                    found |= memo.get(p, set())
                memo[e] = found - {e}
                busy.discard(e)
                continue
            busy.add(e)
            stack.append((e, True))
            stack.extend((p, False) for p in parents.get(e, []) if p not in memo and p not in busy)
    return {e: memo.get(e, set()) for e in entities}


def shard_key_candidates(
    spec: Spec, tables: list[TableSize], loads: list[PatternLoad], limit: int = 10
) -> list[ShardKey]:
    """Parents the data hangs from, ranked by the share of rows they keep on one shard.

    Entities under the key (it, or anything referring to it, transitively) live with it; small
    tables outside are copied to every shard (reference tables); a read stays on one shard when it
    filters the key's reference by equality (or the key entity by id), a write when every entity
    it touches lives under the key.
    """
    patterns = {p.name: p for p in spec.access_patterns}
    ref_max = scaling_data()["thresholds"]["reference_table_max_rows"]
    rows = {t.entity: t.rows_horizon for t in tables if t.entity}
    total_rows = sum(rows.values()) or 1
    total_rate = sum(ld.rate_now for ld in loads) or 1.0
    ancestors = _ancestor_map(spec, rows)
    refs: dict[tuple[str, str], str] = {}
    for r in spec.relationships:
        if r.kind != RelKind.many_to_many and r.child in rows and r.parent in rows:
            refs.setdefault((r.child, r.parent), r.field_name)
    parents = sorted({p for _, p in refs})
    unders = {parent: [e for e in rows if e == parent or parent in ancestors[e]]
              for parent in parents}
    shares = {parent: sum(rows[e] for e in unders[parent]) / total_rows for parent in parents}
    # Only the candidates keeping the most data together are worth the traffic analysis.
    best = sorted(parents, key=lambda x: -shares[x])[:limit]
    out = []
    for parent in best:
        under = unders[parent]
        inside = set(under)
        reference = [e for e in rows if e not in inside and rows[e] <= ref_max]
        copied = set(reference)
        fields = {e: refs[e, parent] for e in under if (e, parent) in refs}
        local = 0.0
        for ld in loads:
            p = patterns[ld.name]
            if p.kind == PatternKind.write:
                if all(e in inside for e in p.touches):
                    local += ld.rate_now
            elif (p.entity == parent and p.where.get("id") == Op.eq) or (
                p.entity in fields and p.where.get(fields[p.entity]) == Op.eq
            ) or p.entity in copied:
                local += ld.rate_now
        field_name = ", ".join(f"{f}_id" for f in sorted(set(fields.values()))) or "id"
        out.append(ShardKey(parent, field_name, shares[parent], local / total_rate, under,
                            reference))
    return sorted(out, key=lambda k: (-k.data_share, -k.single_shard_share))


def _sharding(spec: Spec, part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    data = scaling_data()["thresholds"]
    write_limit = data["shard_write_fraction"] * c.write_ops
    max_ram = data["working_set_ram_fraction"] * c.max_ram_bytes

    def fired(lb: str) -> bool:
        pt = part.point(lb)
        return bool(pt.write_rate > write_limit
                    or (c.storage_bytes and pt.total_bytes > c.storage_bytes)
                    or (c.max_ram_bytes and pt.working_set_bytes > max_ram))

    if "sharding" not in c.steps:
        return None
    notes: list[str] = []
    subjects: list[str] = []
    if part.paradigm in (Paradigm.relational, Paradigm.document):
        keys = shard_key_candidates(spec, part.tables, part.patterns)
        subjects = [k.entity for k in keys[:3]]
        notes = [
            f"{k.entity} ({k.field}): keeps {k.data_share:.0%} of the rows at the horizon "
            f"together ({', '.join(k.colocated)})"
            + (f", {', '.join(k.reference)} copied to every shard" if k.reference else "")
            + f"; {k.single_shard_share:.0%} of the traffic stays on one shard."
            for k in keys[:3]
        ]
        if not keys:
            notes.append("No entity that others hang from: shard by hash of the primary key; "
                         "every multi-row read becomes a scatter-gather.")
    elif part.paradigm == Paradigm.key_value:
        keyed = [ld.name for ld in part.patterns if ld.is_read]
        notes.append("Each read names one key, so it stays on one shard"
                     + (f": {', '.join(keyed)}." if keyed else "."))
    if c.shard_note:
        notes.append(f"{c.name}: {c.shard_note}.")
    conditions = [f"row writes exceed {data['shard_write_fraction']:.0%} of one node's "
                  f"~{human_rate(c.write_ops)} ({human_rate(write_limit)})"]
    if c.storage_bytes:
        conditions.append(f"data + indexes exceed {human_bytes(c.storage_bytes)}")
    if c.max_ram_bytes:
        conditions.append(f"the working set outgrows {data['working_set_ram_fraction']:.0%} of "
                          f"the largest instance's {human_bytes(c.max_ram_bytes)} RAM "
                          f"({human_bytes(max_ram)})")
    return Step(
        key="sharding", title="Sharding", part=part.part,
        action=f"Shard with {c.sharding}.",
        trigger=", or ".join(conditions),
        fires_at=next((lb for lb in labels if fired(lb)), None),
        subjects=subjects,
        measure={lb: f"{human_rate(part.point(lb).write_rate)} writes, "
                     f"{human_bytes(part.point(lb).total_bytes)}" for lb in labels},
        notes=notes,
    )


def _multi_region(spec: Spec, part: PartCapacity) -> Step:
    c = part.ceiling
    regions = spec.scale.regions
    if len(regions) > 1:
        fires: str | None = "now"
        trigger = f"the spec names {len(regions)} regions ({', '.join(regions)})"
    elif spec.scale.availability >= 99.99:
        fires = "now"
        trigger = (f"availability {spec.scale.availability}% needs a standby outside the "
                   "region to survive a regional outage")
    else:
        fires = None
        trigger = ("not driven by load: only when users appear in another region or the "
                   "availability target rises to 99.99%")
    notes = []
    if spec.scale.multi_region_writes:
        notes.append("Writes in several regions: conflicting updates to one row need a "
                     "resolution rule (last writer wins loses data); keep each row's writes in "
                     "its home region where possible.")
    return Step(key="multi_region", title="Multi-region", part=part.part,
                action=f"Use {c.multi_region}.", trigger=trigger, fires_at=fires, notes=notes)


def capacity_model(spec: Spec, decisions: Decisions, schema: Any | None = None) -> CapacityModel:
    """The capacity model and the scaling step plan for a design.

    `schema` is the relational `Schema` (or None when there is no relational part); its tables
    give the column types that bytes per row are estimated from.
    """
    parts = build_capacity(spec, decisions, schema)
    labels = ["now"] + [_label(float(m)) for m in scaling_data()["multiples"]]
    steps: list[Step] = []
    # A cache reuses the Redis the design already runs rather than adding one more product.
    redis = next((p.part for p in parts if p.product == "redis"), None)
    for part in parts:
        for step in (
            _pooling(part, labels), _caching(part, labels, redis), _replicas(part, labels),
            _memory(part, labels), _partitioning(spec, part, labels),
            _sharding(spec, part, labels),
        ):
            if step is not None:
                steps.append(step)
    if parts:
        steps.append(_multi_region(spec, parts[0]))
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
        + f"), times {data['pool_overprovision']} for application pool headroom.",
        "Ceilings are single-node figures for the reference instance named per product; "
        "re-measure with pgbench / sysbench / redis-benchmark on the target hardware.",
    ]
    return CapacityModel(spec.scale.horizon_years, labels, parts, steps, assumptions)
