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
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from dbarch.design import partitioning
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.relational import (
    design_relational,
    field_columns,
    fields_of,
    references_by_child,
)
from dbarch.design.sizing import table_size
from dbarch.schema.model import Partitioning, PartitionKind, Schema, Table, TypeKind
from dbarch.select.model import Decision
from dbarch.select.tuning import load_yaml
from dbarch.spec.model import AccessPattern, PatternKind, RelKind, Spec, WriteOp
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

PRODUCTS = ("postgresql", "timescaledb")
"""Products this designer renders for; another time-series product gets a finding only."""

PG_FILE = "schema/timeseries.postgresql.sql"
TS_FILE = "schema/timeseries.timescaledb.sql"
# date_bin's origin: a Monday at UTC midnight, so 1d and 7d buckets line up with date_trunc.
ORIGIN = "TIMESTAMPTZ '2000-01-03 00:00:00+00'"


@cache
def ts_data() -> dict[str, Any]:
    """The parsed `dbarch/data/timeseries.yaml`."""
    data: dict[str, Any] = load_yaml("timeseries.yaml")
    return data


# --------------------------------------------------------------------------- sizing
def ingest_rate(spec: Spec, entity: str) -> float:
    """Rows written per second now: the insert/upsert patterns on the entity, else the
    arrival rate the volume and TTL imply."""
    rate = sum(p.rate for p in spec.access_patterns
               if p.kind == PatternKind.write and p.operation in (WriteOp.insert, WriteOp.upsert)
               and (p.entity == entity or entity in p.touches))
    return rate or partitioning.rows_per_day(spec, entity) / 86400


def growth(spec: Spec, entity: str) -> float:
    """How much the ingest rate grows by the horizon (it follows the volume)."""
    e = spec.entities[entity]
    return e.volume_at(spec.scale.horizon_years) / e.volume if e.volume else 1.0


def choose_interval(rate: float, row_bytes: float, ttl: float | None) -> dict[str, Any]:
    """The longest interval whose partition (at `rate` rows/s, `row_bytes` each with its
    indexes) fits the memory target and that divides the TTL finely enough."""
    rules = ts_data()["partitioning"]
    target = rules["memory_bytes"] * rules["memory_share"]
    finest_for_ttl = ttl / rules["min_partitions_per_ttl"] if ttl else math.inf
    allowed = [i for i in rules["intervals"] if rules["seconds"][i] <= finest_for_ttl]
    allowed = allowed or [rules["intervals"][-1]]
    chosen = next((i for i in allowed if rate * rules["seconds"][i] * row_bytes <= target),
                  allowed[-1])
    seconds = rules["seconds"][chosen]
    span = ttl or 0
    return {"interval": chosen, "seconds": seconds, "rows": rate * seconds,
            "bytes": rate * seconds * row_bytes, "target_bytes": target,
            "fits": rate * seconds * row_bytes <= target,
            "live": math.ceil(span / seconds) + rules["ahead"] if span else None}


# --------------------------------------------------------------------------- buckets
def bucket_sql(window: float, expr: str) -> str:
    """The SQL that floors `expr` to its window: date_bin for whole-second windows under a
    month (PostgreSQL 14+), date_trunc by month beyond (date_bin takes no months)."""
    if window >= 28 * 86400:
        return f"date_trunc('month', {expr}, 'UTC')"
    return f"date_bin(INTERVAL '{_interval(window)}', {expr}, {ORIGIN})"


