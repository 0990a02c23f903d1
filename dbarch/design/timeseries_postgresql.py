"""The native PostgreSQL file of the time-series part, `schema/timeseries.postgresql.sql`: the
partition functions (bounds, create, drop), each table's layout calls and BRIN, the rollups
with their refresh functions, and the pg_cron maintenance jobs.

Kept apart from the design: it only writes SQL from a `TimeSeriesPart`; `dbarch verify`
applies the same statements in order.
"""

from __future__ import annotations

from typing import Any

from dbarch.design.timeseries_buckets import _interval, bucket_sql
from dbarch.design.timeseries_rollups import TimeSeriesPart
from dbarch.schema.model import Schema, TypeKind
from dbarch.spec.quantities import human_bytes, human_count, human_duration

PG_FILE = "schema/timeseries.postgresql.sql"

_BOUNDS_FN = """CREATE OR REPLACE FUNCTION ts_partition_bounds(parent regclass)
RETURNS TABLE (part regclass, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT c.oid::regclass, m[1]::timestamptz, m[2]::timestamptz
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                  'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS m
  WHERE i.inhparent = parent AND m IS NOT NULL
$$"""

_CREATE_FN = """CREATE OR REPLACE FUNCTION ts_create_partitions(
  parent regclass, unit text, name_format text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  step interval := ('1 ' || unit)::interval;
  lo timestamptz := date_trunc(unit, from_ts, 'UTC');
  hi timestamptz;
  old record;
  made integer := 0;
  has_rows boolean;
  ns text;
  rel text;
BEGIN
  SELECT n.nspname, c.relname INTO ns, rel
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
  -- cover up to the furthest partition already there, so no other interval is left behind
  SELECT greatest(to_ts, max(b.upper_bound)) INTO to_ts FROM ts_partition_bounds(parent) b;
  WHILE lo < to_ts LOOP
    hi := lo + step;
    IF NOT EXISTS (SELECT 1 FROM ts_partition_bounds(parent) b
                   WHERE b.lower_bound = lo AND b.upper_bound = hi) THEN
      -- a partition of another interval in the way (schema/postgresql.sql's first ones):
      -- replace it while it is empty, never when it holds rows
      FOR old IN SELECT b.part, b.upper_bound FROM ts_partition_bounds(parent) b
                 WHERE b.lower_bound < hi AND b.upper_bound > lo LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', old.part) INTO has_rows;
        IF has_rows THEN
          RAISE EXCEPTION 'partition % overlaps [%, %) and holds rows', old.part, lo, hi;
        END IF;
        EXECUTE format('DROP TABLE %s', old.part);
        to_ts := greatest(to_ts, old.upper_bound);
      END LOOP;
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                     ns, rel || '_p' || to_char(lo AT TIME ZONE 'UTC', name_format),
                     parent, lo, hi);
      made := made + 1;
    END IF;
    lo := hi;
  END LOOP;
  RETURN made;
END $$"""

_DROP_FN = """CREATE OR REPLACE FUNCTION ts_drop_partitions(parent regclass, older_than timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  old record;
  dropped integer := 0;
BEGIN
  -- a partition goes once its newest possible row is past the TTL: DROP TABLE frees its
  -- files at once, no DELETE, no VACUUM, no bloat
  FOR old IN SELECT b.part FROM ts_partition_bounds(parent) b
             WHERE b.upper_bound <= older_than ORDER BY b.lower_bound LOOP
    EXECUTE format('DROP TABLE %s', old.part);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$"""


def _layout_calls(lay: dict[str, Any], at: str = "now()") -> list[str]:
    return [f"SELECT ts_create_partitions('{lay['table']}', '{lay['unit']}', "
            f"'{lay['name_format']}', {at} - INTERVAL '{_interval(lay['behind_seconds'])}', "
            f"{at} + INTERVAL '{_interval(lay['ahead_seconds'])}')"]


