"""The TimescaleDB alternative of the time-series part, `schema/timeseries.timescaledb.sql`:
hypertables, retention and compression policies, a continuous aggregate per rollup.

Kept apart from the native PostgreSQL file: a different product's SQL from the same
`TimeSeriesPart`, checked by `dbarch verify` with pglast and the documented functions only.
"""

from __future__ import annotations

from dbarch.design.timeseries_buckets import _interval
from dbarch.design.timeseries_rollups import TimeSeriesPart
from dbarch.design.timeseries_sizing import ts_data
from dbarch.schema.model import Schema
from dbarch.spec.model import PatternKind

TS_FILE = "schema/timeseries.timescaledb.sql"


def render_timescaledb(p: TimeSeriesPart) -> str:
    """The TimescaleDB alternative: hypertables, retention and compression policies, a
    continuous aggregate per rollup of our own."""
    from dbarch.render.ddl import statements as ddl_statements

    comp = ts_data()["compression"]
    out = ["-- Time-series part rendered for TimescaleDB 2.x, the alternative to",
           "-- schema/timeseries.postgresql.sql: create the other tables from",
           "-- schema/postgresql.sql, then these in place of its time-series tables.",
           f"-- {ts_data()['timescaledb']['not_installed']}.",
           "CREATE EXTENSION IF NOT EXISTS timescaledb;", ""]
    plain = [t.model_copy(update={"partitioning": None}) for t in p.tables.values()]
    for s in ddl_statements(Schema(name=p.spec.system, tables=plain), "postgresql"):
        out.append(s.text.rstrip().rstrip(";") + ";\n")
    for lay in p.layouts.values():
        t = lay["table"]
        eqs = _segment_by(p, lay["entity"])
        after = max(comp["compress_after_intervals"] * lay["seconds"],
                    comp["compress_after_min_seconds"])
        out.append(f"SELECT create_hypertable('{t}', '{lay['time_column']}', "
                   f"chunk_time_interval => INTERVAL '{_interval(lay['seconds'])}');")
        if lay["ttl"]:
            out.append(f"SELECT add_retention_policy('{t}', INTERVAL '{_interval(lay['ttl'])}');")
        seg = f", timescaledb.compress_segmentby = '{', '.join(eqs)}'" if eqs else ""
        out.append(f"ALTER TABLE {t} SET (timescaledb.compress{seg}, "
                   f"timescaledb.compress_orderby = '{lay['time_column']} DESC');")
        out.append(f"SELECT add_compression_policy('{t}', INTERVAL '{_interval(after)}');\n")
    for r in p.rollups:
        if r["form"] == "entity":
            out.append(f"-- {r['pattern']}: read from {r['table']} (the spec's own rollup), "
                       f"filled by {r['refresh_function']} as on native PostgreSQL")
            continue
        cols = ",\n       ".join(
            (f"time_bucket(INTERVAL '{_interval(r['window'])}', {r['time_column']})"
             if c == "bucket" else e) + f" AS {c}" for c, e in r["columns"].items())
        out.append(f"CREATE MATERIALIZED VIEW {r['table']} WITH (timescaledb.continuous) AS\n"
                   f"SELECT {cols}\nFROM {r['source']}\n"
                   f"GROUP BY {', '.join(['bucket', *r['group']])}\nWITH NO DATA;")
        start = r["window"] * (r["late_windows"] + 1)
        out.append(f"SELECT add_continuous_aggregate_policy('{r['table']}', "
                   f"start_offset => INTERVAL '{_interval(start)}', "
                   f"end_offset => INTERVAL '{_interval(r['window'])}', "
                   f"schedule_interval => INTERVAL '{_interval(r['window'])}');\n")
    return "\n".join(out)


def _segment_by(p: TimeSeriesPart, entity: str) -> list[str]:
    """The columns the patterns filter by equality: compression segments by them."""
    cols = p.columns[entity]
    seen: dict[str, None] = {}
    for a in p.spec.access_patterns:
        if a.entity == entity and a.kind != PatternKind.write:
            for f, op in a.where.items():
                if op.value == "eq" and f in cols:
                    seen.setdefault(cols[f])
    return list(seen)
