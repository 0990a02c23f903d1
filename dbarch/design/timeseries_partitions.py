"""The time-series part's working state and its partition layout: the relational tables of the
part, one range-partition layout per table sized from the ingest rate, and BRIN on the time
column.

The rollups (`timeseries_rollups.TimeSeriesPart`) extend this state; kept apart because the
layout is what every rollup and renderer reads, and it reads no rollup.
"""

from __future__ import annotations

from typing import Any

from dbarch.design import partitioning
from dbarch.design.parts import PartFinding
from dbarch.design.relational import (
    design_relational,
    field_columns,
    fields_of,
    references_by_child,
)
from dbarch.design.sizing import table_size
from dbarch.design.timeseries_sizing import choose_interval, growth, ingest_rate, ts_data
from dbarch.schema.model import Partitioning, PartitionKind, Table
from dbarch.select.model import Decision
from dbarch.spec.model import PatternKind, Spec
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate


class PartitionedPart:
    """Working state of one design: the relational tables of the part and what is derived."""

    def __init__(self, spec: Spec, decision: Decision) -> None:
        from dbarch.select import recommend

        self.spec = spec
        self.decision = decision
        decisions = recommend(spec)
        for d in decisions.parts:
            # Design the tables even when the part lives outside the primary schema: the
            # columns and keys are the same, only who creates them differs.
            if d.part == decision.part or set(d.entities) == set(decision.entities):
                d.in_primary_schema = True
        schema = design_relational(spec, decisions)
        self.tables: dict[str, Table] = {t.entity: t for t in schema.tables
                                         if t.entity in decision.entities}
        refs = references_by_child(spec)
        self.columns = {e: field_columns(fields_of(spec, e, refs), t)
                        for e, t in self.tables.items()}
        self.findings: list[PartFinding] = []
        self.layouts: dict[str, dict[str, Any]] = {}
        self.rollups: list[dict[str, Any]] = []

    # ----------------------------------------------------------------- partitions
    def time_column(self, entity: str) -> str | None:
        t = self.tables[entity]
        if t.partitioning is not None:
            return t.partitioning.column
        return partitioning.time_column(self.spec, entity, t)

    def layout(self, entity: str) -> dict[str, Any] | None:
        """The partition layout of one table, with the numbers behind it."""
        table = self.tables[entity]
        col = self.time_column(entity)
        if col is None:
            self.findings.append(PartFinding(
                severity="warning",
                message=f"{entity} has no timestamp to partition by: no aggregate windows over "
                        "one, no read ranges on one and it has no created_at"))
            return None
        if table.partitioning is None:
            if self.decision.in_primary_schema:
                # postgresql.sql creates it whole; a table cannot be partitioned afterwards
                self.findings.append(PartFinding(severity="warning", message=(
                    f"{table.name} is created unpartitioned by schema/postgresql.sql "
                    f"({human_count(table.rows_at_horizon)} rows at the horizon); its time-series "
                    "layout needs it created PARTITION BY RANGE")))
                return None
            table.partitioning = Partitioning(kind=PartitionKind.range, column=col,
                                              reason="time-series part")
            if col not in table.primary_key:
                # PostgreSQL requires the partition column in every unique key
                table.primary_key.append(col)
        size = table_size(self.spec, table, "postgresql")
        per_row = size.row_bytes + size.index_bytes_per_row
        rate_now = ingest_rate(self.spec, entity)
        rate_h = rate_now * growth(self.spec, entity)
        ttl = self.spec.entities[entity].ttl
        choice = choose_interval(rate_h, per_row, ttl)
        rules = ts_data()["partitioning"]
        behind = min(rules["behind_seconds"], ttl) if ttl else rules["behind_seconds"]
        lay = {
            "entity": entity, "table": table.name, "time_column": col,
            "unit": choice["interval"], "step": rules["sql"][choice["interval"]],
            "seconds": choice["seconds"], "name_format": rules["name_format"][choice["interval"]],
            "rate_now": rate_now, "rate_horizon": rate_h, "row_bytes": size.row_bytes,
            "index_bytes_per_row": size.index_bytes_per_row,
            "partition_rows_now": rate_now * choice["seconds"],
            "partition_rows": choice["rows"], "partition_bytes": choice["bytes"],
            "target_bytes": choice["target_bytes"], "live_partitions": choice["live"],
            "ttl": ttl, "behind_seconds": behind,
            "ahead_seconds": rules["ahead"] * choice["seconds"],
            "relational_interval": table.partitioning.interval if table.partitioning else None,
        }
        if not choice["fits"]:
            self.findings.append(PartFinding(
                severity="warning",
                message=(
                    f"{table.name}: at the horizon's {human_rate(rate_h)} even "
                    f"{choice['interval']} partitions hold {human_count(choice['rows'])} rows, "
                    f"{human_bytes(choice['bytes'])} with their indexes, over the "
                    f"{human_bytes(choice['target_bytes'])} that should stay in memory (25% of "
                    f"{human_bytes(rules['memory_bytes'])}); one PostgreSQL server cannot keep "
                    "the partition being written cached: shard by device (Citus) or use "
                    "TimescaleDB with compression, or size the server's memory to "
                    f"{human_bytes(choice['bytes'] / rules['memory_share'])}")))
        if choice["live"] and choice["live"] > rules["max_live_partitions"]:
            self.findings.append(PartFinding(
                severity="warning",
                message=f"{table.name}: {choice['live']} live partitions "
                        f"({human_duration(ttl or 0)} of {choice['interval']} partitions), "
                        "over the "
                        f"{rules['max_live_partitions']} PostgreSQL plans well; queries that do "
                        "not prune pay planning time per partition"))
        lay["brin"] = self.brin(entity, lay)
        return lay

    def brin(self, entity: str, lay: dict[str, Any]) -> dict[str, Any]:
        """BRIN on the time column: pages_per_range from the rows a page holds and the
        narrowest window a pattern reads."""
        rules = ts_data()["brin"]
        rows_per_page = max(1, int(rules["page_bytes"] * rules["page_fill"] // lay["row_bytes"]))
        windows = [p.window for p in self.spec.access_patterns
                   if p.entity == entity and p.kind == PatternKind.aggregate and p.window]
        narrowest = min(windows) if windows else lay["seconds"]
        pages_in_window = lay["rate_now"] * narrowest / rows_per_page
        ppr = rules["default_pages_per_range"]
        share = rules["max_range_share"]
        while ppr > rules["min_pages_per_range"] and ppr > pages_in_window * share:
            ppr //= 2
        range_rows = ppr * rows_per_page
        return {"pages_per_range": ppr, "rows_per_page": rows_per_page,
                "range_rows": range_rows, "range_seconds": range_rows / lay["rate_now"],
                "narrowest_window": narrowest,
                "name": f"{lay['table']}_{lay['time_column']}_brin"}
