"""Bytes per row and index bytes per row of each table, from its column types.

Per-type widths, row overhead, dead-row allowance and B-tree fill come from
`dbarch/data/scaling.yaml`; a relational table is sized from its columns and indexes, an entity
stored outside the relational schema from its spec attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dbarch.design.ceilings import scaling_data
from dbarch.schema.model import Column, Table, TypeKind
from dbarch.spec.model import AttrType, Spec

# column kinds whose sizes the data file holds.
_ATTR_KIND: dict[AttrType, str] = {
    AttrType.string: "string", AttrType.text: "text", AttrType.int: "int",
    AttrType.bigint: "bigint", AttrType.decimal: "decimal", AttrType.money: "decimal",
    AttrType.float: "float", AttrType.bool: "bool", AttrType.date: "date",
    AttrType.timestamp: "timestamp", AttrType.uuid: "uuid", AttrType.email: "string",
    AttrType.enum: "enum", AttrType.json: "json", AttrType.map: "json", AttrType.list: "array",
    AttrType.blob: "blob", AttrType.geo: "geo",
}


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
    # Keys a partitioning scheme must keep: the primary key, every other unique key (each
    # must hold the partition column) and whether the table holds foreign keys.
    primary_key: tuple[str, ...] = ()
    uniques: tuple[tuple[str, ...], ...] = ()
    has_foreign_keys: bool = False

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

    def total_bytes(self, rows: float) -> float:
        """Data plus indexes for `rows` rows."""
        return self.data_bytes(rows) + self.index_bytes(rows)

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
        primary_key=tuple(table.primary_key),
        uniques=tuple(tuple(u.columns) for u in table.uniques),
        has_foreign_keys=bool(table.foreign_keys),
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

