"""Range partitioning by time for tables that grow past a threshold in time order.

The threshold, the target partition size and the intervals are data
(`dbarch/data/design.yaml`, section partitioning). The neutral `Partitioning` is rendered as
declarative partitions on PostgreSQL, as RANGE COLUMNS on MySQL only where InnoDB allows it
(no foreign keys), and not at all on SQLite; see `dbarch/render/`.
"""

from __future__ import annotations

from dbarch.design.keys import design_data
from dbarch.schema.model import Partitioning, PartitionKind, Table, TypeKind
from dbarch.spec.model import Op, PatternKind, Spec
from dbarch.spec.quantities import human_count, human_duration


def time_column(spec: Spec, entity: str, table: Table) -> str | None:
    """The timestamp rows arrive by: what aggregates window over or reads range on, else
    created_at."""
    timestamps = {c.name for c in table.columns if c.type.kind == TypeKind.timestamp}
    for p in spec.access_patterns:
        if p.entity != entity:
            continue
        if p.kind == PatternKind.aggregate and p.time in timestamps:
            return p.time
    for p in spec.access_patterns:
        if p.entity == entity and p.kind == PatternKind.read:
            for f, op in p.where.items():
                if op == Op.range and f in timestamps:
                    return f
    return "created_at" if "created_at" in timestamps else None


def rows_per_day(spec: Spec, entity: str) -> float:
    """New rows a day: from the growth, from the TTL window (volume / ttl), or spread over
    the horizon when neither is given."""
    e = spec.entities[entity]
    per_day = (e.volume_at(1) - e.volume) / 365
    if e.ttl:
        per_day = max(per_day, e.volume / max(e.ttl / 86400, 1))
    if per_day <= 0:
        per_day = e.volume_at(spec.scale.horizon_years) / (spec.scale.horizon_years * 365)
    return per_day


def choose_interval(per_day: float) -> tuple[str, float]:
    """The longest interval whose partitions stay under the target size, and that size."""
    rules = design_data()["partitioning"]
    days = rules["interval_days"]
    for interval in rules["intervals"]:
        size = per_day * days[interval]
        if size <= rules["max_rows_per_partition"]:
            return interval, size
    last = rules["intervals"][-1]
    return last, per_day * days[last]


def plan_partitioning(spec: Spec, entity: str, table: Table, referenced: bool) -> None:
    """Set `table.partitioning` (and extend its key) when the volume calls for it; otherwise
    say in `table.notes` why a large table stays whole."""
    rules = design_data()["partitioning"]
    rows = table.rows_at_horizon
    if rows <= rules["min_rows_at_horizon"]:
        return
    e = spec.entities[entity]
    col = time_column(spec, entity, table)
    limit = human_count(rules["min_rows_at_horizon"])
    big = f"{human_count(rows)} rows at the horizon (over {limit})"
    by_time = any(
        p.entity == entity and (p.kind == PatternKind.aggregate
                                or any(op == Op.range and f == col for f, op in p.where.items()))
        for p in spec.access_patterns
    )
    if col is None or not (e.append_only or e.ttl or by_time):
        table.notes.append(f"{big}, but not partitioned: rows are updated in place and no "
                           "pattern reads them by time range, so partitions would not be pruned")
        return
    if referenced:
        table.notes.append(
            f"{big}, but not partitioned by {col}: other tables refer to it by id, and a "
            "foreign key to a partitioned table must reference a key that includes the "
            "partition column; at 10x, shard by id (Citus on PostgreSQL, Vitess on MySQL) "
            "rather than partition by time")
        return
    if "id" not in table.primary_key and col not in table.primary_key:
        # A natural key cannot take the partition column in: that would allow duplicates.
        table.notes.append(
            f"{big}, but not partitioned by {col}: the primary key "
            f"({', '.join(table.primary_key)}) must stay unique on its own, and PostgreSQL "
            "enforces uniqueness on a partitioned table only with the partition column in it")
        return
    # PostgreSQL and MySQL enforce a unique constraint on a partitioned table when it holds
    # the partition column; any other must stay unique on its own, so the table stays whole.
    blocking = [u for u in table.uniques if col not in u.columns]
    if blocking:
        names = ", ".join(c for u in blocking for c in u.columns)
        table.notes.append(
            f"{big}, but not partitioned: {names} must be unique on its own, and PostgreSQL "
            "enforces uniqueness on a partitioned table only with the partition column in it")
        return
    per_day = rows_per_day(spec, entity)
    interval, size = choose_interval(per_day)
    why = [
        big,
        "append-only" if e.append_only else
        f"expires after {human_duration(e.ttl)}" if e.ttl else "read by time ranges",
        f"~{human_count(per_day)} new rows a day: {interval} partitions of "
        f"~{human_count(size)} rows",
    ]
    if size > rules["max_rows_per_partition"]:
        why.append(f"still over the {human_count(rules['max_rows_per_partition'])}-row target: "
                   "hourly partitions or a time-series engine fit this volume better")
    if e.ttl:
        why.append(f"the {human_duration(e.ttl)} TTL drops whole partitions instead of "
                   "deleting rows")
    else:
        why.append("queries on recent data prune to a few partitions; old partitions are "
                   "detached and archived whole")
    table.partitioning = Partitioning(kind=PartitionKind.range, column=col, interval=interval,
                                      reason="; ".join(why))
    if col not in table.primary_key:
        table.primary_key.append(col)
        source = ("one sequence" if table.column(table.primary_key[0]).identity
                  else "UUIDv7 generation")
        table.key_reason += (f"; {col} joins the primary key because PostgreSQL requires the "
                             "partition column in every unique constraint of a partitioned "
                             f"table (the id alone stays unique: it comes from {source})")
