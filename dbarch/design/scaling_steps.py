"""The scaling steps of each server and the first load point at which each becomes necessary.

Pooling, caching, read replicas, memory, partitioning, sharding and multi-region: each step
compares the capacity model's totals (`dbarch.design.capacity`) with the product's ceiling
(`dbarch.design.ceilings`) and says what to do, the condition that fires it, the first load
point it fires at, and the measure at every point.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dbarch.design.capacity import LoadPoint, PartCapacity, at_load
from dbarch.design.ceilings import Ceiling, scaling_data
from dbarch.design.keys import a_or_an
from dbarch.design.shard_keys import shard_key_candidates
from dbarch.design.sizing import TableSize
from dbarch.select.model import Paradigm
from dbarch.spec import quantities
from dbarch.spec.model import Consistency, Op, Spec

_EXPONENT = re.compile(r"\b\d+(?:\.\d+)?e[+-]\d+")


def _plain(text: str) -> str:
    """Three significant digits print 2700 as `2.7e+03`; a document wants `2700`."""
    return _EXPONENT.sub(lambda m: f"{float(m.group()):.0f}", text)


def human_bytes(n: float) -> str:
    """Binary units without exponent form: 2.64 PiB, 2700 PiB, never 2.7e+03 PiB."""
    return _plain(quantities.human_bytes(n))


def human_count(n: float) -> str:
    """2M, 1.5k; never exponent form."""
    return _plain(quantities.human_count(n))


def human_rate(n: float) -> str:
    """200/s, 30/min; never exponent form."""
    return _plain(quantities.human_rate(n))


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


def _first(labels: list[str], fired: Callable[[str], bool]) -> str | None:
    return next((label for label in labels if fired(label)), None)


def _first_over(part: PartCapacity, labels: list[str], metric: Callable[[LoadPoint], float],
                limit: float) -> str | None:
    """The first load point at which `metric` of the part's totals exceeds `limit`."""
    return _first(labels, lambda lb: metric(part.point(lb)) > limit)


def _measure(part: PartCapacity, labels: list[str],
             show: Callable[[LoadPoint], str]) -> dict[str, str]:
    """The step's measure at every load point, as the document's table prints it."""
    return {lb: show(part.point(lb)) for lb in labels}


def scaling_steps(spec: Spec, parts: list[PartCapacity], labels: list[str]) -> list[Step]:
    """Every step of every server in order, then the multi-region step of the first server."""
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
    return steps


