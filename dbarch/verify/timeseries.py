"""Verification of the time-series part on a real PostgreSQL: the tables as
schema/postgresql.sql creates them, then schema/timeseries.postgresql.sql, in a scratch
schema; synthetic rows at the spec's shape over several partitions; each rollup refreshed
and each window aggregate run, its plan checked to scan only the partitions of its window,
and its rollup checked to give the same answer; retention run. The TimescaleDB rendering
cannot run here (no TimescaleDB): it is parsed with pglast and its functions checked to be
TimescaleDB's documented API or PostgreSQL's own.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from dbarch.design.parts import PartDesign
from dbarch.design.timeseries_sizing import ts_data
from dbarch.design.timeseries_timescaledb import TS_FILE
from dbarch.errors import EngineError
from dbarch.verify.parts import Check, PartCheck

SCHEMES: tuple[str, ...] = ("postgresql",)

# The synthetic sample: enough hours to hold at least one whole UTC day whatever the hour of
# the run (two when it starts just after midnight), so a 1d window has a full bucket, and to
# stay inside the partitions laid out 3 days back; at most this many raw rows (the sampling
# interval is stretched past it), over this many keys (devices).
SPAN = timedelta(hours=50)
MAX_ROWS = 150_000
KEYS = 3
ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)


def function_names(sql: str) -> list[str]:
    """Every function a script calls, as pglast parses it (raises on a syntax error)."""
    from pglast import parse_sql
    from pglast.visitors import Visitor

    names: list[str] = []

    class Calls(Visitor):  # type: ignore[misc]
        def visit_FuncCall(self, ancestors: Any, node: Any) -> None:
            names.append(node.funcname[-1].sval)

    Calls()(parse_sql(sql))
    return list(dict.fromkeys(names))


def _floor(t: datetime, seconds: float) -> datetime:
    n = (t - ORIGIN).total_seconds() // seconds
    return ORIGIN + timedelta(seconds=n * seconds)


def _ceil(t: datetime, seconds: float) -> datetime:
    f = _floor(t, seconds)
    return f if f == t else f + timedelta(seconds=seconds)


def _rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows]


def verify_part(part: PartDesign, url: str | None) -> PartCheck:
    """Run the part's design on the PostgreSQL at `url`."""
    from dbarch.engines import timeseries as pg

    result = PartCheck(part=part.part, paradigm=part.paradigm, url=url, ran=False)
    m = part.model
    if not m.get("layouts") or url is None:
        result.note = "nothing to verify: no time-partitioned table was designed"
        return result
    try:
        engine = pg.connect(url)
    except EngineError as exc:
        result.error = str(exc)
        return result
    checks = result.checks
    try:
        result.engine = engine.version()
        result.ran = True
        # an addendum starts from the tables as schema/postgresql.sql creates them; a
        # standalone part's file creates its own
        for s in [*(m["base"] if m["addendum"] else []), *m["statements"]]:
            engine.execute(s)
        for lay in m["layouts"]:
            parts = pg.partitions(engine, lay["table"])
            odd = pg.odd_partitions(engine, lay["table"], lay["unit"])
            checks.append(Check(
                name=f"{lay['table']} layout", ok=not odd and len(parts) > 1,
                detail=f"{len(parts)} {lay['unit']} partitions from {parts[0][1]:%Y-%m-%d %H:%M}"
                       f" to {parts[-1][2]:%Y-%m-%d %H:%M}" +
                       (f"; not one {lay['unit']}: {', '.join(odd)}" if odd else "")))
        end = _floor(datetime.now(UTC), 3600)
        start = end - SPAN
        seconds = {lay["table"]: lay["seconds"] for lay in m["layouts"]}
        for ing in m["ingest"]:
            _ingest(engine, ing, start, end, checks, seconds[ing["table"]])
        # rollups whose source is raw first: a rollup of a rollup reads what they wrote
        targets = {r["table"] for r in m["rollups"]}
        for r in sorted(m["rollups"], key=lambda r: r["source"] in targets):
            if r["form"] == "matview":
                engine.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {r['table']}")
                n, how = engine.row_count(r["table"]), "REFRESH MATERIALIZED VIEW CONCURRENTLY"
            else:
                n = pg.run(engine, f"SELECT {r['refresh_function']}(%(f)s, %(t)s)",
                           {"f": start, "t": end})[0][0]
                how = r["refresh_function"]
            checks.append(Check(name=f"{r['table']} refresh", ok=int(n) > 0,
                                detail=f"{how} wrote {n} rows"))
        engine.analyze()
        for r in m["rollups"]:
            _aggregate(engine, r, start, end, checks)
        for lay in m["layouts"]:
            _retention(engine, lay, start, checks)
        _timescaledb(engine, part, checks)
    except Exception as exc:  # EngineError, or psycopg's own on a statement we built
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        engine.close()
    return result


