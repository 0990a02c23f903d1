"""Time-series design on PostgreSQL: native range partitions sized from the ingest rate, BRIN
on the time column, retention by dropping partitions, a rollup per window aggregate, and
the TimescaleDB hypertable rendering as the alternative.

The time-series tables themselves (columns, keys, B-tree indexes) are the relational
designer's: when the part lives in the primary PostgreSQL schema they are created by
`schema/postgresql.sql`, and `schema/timeseries.postgresql.sql` is applied after it. That file
owns the partition *layout*: it re-lays the first partitions postgresql.sql creates (empty on a
fresh database) at this design's interval, covers the recent past as well as the time ahead,
and adds what only a time-series design knows (BRIN, retention, rollups). Limits and
thresholds are data: `dbarch/data/timeseries.yaml`.

This module holds the designer and the model `dbarch verify` reads (the base tables and
the synthetic ingest); its siblings hold the rest: timeseries_sizing (the data file,
ingest rate, partition interval), timeseries_buckets (time buckets and interval literals
in SQL), timeseries_partitions (the part's tables, partition layout, BRIN),
timeseries_rollups (a rollup per window aggregate), timeseries_postgresql and
timeseries_timescaledb (the two SQL files) and timeseries_section (ARCHITECTURE.md).
"""

from __future__ import annotations

from typing import Any

from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.timeseries_postgresql import PG_FILE, render_postgresql
from dbarch.design.timeseries_rollups import TimeSeriesPart
from dbarch.design.timeseries_section import _section
from dbarch.design.timeseries_timescaledb import TS_FILE, render_timescaledb
from dbarch.schema.model import Schema, TypeKind
from dbarch.select.model import Decision
from dbarch.spec.model import PatternKind, Spec

PRODUCTS = ("postgresql", "timescaledb")
"""Products this designer renders for; another time-series product gets a finding only."""


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The time-series part: partitions, BRIN, retention, rollups; TimescaleDB as the
    alternative rendering."""
    if decision.product not in PRODUCTS:
        return PartDesign(
            part=decision.part, paradigm=decision.paradigm.value, product=decision.product,
            summary=f"{decision.product_name} is sized and chosen, not designed here",
            findings=[PartFinding(severity="info", message=(
                f"dbarch designs time series for PostgreSQL and TimescaleDB only; no "
                f"{decision.product_name} schema is generated"))])
    p = TimeSeriesPart(spec, decision)
    for entity in decision.entities:
        if entity in p.tables:
            lay = p.layout(entity)
            if lay is not None:
                p.layouts[entity] = lay
    for a in spec.access_patterns:
        if a.kind == PatternKind.aggregate and a.name in decision.patterns:
            if a.entity not in p.layouts:
                p.findings.append(PartFinding(severity="warning", pattern=a.name, message=(
                    f"{a.name} aggregates {a.entity}, which is not partitioned by time here")))
                continue
            p.rollup(a)
    addendum = decision.in_primary_schema
    pg_text, pg_statements = render_postgresql(p, addendum)
    ts_text = render_timescaledb(p)
    summary = ", ".join(f"{lay['table']} in {lay['unit']} partitions"
                        for lay in p.layouts.values())
    return PartDesign(
        part=decision.part, paradigm=decision.paradigm.value, product=decision.product,
        summary=(f"Range partitions by time ({summary}), BRIN, retention by dropping "
                 f"partitions, {len(p.rollups)} rollup(s); TimescaleDB as the alternative"),
        section=_section(p, addendum),
        artifacts={PG_FILE: pg_text, TS_FILE: ts_text},
        findings=p.findings,
        model={"addendum": addendum, "layouts": list(p.layouts.values()),
               "rollups": p.rollups, "statements": pg_statements,
               "base": _base_statements(p), "ingest": _ingest(p)})


def _base_statements(p: TimeSeriesPart) -> list[str]:
    """The tables as schema/postgresql.sql creates them, without their foreign keys (the
    referenced tables belong to the relational part): verify starts from these."""
    from dbarch.render.ddl import statements as ddl_statements

    schema = Schema(name=p.spec.system, tables=[
        t.model_copy(update={"foreign_keys": []}) for t in p.tables.values()])
    return [s.text.rstrip().rstrip(";") for s in ddl_statements(schema, "postgresql")]


def _ingest(p: TimeSeriesPart) -> list[dict[str, Any]]:
    """INSERT ... SELECT generate_series for each raw table (not the rollup entities), at the
    spec's shape: every series (key × enum value) at the spec's sampling interval."""
    rollup_targets = {r.get("entity") for r in p.rollups}
    out = []
    for entity, lay in p.layouts.items():
        if entity in rollup_targets:
            continue
        table = p.tables[entity]
        refs = {f"{r.field_name}_id": r for r in p.spec.references_of(entity)}
        exprs: dict[str, str] = {}
        series_from: list[str] = []
        first_ref: str | None = None
        for c in table.columns:
            if c.identity or (c.default is not None and c.name != lay["time_column"]):
                continue
            k = c.type.kind
            if c.name == lay["time_column"]:
                exprs[c.name] = "ts"
            elif c.name in refs:
                if first_ref is None:
                    first_ref = c.name
                    exprs[c.name] = "k.k"
                else:  # another reference: one per key, as site is per device
                    exprs[c.name] = "mod(k.k, 3) + 1"
            elif k == TypeKind.enum and c.type.values:
                vals = ", ".join(f"'{v}'" for v in c.type.values)
                if not series_from:
                    series_from.append(f"generate_series(1, {len(c.type.values)}) e(e)")
                    exprs[c.name] = f"(ARRAY[{vals}])[e.e]"
                else:
                    exprs[c.name] = f"(ARRAY[{vals}])[1]"
            elif k in (TypeKind.float, TypeKind.decimal):
                exprs[c.name] = ("(mod(extract(epoch FROM ts)::bigint, 97) + k.k * 3 + "
                                 f"{'e.e' if series_from else '0'})::float8")
            elif k in (TypeKind.int, TypeKind.bigint, TypeKind.smallint):
                exprs[c.name] = "mod(extract(epoch FROM ts)::bigint, 100)::int"
            elif k == TypeKind.bool:
                exprs[c.name] = "true"
            elif k == TypeKind.timestamp:
                exprs[c.name] = "ts"
            elif k == TypeKind.uuid:
                exprs[c.name] = "gen_random_uuid()"
            elif k == TypeKind.json:
                exprs[c.name] = "'{}'::jsonb"
            elif not c.nullable:
                exprs[c.name] = "'x'"
        source = ["generate_series(%(from)s::timestamptz, %(to)s::timestamptz - INTERVAL "
                  "'1 microsecond', %(step)s::interval) ts",
                  "generate_series(1, %(keys)s) k(k)", *series_from]
        sql = (f"INSERT INTO {lay['table']} ({', '.join(exprs)})\nSELECT "
               f"{', '.join(exprs.values())}\nFROM {', '.join(source)}")
        parent = refs[first_ref].parent if first_ref else None
        series = p.spec.entities[parent].volume if parent in p.spec.entities else None
        per_key = len(p.tables[entity].column(next(
            (c for c in exprs if "e.e]" in exprs[c]), lay["time_column"])).type.values or ()) or 1
        # the spec's own sampling interval: series / rate (25k devices × 8 metrics at 20k/s:
        # one sample per series every 10 s)
        step = max(1.0, (series or 1) * per_key / max(lay["rate_now"], 1e-9))
        out.append({"entity": entity, "table": lay["table"], "sql": sql,
                    "step_seconds": step, "series_per_key": per_key,
                    "key_column": first_ref})
    return out