def _refresh_function(r: dict[str, Any]) -> str:
    """A function (from, to) recomputing the rollup's windows inside [from, to)."""
    cols = r["columns"]
    target = ", ".join(cols)
    exprs = ",\n         ".join(cols.values())
    b = bucket_sql(r["window"], "from_ts")
    hb = bucket_sql(r["window"], "to_ts")
    group = ", ".join(["1", *r["group"]])
    if r["conflict"]:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in r["conflict"])
        tail = f"\n  ON CONFLICT ({', '.join(r['conflict'])}) DO UPDATE SET {sets}"
        pre = ""
    else:
        tail = ""
        pre = (f"  DELETE FROM {r['table']} WHERE {r['bucket_column']} >= {b} "
               f"AND {r['bucket_column']} < {hb};\n")
    return (
        f"CREATE OR REPLACE FUNCTION {r['refresh_function']}(from_ts timestamptz, "
        "to_ts timestamptz)\nRETURNS bigint LANGUAGE plpgsql AS $$\n"
        "DECLARE n bigint;\nBEGIN\n" + pre +
        f"  INSERT INTO {r['table']} ({target})\n  SELECT {exprs}\n  FROM {r['source']}\n"
        f"  WHERE {r['time_column']} >= {b} AND {r['time_column']} < {hb}\n"
        f"  GROUP BY {group}{tail};\n"
        "  GET DIAGNOSTICS n = ROW_COUNT;\n  RETURN n;\nEND $$")


def _job_call(r: dict[str, Any]) -> str:
    """The scheduled call: the last closed windows, `late_windows` of them."""
    settle = _interval(r["settle_seconds"])
    back = _interval(r["window"] * r["late_windows"])
    return (f"SELECT {r['refresh_function']}(now() - INTERVAL '{settle}' - INTERVAL '{back}', "
            f"now() - INTERVAL '{settle}')")


def _cron(seconds: float) -> str:
    """A cron schedule running once per `seconds`, a few minutes past the boundary so the
    window it closes has settled."""
    if seconds < 3600:
        return f"*/{max(1, int(seconds // 60))} * * * *"
    if seconds < 86400:
        return f"10 */{int(seconds // 3600)} * * *" if seconds > 3600 else "10 * * * *"
    return "20 0 * * *"


