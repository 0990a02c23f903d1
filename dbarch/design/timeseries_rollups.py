"""Rollups of the time-series part: one per window aggregate, either the spec's own rollup
entity, a partitioned table refreshed one closed window at a time, or a materialized view for
a small source; with the refresh function and the read through the rollup.

`TimeSeriesPart` is the whole working state of a design (tables, layouts, rollups) that the
renderers and the section read; its partition layout is `timeseries_partitions`'.
"""

from __future__ import annotations

import re
from typing import Any

from dbarch.design.timeseries_buckets import _measure, _window_name, bucket_sql
from dbarch.design.timeseries_partitions import PartitionedPart
from dbarch.design.timeseries_sizing import choose_interval, ts_data
from dbarch.spec.model import AccessPattern, PatternKind, RelKind


class TimeSeriesPart(PartitionedPart):
    """The part with a rollup per window aggregate: what the renderers read."""

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