def _pooling(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "pooling" not in c.steps or c.connections <= 1:
        return None
    return Step(
        key="pooling", title="Connection pooling", part=part.part,
        action=f"{c.pooler}.",
        trigger=(f"estimated client connections (in-flight queries x "
                 f"{scaling_data()['pool_overprovision']} pool headroom) exceed {c.connections}, "
                 f"the practical number of {c.name} connections"),
        fires_at=_first_over(part, labels, lambda pt: pt.connections, c.connections),
        measure=_measure(part, labels, lambda pt: f"{human_count(pt.connections)} conn "
                                                  f"({human_count(pt.in_flight)} in flight)"),
    )


def _caching(part: PartCapacity, labels: list[str], redis: str | None = None) -> Step | None:
    if "caching" not in part.ceiling.steps:
        return None
    share = scaling_data()["thresholds"]["cache_read_share"]
    threshold = share * part.ceiling.read_ops
    trigger = (f"one eventual-consistency read pattern alone takes {share:.0%} of "
               f"{a_or_an(part.ceiling.name)} node's ~{human_rate(part.ceiling.read_ops)} "
               f"point reads ({human_rate(threshold)})")
    eventual = [ld for ld in part.patterns
                if ld.is_read and ld.consistency == Consistency.eventual]
    if not eventual:
        return Step(
            key="caching", title="Caching", part=part.part,
            action="No cache: every read pattern of this part requires strong or "
                   "read-your-writes consistency, which a cache would break.",
            trigger=trigger, fires_at=None,
        )
    fires = _first(labels, lambda lb: any(ld.rate_at(lb) >= threshold for ld in eventual))
    hot = [ld.name for ld in eventual if fires and ld.rate_at(fires) >= threshold]
    return Step(
        key="caching", title="Caching", part=part.part,
        action=f"{part.ceiling.cache}."
        + (f" The Redis of part {redis} can hold it: no new product to run."
           if redis and "Redis" in part.ceiling.cache else ""),
        trigger=trigger,
        fires_at=fires,
        subjects=hot or [ld.name for ld in eventual],
        measure={lb: ", ".join(f"{ld.name} {human_rate(ld.rate_at(lb))}" for ld in eventual)
                 for lb in labels},
    )


def _replicas(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "replicas" not in c.steps:
        return None
    fraction = scaling_data()["thresholds"]["replica_read_fraction"]
    limit = fraction * c.read_ops
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
        fires_at=_first_over(part, labels, lambda pt: pt.read_rate, limit),
        subjects=offload + sticky,
        measure=_measure(part, labels, lambda pt: human_rate(pt.read_rate)),
        notes=notes,
    )


def _memory(part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    if "memory" not in c.steps or not c.ram_bytes:
        return None
    fraction = scaling_data()["thresholds"]["working_set_ram_fraction"]
    limit = fraction * c.ram_bytes
    return Step(
        key="memory", title="Working set in memory", part=part.part,
        action=f"{c.memory} (reference instance: {c.instance}).",
        trigger=(f"working set (all indexes + {scaling_data()['hot_data_fraction']:.0%} of data) "
                 f"exceeds {fraction:.0%} of {human_bytes(c.ram_bytes)} RAM "
                 f"({human_bytes(limit)})"),
        fires_at=_first_over(part, labels, lambda pt: pt.working_set_bytes, limit),
        measure=_measure(part, labels, lambda pt: human_bytes(pt.working_set_bytes)),
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


def _partition_key(spec: Spec, t: TableSize, c: Ceiling) -> tuple[str, str]:
    """How `t` would be partitioned, and the kind: range, hash, or blocked by its keys.

    Both PostgreSQL and MySQL enforce a unique key on a partitioned table only when the key
    holds the partition column, and a foreign key to a partitioned table must name a key
    that holds it; InnoDB partitioned tables take no foreign keys at all. A plan that breaks
    one of those is not a step, so the table is named as blocked, with the keys that block it.
    """
    if not c.partitioned_foreign_keys and (t.referenced or t.has_foreign_keys):
        return (f"blocked: {c.name} partitioned tables take no foreign keys, and "
                f"{t.table} {'is referenced by' if t.referenced else 'holds'} foreign keys; "
                "it grows by a larger instance or by the sharding step instead"), "blocked"
    entity = spec.entities.get(t.entity) if t.entity else None
    pk = t.primary_key or ("id",)
    # A natural primary key (no surrogate id) is a unique key like any other: the partition
    # column cannot be added to it without allowing duplicates.
    natural = [pk] if "id" not in pk else []
    if entity and t.entity and (entity.ttl or entity.append_only) and not t.referenced:
        column = _time_column(spec, t.entity)
        blocking = [u for u in [*natural, *t.uniques] if column not in u]
        if not blocking:
            key = pk if column in pk else (*pk, column)
            return (f"RANGE on {column}, one partition per {_interval(entity.ttl)} (the "
                    f"primary key becomes ({', '.join(key)})): expiry and archival "
                    "become DETACH/DROP PARTITION, and recent-row reads prune to the newest "
                    "partitions"), "range"
        return _blocked(t, blocking, column, c), "blocked"
    blocking = [u for u in t.uniques if not set(pk) <= set(u)]
    if blocking:
        return _blocked(t, blocking, ", ".join(pk), c), "blocked"
    if t.referenced:
        return ("HASH on the primary key, so foreign keys to it stay valid (the key holds the "
                "partition column); the gain is per-partition vacuum and index rebuilds, not "
                "pruning — past this, sharding (below) is the stronger step"), "hash"
    return ("HASH on the primary key (or on the shard key candidate of the sharding step)",
            "hash")


def _blocked(t: TableSize, blocking: list[tuple[str, ...]], column: str, c: Ceiling) -> str:
    keys = ", ".join(f"{'PRIMARY KEY' if u == t.primary_key else 'UNIQUE'} ({', '.join(u)})"
                     for u in blocking)
    verb = "does not" if len(blocking) == 1 else "do not"
    return (f"blocked: {keys} {verb} hold the partition column {column}, and {c.name} "
            "enforces a unique key on a partitioned table only when it does, so partitioning "
            "would give up that uniqueness; it grows by a larger instance or by the sharding "
            "step instead")


def _partitioning(spec: Spec, part: PartCapacity, labels: list[str]) -> Step | None:
    if part.paradigm != Paradigm.relational or "partitioning" not in part.ceiling.steps:
        return None
    data = scaling_data()
    ram = part.ceiling.ram_bytes
    ttl_rows = data["thresholds"]["ttl_partition_min_rows"]

    def rows(t: TableSize, lb: str) -> float:
        return at_load(lb, t.rows_now, t.rows_horizon)

    def needs(t: TableSize, lb: str) -> bool:
        return t.total_bytes(rows(t, lb)) > ram or (t.expires and rows(t, lb) >= ttl_rows)

    firing: dict[str, str] = {}
    held: dict[str, str] = {}   # over the threshold, but their keys rule partitioning out
    ranged: dict[str, str] = {}  # by time: only these expire by dropping partitions
    notes = []
    for t in part.tables:
        if t.partitioned:
            notes.append(f"{t.table}: already partitioned in the schema ({t.partitioned}).")
            continue
        first = _first(labels, lambda lb, t=t: needs(t, lb))
        if first:
            how, kind = _partition_key(spec, t, part.ceiling)
            notes.append(f"{t.table}: from {first}, {how}.")
            {"blocked": held, "range": ranged}.get(kind, firing)[t.table] = first
    # The trigger is a measurement: it fires even where every table over it is blocked.
    firing.update(ranged)
    over = {**held, **firing}
    fires = min(over.values(), key=labels.index) if over else None
    candidates = [t for t in part.tables if not t.partitioned] or part.tables
    largest = max(candidates, key=lambda t: t.data_bytes(t.rows_horizon), default=None)

    return Step(
        key="partitioning", title="Partitioning", part=part.part,
        action=(f"Partition the tables below with {part.ceiling.partitioning}." if firing
                or not held else "No table over the threshold can be partitioned as designed "
                "(below): each grows by a larger instance or by the sharding step."),
        trigger=(f"a table's data + indexes exceed the server's {human_bytes(ram)} RAM, or an "
                 f"expiring table reaches {human_count(ttl_rows)} rows"),
        fires_at=fires,
        subjects=sorted(firing, key=lambda n: labels.index(firing[n])),
        when=dict(ranged),
        measure=({lb: f"{largest.table} {human_bytes(largest.total_bytes(rows(largest, lb)))}"
                  for lb in labels}
                 if largest else {}),
        notes=notes,
    )


def _sharding(spec: Spec, part: PartCapacity, labels: list[str]) -> Step | None:
    c = part.ceiling
    data = scaling_data()["thresholds"]
    write_limit = data["shard_write_fraction"] * c.write_ops
    max_ram = data["working_set_ram_fraction"] * c.max_ram_bytes

    def fired(pt: LoadPoint) -> bool:
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
        fires_at=_first(labels, lambda lb: fired(part.point(lb))),
        subjects=subjects,
        measure=_measure(part, labels, lambda pt: f"{human_rate(pt.write_rate)} writes, "
                                                  f"{human_bytes(pt.total_bytes)}"),
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
    action = f"Use {c.multi_region}."
    homes = _home_regions(spec)
    if len(regions) > 1 and homes:
        # A physical replica copies every row, so it would hold rows homed elsewhere.
        action = (f"Run one primary per region, each holding only the rows homed there "
                  f"(partition the data by {', '.join(homes)}), with its standby and replicas "
                  "inside that region.")
        notes.append(f"{', '.join(homes)} pins rows to a region: a cross-region replica "
                     "would copy every row into the other regions, against the residency the "
                     "field exists for; backups copied across regions stay within the home "
                     "region's jurisdiction.")
    return Step(key="multi_region", title="Multi-region", part=part.part,
                action=action, trigger=trigger, fires_at=fires, notes=notes)


def _home_regions(spec: Spec) -> list[str]:
    """`Entity.field` of every enum whose values are the spec's regions: a row's home."""
    regions = set(spec.scale.regions)
    return [f"{name}.{field}" for name, e in spec.entities.items()
            for field, a in e.attributes.items()
            if a.values and len(a.values) > 1 and set(a.values) <= regions]