def _ingest(engine: Any, ing: dict[str, Any], start: datetime, end: datetime,
            checks: list[Check], interval: float) -> None:
    from dbarch.engines import timeseries as pg

    per_step = KEYS * ing["series_per_key"]
    step = max(ing["step_seconds"], SPAN.total_seconds() * per_step / MAX_ROWS)
    step = float(int(step) or 1)
    pg.execute(engine, ing["sql"], {"from": start, "to": end, "step": f"{step:g} seconds",
                                "keys": KEYS})
    spread = pg.rows_by_partition(engine, ing["table"])
    expected = math.ceil(SPAN.total_seconds() / step) * per_step
    default = [n for n in spread if n.endswith("_default")]
    checks.append(Check(
        name=f"{ing['table']} ingest",
        # the sample spans several partitions whenever it is longer than one
        ok=(sum(spread.values()) == expected and not default
            and (len(spread) > 1 or SPAN.total_seconds() <= interval)),
        detail=f"{sum(spread.values())} rows (one per series every {step:g} s, "
               f"{KEYS} keys × {ing['series_per_key']}) over {len(spread)} partitions"
               + (f"; rows in {', '.join(default)}" if default else "")))


def _aggregate(engine: Any, r: dict[str, Any], start: datetime, end: datetime,
               checks: list[Check]) -> None:
    """One window aggregate: raw, its pruning, and the rollup's answer against it."""
    from dbarch.engines import timeseries as pg

    w = r["window"]
    q_to = _floor(end, w)
    q_from = max(_ceil(start, w), q_to - timedelta(seconds=max(6 * 3600, 2 * w)))
    eq_cols = [c for f, c in zip(r["keys"], r["key_columns"], strict=True)
               if f in r["eq_fields"]]
    params: dict[str, Any] = {"from": q_from, "to": q_to}
    if eq_cols:
        row = pg.run(engine, f"SELECT {', '.join(eq_cols)} FROM {r['source']} "
                     f"WHERE {r['time_column']} >= %(from)s AND {r['time_column']} < %(to)s "
                     "LIMIT 1", params)
        if not row:
            checks.append(Check(name=r["pattern"], ok=False,
                                detail=f"no {r['source']} rows in the window"))
            return
        params.update(dict(zip(r["eq_fields"], row[0], strict=True)))
    raw = pg.run(engine, r["raw_sql"], params)
    expected = [n for n, lo, hi in pg.partitions(engine, r["source"])
                if lo < q_to and hi > q_from]
    read = pg.scanned(engine, r["raw_sql"], params)
    checks.append(Check(
        name=f"{r['pattern']} (raw)", ok=bool(raw) and read == sorted(expected),
        detail=f"{len(raw)} rows over [{q_from:%m-%d %H:%M}, {q_to:%m-%d %H:%M}); scans "
               f"{len(read)} of {len(pg.partitions(engine, r['source']))} partitions"
               + ("" if read == sorted(expected) else
                  f": {', '.join(read)}, expected {', '.join(expected)}")))
    rolled = pg.run(engine, r["read_sql"], params)
    same = _rounded(rolled) == _rounded(raw)
    checks.append(Check(
        name=f"{r['pattern']} (rollup)", ok=same,
        detail=f"{r['table']}: {len(rolled)} rows, "
               + ("the same as the raw aggregate" if same else
                  f"differs from the raw aggregate ({len(raw)} rows)")
               + f"; scans {', '.join(pg.scanned(engine, r['read_sql'], params))}"))


def _retention(engine: Any, lay: dict[str, Any], start: datetime, checks: list[Check]) -> None:
    """ts_drop_partitions up to the sample's start: the empty past goes, no row does."""
    from dbarch.engines import timeseries as pg

    before = sum(pg.rows_by_partition(engine, lay["table"]).values())
    cut = _floor(start, lay["seconds"])
    dropped = pg.run(engine, "SELECT ts_drop_partitions(%(t)s, %(c)s)",
                     {"t": lay["table"], "c": cut})[0][0]
    left = pg.partitions(engine, lay["table"])
    after = sum(pg.rows_by_partition(engine, lay["table"]).values())
    ok = before == after and all(hi > cut for _, _, hi in left)
    checks.append(Check(name=f"{lay['table']} retention", ok=ok,
                        detail=f"dropped {dropped} partitions ending by {cut:%m-%d %H:%M}, "
                               f"{len(left)} left, {after} of {before} rows kept"))


def _timescaledb(engine: Any, part: PartDesign, checks: list[Check]) -> None:
    """The hypertable rendering parses, and names only documented TimescaleDB functions and
    functions this PostgreSQL has."""
    from dbarch.engines import timeseries as pg

    text = part.artifacts.get(TS_FILE)
    if text is None:
        return
    documented = set(ts_data()["timescaledb"]["documented_functions"])
    try:
        names = function_names(text)
    except Exception as exc:  # pglast.parser.ParseError: the rendering is not valid SQL
        checks.append(Check(name="timescaledb rendering", ok=False, detail=f"parse: {exc}"))
        return
    own = [n for n in names if n not in documented]
    missing = pg.missing_functions(engine, own) if own else []
    checks.append(Check(
        name="timescaledb rendering", ok=not missing,
        detail=f"parsed (pglast); TimescaleDB: {', '.join(n for n in names if n in documented)};"
               f" PostgreSQL: {', '.join(own) or 'none'}"
               + (f"; unknown: {', '.join(missing)}" if missing else "")
               + "; not executed: TimescaleDB is not installed here"))
