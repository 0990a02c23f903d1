"""The time-series part's ARCHITECTURE.md section: the partition table, each table's interval,
BRIN and retention explained, the rollups, compression and the TimescaleDB note.

Prose over a `TimeSeriesPart`, kept apart from the SQL files it describes.
"""

from __future__ import annotations

from dbarch.design.timeseries_buckets import _interval
from dbarch.design.timeseries_postgresql import PG_FILE
from dbarch.design.timeseries_rollups import TimeSeriesPart
from dbarch.design.timeseries_sizing import ts_data
from dbarch.design.timeseries_timescaledb import TS_FILE
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate


def _section(p: TimeSeriesPart, addendum: bool) -> str:
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