def _interval(seconds: float) -> str:
    """A PostgreSQL interval literal body: `5 minutes`, `1 hour`, `7 days`."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{int(seconds)} seconds"


def _window_name(seconds: float) -> str:
    return human_duration(seconds).replace(" ", "")


def _measure(measure: str | None) -> tuple[str, str | None]:
    """`avg(value)` → ("avg", "value"); `count` → ("count", None)."""
    m = re.fullmatch(r"\s*(\w+)\s*\(\s*(\w+|\*)?\s*\)\s*", measure or "count")
    if not m:
        return "count", None
    fn, col = m.group(1).lower(), m.group(2)
    return fn, (None if col in (None, "*") else col)


# --------------------------------------------------------------------------- the part
class _Part:
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

    # ----------------------------------------------------------------- rollups
    def distinct(self, entity: str, field: str) -> float | None:
        """How many values a field takes: an enum's values, a referenced entity's volume at
        the horizon; None when unknown."""
        e = self.spec.entities[entity]
        attr = e.attributes.get(field)
        if attr is not None:
            if attr.values:
                return len(attr.values)
            return 2 if attr.type.value == "bool" else None
        for r in self.spec.references_of(entity):
            if r.field_name == field and r.parent in self.spec.entities:
                return self.spec.entities[r.parent].volume_at(self.spec.scale.horizon_years)
        return None

    def determined(self, entity: str, keys: list[str]) -> set[str]:
        """Reference fields a key implies: site is one per device when Device refers to Site."""
        parent = {r.field_name: r.parent for r in self.spec.references_of(entity)}
        out = set()
        for k in keys:
            for other in keys:
                if other == k or k not in parent or other not in parent:
                    continue
                if any(r.child == parent[other] and r.parent == parent[k]
                       and r.kind == RelKind.many_to_one for r in self.spec.relationships):
                    out.add(k)
        return out

    def own_rollup(self, p: AccessPattern, keys: list[str]) -> str | None:
        """An entity of the part that already holds this aggregate (the spec's own rollup,
        e.g. ReadingHourly for avg(value) per hour): every required field derivable."""
        fn, col = _measure(p.measure)
        unit_names = {3600: ("hour", "hourly"), 86400: ("day", "daily"),
                      60: ("minute",), 604800: ("week", "weekly")}.get(int(p.window or 0), ())
        for name in self.decision.entities:
            if name == p.entity or name not in self.tables:
                continue
            e = self.spec.entities[name]
            stamps = [a for a, v in e.attributes.items() if v.type.value == "timestamp"]
            named = any(u in name.lower() for u in unit_names) or any(s in unit_names
                                                                     for s in stamps)
            fields = set(e.attributes) | {r.field_name for r in self.spec.references_of(name)}
            if not (named and stamps and f"{fn}_{col}" in fields and set(keys) <= fields):
                continue
            return name
        return None

    def rollup(self, p: AccessPattern) -> dict[str, Any] | None:
        """The rollup serving one window aggregate, with its refresh and its read."""
        if p.entity not in self.layouts or not p.window:
            return None
        lay = self.layouts[p.entity]
        src_cols = self.columns[p.entity]
        eqs = [f for f, op in p.where.items() if op.value in ("eq", "in") and f in src_cols]
        keys = list(dict.fromkeys([*eqs, *(g for g in p.group_by if g in src_cols)]))
        fn, col = _measure(p.measure)
        value = f"{fn}({src_cols.get(col, col)})" if col else "count(*)"
        out_name = f"{fn}_{col}" if col else "count"
        time_col = lay["time_column"]
        window = float(p.window)
        bucket = bucket_sql(window, time_col)
        series = 1.0
        for k in keys:
            if k in self.determined(p.entity, keys):
                continue
            n = self.distinct(p.entity, k)
            series *= n if n else lay["rate_horizon"] * window
        rows_per_window = min(series, lay["rate_horizon"] * window)
        key_cols = [src_cols[k] for k in keys]
        owner = self.own_rollup(p, keys)
        raw = (f"SELECT {bucket} AS bucket, {', '.join(key_cols)}, {value} AS {out_name}\n"
               f"FROM {lay['table']}\nWHERE " +
               " AND ".join([*(f"{src_cols[f]} = %({f})s" for f in eqs),
                             f"{time_col} >= %(from)s", f"{time_col} < %(to)s"]) +
               f"\nGROUP BY 1, {', '.join(key_cols)}\nORDER BY 1, {', '.join(key_cols)}")
        r: dict[str, Any] = {
            "pattern": p.name, "source": lay["table"], "source_entity": p.entity,
            "time_column": time_col, "window": window, "keys": keys, "key_columns": key_cols,
            "eq_fields": eqs, "measure": out_name, "expr": value, "raw_sql": raw,
            "series": series, "rows_per_window": rows_per_window,
            "reduction": lay["rate_horizon"] * window / max(rows_per_window, 1),
            "cadence": window, "rate": p.rate,
        }
        if owner is not None:
            self.own_rollup_form(r, owner)
        else:
            self.new_rollup_form(r, lay)
        return r

    def own_rollup_form(self, r: dict[str, Any], owner: str) -> None:
        """The spec's own rollup entity is the rollup: a function fills it from the source."""
        table = self.tables[owner]
        cols = self.columns[owner]
        src = self.columns[r["source_entity"]]
        rules = ts_data()["rollups"]
        e = self.spec.entities[owner]
        stamp = next(a for a, v in e.attributes.items() if v.type.value == "timestamp")
        fields = {r2.field_name for r2 in self.spec.references_of(owner)} | set(e.attributes)
        # every field of the owner derivable from the source: a key, a <fn>_<column>
        # measure, the count, or a reference the source also carries (determined by a key).
        select: dict[str, str] = {cols[stamp]: bucket_sql(r["window"], r["time_column"])}
        group = []
        for f in sorted(fields - {stamp}, key=lambda f: list(cols).index(f) if f in cols else 0):
            if f in src and (f in r["keys"] or f in {x.field_name for x in
                                                     self.spec.references_of(owner)}):
                select[cols[f]] = src[f]
                group.append(src[f])
                continue
            m = re.fullmatch(r"(avg|min|max|sum|count)_(\w+)", f)
            if m and m.group(2) in src:
                select[cols[f]] = f"{m.group(1)}({src[m.group(2)]})"
            elif f in rules["count_names"]:
                select[cols[f]] = "count(*)"
            elif e.attributes.get(f) is not None and not e.attributes[f].required:
                continue
            else:
                return self.new_rollup_form(r, self.layouts[r["source_entity"]])
        conflict = next((u.columns for u in table.uniques
                         if set(u.columns) <= set(select) and cols[stamp] in u.columns), None)
        r.update({
            "form": "entity", "table": table.name, "entity": owner,
            "bucket_column": cols[stamp], "columns": select, "group": group,
            "conflict": conflict, "measure_column": cols[r["measure"]],
            "key_columns_rollup": [cols[k] for k in r["keys"]],
        })
        writers = [p.name for p in self.spec.access_patterns
                   if p.kind == PatternKind.write and p.entity == owner]
        r["writers"] = writers
        self.finish_rollup(r)

    def new_rollup_form(self, r: dict[str, Any], lay: dict[str, Any]) -> None:
        """A rollup of our own: a table refreshed one closed window at a time when the
        source is large, a materialized view when it is small."""
        rules = ts_data()["rollups"]
        src_rows = self.tables[r["source_entity"]].rows_at_horizon
        name = f"{r['source']}_{_window_name(r['window'])}_{r['measure']}".replace("(", "")
        select = {"bucket": bucket_sql(r["window"], r["time_column"])}
        select.update({c: c for c in r["key_columns"]})
        select[r["measure"]] = r["expr"]
        r.update({"table": name, "bucket_column": "bucket", "columns": select,
                  "group": r["key_columns"], "measure_column": r["measure"],
                  "key_columns_rollup": r["key_columns"]})
        if src_rows <= rules["materialized_view_max_source_rows"]:
            r.update({"form": "matview", "conflict": None, "source_rows": src_rows})
        else:
            eq_cols = [self.columns[r["source_entity"]][f] for f in r["eq_fields"]]
            pk = [*eq_cols, "bucket", *(c for c in r["key_columns"] if c not in eq_cols)]
            # the rollup is itself a time series: partitioned like its source
            per_row = 24 + 8 * len(select) + (8 * len(pk) + 16) / 0.9
            rate = r["rows_per_window"] / r["window"]
            choice = choose_interval(rate, per_row, lay["ttl"])
            rules_p = ts_data()["partitioning"]
            r.update({"form": "table", "conflict": pk, "source_rows": src_rows,
                      "layout": {"table": name, "time_column": "bucket",
                                 "unit": choice["interval"],
                                 "name_format": rules_p["name_format"][choice["interval"]],
                                 "seconds": choice["seconds"], "ttl": lay["ttl"],
                                 "partition_rows": choice["rows"],
                                 "behind_seconds": lay["behind_seconds"],
                                 "ahead_seconds": rules_p["ahead"] * choice["seconds"]}})
        self.finish_rollup(r)

    def finish_rollup(self, r: dict[str, Any]) -> None:
        """The refresh function, the job's call and the read through the rollup."""
        rules = ts_data()["rollups"]
        eqs = r["eq_fields"]
        owner_cols = (self.columns[r["entity"]] if r["form"] == "entity"
                      else {f: c for f, c in zip(r["keys"], r["key_columns"], strict=True)})
        where = [f"{owner_cols[f]} = %({f})s" for f in eqs]
        b = r["bucket_column"]
        keys = r["key_columns_rollup"]
        r["read_sql"] = (f"SELECT {b} AS bucket, {', '.join(keys)}, {r['measure_column']} AS "
                         f"{r['measure']}\nFROM {r['table']}\nWHERE " +
                         " AND ".join([*where, f"{b} >= %(from)s", f"{b} < %(to)s"]) +
                         f"\nORDER BY 1, {', '.join(keys)}")
        r["refresh_function"] = f"refresh_{r['table']}"[:63]
        r["late_windows"] = rules["late_windows"]
        r["settle_seconds"] = rules["settle_seconds"]
        self.rollups.append(r)