def render_postgresql(p: TimeSeriesPart, addendum: bool) -> tuple[str, list[str]]:
    """The native PostgreSQL file, and its statements in order (for verify)."""
    from dbarch.render.ddl import statements as ddl_statements

    out: list[str] = []
    stmts: list[str] = []

    def add(sql: str, comment: str = "") -> None:
        stmts.append(sql)
        out.append((f"-- {comment}\n" if comment else "") + sql + ";\n")

    head = ["-- Time-series part: partition layout, BRIN, retention and rollups (PostgreSQL 14+).",
            "-- Generated by dbarch from the spec; see ARCHITECTURE.md §3."]
    if addendum:
        head.append("-- Apply AFTER schema/postgresql.sql, which creates these tables "
                    "(columns, keys, B-tree")
        head.append("-- indexes) once; this file lays out their partitions and adds the rest.")
    out.append("\n".join(head) + "\n")
    if not addendum:
        schema = Schema(name=p.spec.system, tables=[
            t.model_copy(update={"foreign_keys": []}) for t in p.tables.values()])
        for s in ddl_statements(schema, "postgresql"):
            add(s.text.rstrip().rstrip(";"))
    add(_BOUNDS_FN, "the partitions of a table with their bounds")
    add(_CREATE_FN, "partitions of one interval over [from, to); the maintenance job calls it")
    add(_DROP_FN, "retention: drop the partitions wholly older than the TTL")
    jobs: list[tuple[float, str]] = []
    for lay in p.layouts.values():
        why = (f"{lay['unit']} partitions: ~{human_count(lay['partition_rows_now'])} rows now, "
               f"~{human_count(lay['partition_rows'])} ({human_bytes(lay['partition_bytes'])}) "
               "at the horizon")
        for call in _layout_calls(lay):
            add(call, f"{lay['table']}: {why}; the last {human_duration(lay['behind_seconds'])} "
                      f"and {human_duration(lay['ahead_seconds'])} ahead")
        brin = lay["brin"]
        add(f"CREATE INDEX {brin['name']} ON {lay['table']} USING brin ({lay['time_column']}) "
            f"WITH (pages_per_range = {brin['pages_per_range']})",
            f"one BRIN range = {brin['pages_per_range']} pages ≈ "
            f"{human_count(brin['range_rows'])} rows ≈ "
            f"{human_duration(max(brin['range_seconds'], 1))} of ingest")
        jobs.append((min(lay["seconds"], 86400),
                     f"SELECT ts_create_partitions('{lay['table']}', '{lay['unit']}', "
                     f"'{lay['name_format']}', now(), now() + INTERVAL "
                     f"'{_interval(lay['ahead_seconds'])}')"))
        if lay["ttl"]:
            jobs.append((86400, f"SELECT ts_drop_partitions('{lay['table']}', now() - "
                                f"INTERVAL '{_interval(lay['ttl'])}')"))
    for r in p.rollups:
        if r["form"] == "matview":
            cols = ",\n       ".join(f"{e} AS {c}" for c, e in r["columns"].items())
            add(f"CREATE MATERIALIZED VIEW {r['table']} AS\nSELECT {cols}\nFROM {r['source']}\n"
                f"GROUP BY {', '.join(['1', *r['group']])}",
                f"serves {r['pattern']}: {human_count(r['source_rows'])} source rows at the "
                "horizon, small enough to recompute whole")
            add(f"CREATE UNIQUE INDEX {r['table']}_key ON {r['table']} "
                f"({', '.join([*r['key_columns_rollup'], 'bucket'])})",
                "REFRESH ... CONCURRENTLY needs a unique index")
            jobs.append((r["window"], f"REFRESH MATERIALIZED VIEW CONCURRENTLY {r['table']}"))
            continue
        if r["form"] == "table":
            cols = ["bucket timestamptz NOT NULL"] + [
                f"{c} {_pg_type(p, r['source_entity'], c)} NOT NULL"
                for c in r["key_columns"]] + [f"{r['measure']} double precision"]
            add(f"CREATE TABLE {r['table']} (\n  " + ",\n  ".join(cols) +
                f",\n  PRIMARY KEY ({', '.join(r['conflict'])})\n) PARTITION BY RANGE (bucket)",
                f"serves {r['pattern']}: {human_count(r['rows_per_window'])} rows per "
                f"{human_duration(r['window'])} instead of "
                f"{human_count(r['rows_per_window'] * r['reduction'])} raw")
            add(f"CREATE TABLE {r['table']}_default PARTITION OF {r['table']} DEFAULT",
                "catches rows outside the created ranges; alert if it is ever non-empty")
            for call in _layout_calls(r["layout"]):
                add(call)
            rl = r["layout"]
            if rl["ttl"]:
                jobs.append((86400, f"SELECT ts_drop_partitions('{r['table']}', now() - "
                                    f"INTERVAL '{_interval(rl['ttl'])}')"))
            jobs.append((min(rl["seconds"], 86400),
                         f"SELECT ts_create_partitions('{r['table']}', '{rl['unit']}', "
                         f"'{rl['name_format']}', now(), now() + INTERVAL "
                         f"'{_interval(rl['ahead_seconds'])}')"))
        add(_refresh_function(r),
            f"{r['pattern']}: recompute [from, to) of {r['table']} from {r['source']}")
        jobs.append((r["window"], _job_call(r)))
    out.append("\n-- The maintenance jobs, with pg_cron (on RDS: shared_preload_libraries = "
               "'pg_cron');\n-- partitions once per interval (at most daily), retention "
               "daily, each rollup once per window:\n" +
               "\n".join(f"-- SELECT cron.schedule('{p.spec.system}-ts-{i}', '{_cron(sec)}', "
                         f"$job${j}$job$);" for i, (sec, j) in enumerate(jobs, 1)) + "\n")
    return "\n".join(out), stmts


def _pg_type(p: TimeSeriesPart, entity: str, column: str) -> str:
    kind = p.tables[entity].column(column).type.kind
    return {TypeKind.bigint: "bigint", TypeKind.int: "integer", TypeKind.uuid: "uuid",
            TypeKind.timestamp: "timestamptz", TypeKind.bool: "boolean",
            TypeKind.float: "double precision"}.get(kind, "text")