# --------------------------------------------------------------------------- rendering
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


def render_postgresql(p: _Part, addendum: bool) -> tuple[str, list[str]]:
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


def _pg_type(p: _Part, entity: str, column: str) -> str:
    kind = p.tables[entity].column(column).type.kind
    return {TypeKind.bigint: "bigint", TypeKind.int: "integer", TypeKind.uuid: "uuid",
            TypeKind.timestamp: "timestamptz", TypeKind.bool: "boolean",
            TypeKind.float: "double precision"}.get(kind, "text")


def render_timescaledb(p: _Part) -> str:
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


def _segment_by(p: _Part, entity: str) -> list[str]:
    """The columns the patterns filter by equality: compression segments by them."""
    cols = p.columns[entity]
    seen: dict[str, None] = {}
    for a in p.spec.access_patterns:
        if a.entity == entity and a.kind != PatternKind.write:
            for f, op in a.where.items():
                if op.value == "eq" and f in cols:
                    seen.setdefault(cols[f])
    return list(seen)


# --------------------------------------------------------------------------- section
def _section(p: _Part, addendum: bool) -> str:
    rules = ts_data()["partitioning"]
    comp = ts_data()["compression"]
    lines = []
    if addendum:
        lines.append(
            "The time-series tables live in the primary PostgreSQL database: "
            "`schema/postgresql.sql` creates them (columns, keys, B-tree indexes) once, and "
            f"`{PG_FILE}`, applied after it, owns their partition layout: it re-lays the "
            "first partitions postgresql.sql creates (empty on a new database) at the interval "
            "below, creates the recent past and the time ahead, and adds BRIN, retention and "
            "the rollups. The DEFAULT partition stays as a safety net; alert if it holds rows.")
    lines.append("")
    lines.append("| table | ingest now → horizon | interval | rows / partition now → horizon "
                 "| bytes / partition at horizon | live partitions | BRIN pages_per_range |")
    lines.append("|---|---|---|---|---|---|---|")
    for lay in p.layouts.values():
        lines.append(
            f"| {lay['table']} | {human_rate(lay['rate_now'])} → "
            f"{human_rate(lay['rate_horizon'])} | {lay['unit']} | "
            f"{human_count(lay['partition_rows_now'])} → {human_count(lay['partition_rows'])} | "
            f"{human_bytes(lay['partition_bytes'])} | {lay['live_partitions'] or 'all kept'} | "
            f"{lay['brin']['pages_per_range']} |")
    lines.append("")
    target = rules["memory_bytes"] * rules["memory_share"]
    for lay in p.layouts.values():
        per_row = lay["row_bytes"] + lay["index_bytes_per_row"]
        rel = lay["relational_interval"]
        b = lay["brin"]
        lines.append(
            f"- **{lay['table']}** by `{lay['time_column']}`, one partition per {lay['unit']}: "
            f"{per_row} bytes a row with its indexes ({lay['row_bytes']} heap + "
            f"{lay['index_bytes_per_row']} index) × {human_rate(lay['rate_horizon'])} at the "
            f"horizon; the longest interval whose partition stays under "
            f"{human_bytes(target)} (25% of a {human_bytes(rules['memory_bytes'])} server, so "
            "the partition being written stays cached with its indexes)" +
            (f" and that cuts the {human_duration(lay['ttl'])} TTL into at least "
             f"{rules['min_partitions_per_ttl']} partitions" if lay["ttl"] else "") + "." +
            (f" schema/postgresql.sql lays out {rel} partitions; this part's layout "
             "replaces them." if addendum and rel and rel != lay["unit"] else ""))
        lines.append(
            f"  BRIN on `{lay['time_column']}` with pages_per_range = {b['pages_per_range']}: "
            f"~{b['rows_per_page']} rows a page, so one range covers "
            f"~{human_count(b['range_rows'])} rows, {human_duration(max(b['range_seconds'], 1))} "
            f"of ingest, finer than the narrowest window read "
            f"({human_duration(b['narrowest_window'])}); a scan of the last window inside a "
            f"partition reads those ranges only. Rows are appended in time order; a replayed "
            "backlog lands in its own (older) partition and widens only the ranges it fills.")
        if lay["ttl"]:
            lines.append(
                f"  Retention: `ts_drop_partitions('{lay['table']}', now() - INTERVAL "
                f"'{_interval(lay['ttl'])}')` daily drops whole partitions (no DELETE, no "
                f"VACUUM); rows live at most one {lay['unit']} past the TTL.")
    if p.rollups:
        lines.append("")
        lines.append("| pattern | served by | form | rows per window | refresh |")
        lines.append("|---|---|---|---|---|")
        for r in p.rollups:
            cadence = ("rollup job" if r["form"] == "entity" and r.get("writers")
                       else f"every {human_duration(r['cadence'])}")
            lines.append(f"| {r['pattern']} | {r['table']} | {r['form']} | "
                         f"{human_count(r['rows_per_window'])} (÷{r['reduction']:.0f} vs raw) | "
                         f"{cadence}, last {r['late_windows']} windows |")
        lines.append("")
        lines.append(
            "Each window aggregate reads a rollup, not the raw rows: a table refreshed one "
            "closed window at a time (`refresh_*(from, to)`, an upsert of the windows in "
            f"[from, to), {human_duration(ts_data()['rollups']['settle_seconds'])} after the "
            "window closes, recomputing the last windows so late rows count) where the source "
            "is too large to recompute; a materialized view refreshed CONCURRENTLY where it "
            f"is under {human_count(ts_data()['rollups']['materialized_view_max_source_rows'])}"
            " rows. The spec's own rollup entities are used where they hold the aggregate.")
    lines.append("")
    lines.append(
        "**Compression.** Native PostgreSQL compresses only values over "
        f"{comp['toast_threshold_bytes']} bytes (TOAST); these rows are narrow, so partitions "
        "are stored as written. Closed partitions never change: detach and archive them "
        "(Parquet on object storage) when they must be kept past their use. On TimescaleDB "
        f"(`{TS_FILE}`) native compression, segmented by the equality filters and ordered "
        f"by time, typically saves ~{comp['timescaledb_typical_saving']:.0%}.")
    lines.append("")
    lines.append(f"TimescaleDB: {ts_data()['timescaledb']['not_installed']}.")
    return "\n".join(lines)


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
    p = _Part(spec, decision)
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


def _base_statements(p: _Part) -> list[str]:
    """The tables as schema/postgresql.sql creates them, without their foreign keys (the
    referenced tables belong to the relational part): verify starts from these."""
    from dbarch.render.ddl import statements as ddl_statements

    schema = Schema(name=p.spec.system, tables=[
        t.model_copy(update={"foreign_keys": []}) for t in p.tables.values()])
    return [s.text.rstrip().rstrip(";") for s in ddl_statements(schema, "postgresql")]


def _ingest(p: _Part) -> list[dict[str, Any]]:
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
