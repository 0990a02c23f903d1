"""Shard-key statistics computed inside PostgreSQL with SQL aggregates, for `dbarch shard`.

Nothing is pulled into Python row by row: distinct counts, top-k values (GROUP BY … ORDER BY
count DESC LIMIT k), hash buckets (abs(hashtext(key::text)) % N), quantile bounds
(percentile_disc) and range buckets (width_bucket), and the correlation of the key's rank with
insertion order are each one aggregate query. A table above a size threshold is read through
TABLESAMPLE SYSTEM … REPEATABLE, so every figure of one run sees the same sample and the cost
stays flat in the table's size. The session is read-only: nothing is written.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dbarch.engines.base import redact
from dbarch.errors import EngineError, InputError, Problem
from dbarch.schema.model import Column, ForeignKey, OnDelete, Table
from dbarch.shard.model import KeyStats, ShardReport, TableFacts

if TYPE_CHECKING:
    from dbarch.advisor.workload import Workload

_STATEMENT_TIMEOUT_MS = 120_000
_SEED = 42  # REPEATABLE seed: one sample for every statistic of a run, the same run to run
_COUNT_LIMIT = 1_000_000  # a never-analyzed table is counted up to this many rows


class ShardSession:
    """One read-only connection to the database holding the table to shard."""

    def __init__(self, conn: Any, url: str) -> None:
        self.conn = conn
        self.where = redact(url)

    # ----------------------------------------------------------------- the schema

    def resolve(self, table: str) -> tuple[str, str]:
        """(schema, table) for `--table` as the server resolves it, or a located error."""
        row = self._one("SELECT n.nspname, c.relname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')", (table,))
        if row is None:
            names = [r[0] for r in self._all(
                "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p') "
                "AND c.relnamespace = ANY(current_schemas(false)::regnamespace[])")]
            close = difflib.get_close_matches(table.rpartition(".")[2], names, n=1)
            raise InputError([Problem("--table", f"no table {table!r} in {self.where}",
                                      hint=f"did you mean {close[0]}?" if close else
                                      "qualify it (schema.table) or set the search_path in "
                                      "the URL: ?options=-csearch_path%3Dname")])
        return str(row[0]), str(row[1])

    def tables(self, schema: str) -> dict[str, TableFacts]:
        """Every table of `schema` with its columns, keys, size and read/write counts."""
        from dbarch.parse.types import column_type

        facts: dict[str, TableFacts] = {}
        by_oid: dict[int, TableFacts] = {}
        rows = self._all(
            "SELECT c.oid, c.relname, c.reltuples::float8, pg_total_relation_size(c.oid), "
            "  coalesce(s.seq_tup_read, 0) + coalesce(s.idx_tup_fetch, 0), "
            # Writes are changes to rows: updates, deletes, and inserts beyond the rows still
            # there, so a lookup table's initial load does not make it write-heavy.
            "  coalesce(s.n_tup_upd, 0) + coalesce(s.n_tup_del, 0) "
            "  + greatest(coalesce(s.n_tup_ins, 0) - coalesce(s.n_live_tup, 0), 0) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "ORDER BY c.relname", (schema,))
        for oid, name, reltuples, size, reads, writes in rows:
            qualified = f"{schema}.{name}"
            count = int(reltuples) if reltuples is not None and reltuples >= 0 else None
            if count is None or (count == 0 and size):
                # Never analyzed: count, up to a bound (enough to tell small from large).
                count = int(self._one(
                    f"SELECT count(*) FROM (SELECT FROM {_ident(schema, name)} "
                    f"LIMIT {_COUNT_LIMIT}) s")[0])
            table = Table(name=name, columns=[], primary_key=[])
            by_oid[oid] = facts[name] = TableFacts(table, qualified, count, int(size or 0),
                                                   int(reads), int(writes))
        for oid, column, typname, native, not_null in self._all(
                "SELECT a.attrelid, a.attname, t.typname, format_type(a.atttypid, a.atttypmod), "
                "  a.attnotnull FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attrelid, a.attnum", (list(by_oid),)):
            kind = column_type("postgresql", typname)[0]
            by_oid[oid].table.columns.append(Column(
                name=column, type=kind.model_copy(update={"native": native}),
                nullable=not not_null))
        names = {oid: f.table.name for oid, f in by_oid.items()}
        for oid, name, contype, cols, ref, ref_cols in self._all(
                "SELECT c.conrelid, c.conname, c.contype, "
                "  ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
                "        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n "
                "        ORDER BY k.i)::text[], c.confrelid, "
                "  ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
                "        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n "
                "        ORDER BY k.i)::text[] "
                "FROM pg_constraint c WHERE c.conrelid = ANY(%s) AND c.contype IN ('p', 'f') "
                "ORDER BY c.conname", (list(by_oid),)):
            table = by_oid[oid].table
            if contype == "p":
                table.primary_key = list(cols)
            elif ref in names:  # a reference to another schema's table cannot co-locate here
                table.foreign_keys.append(ForeignKey(
                    name=name, columns=list(cols), ref_table=names[ref],
                    ref_columns=list(ref_cols), on_delete=OnDelete.no_action))
        return facts

    # ----------------------------------------------------------------- one key

    def sample_clause(self, rows: int, above: int, target: int) -> tuple[str, float | None]:
        """The TABLESAMPLE clause for a table of `rows` rows, and its percentage (None: all)."""
        if rows <= above:
            return "", None
        percent = max(0.01, min(100.0, 100.0 * target / rows))
        return f" TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE ({_SEED})", percent

    def key_stats(self, facts: TableFacts, columns: Sequence[str], *, shards: int, top_k: int,
                  sample: tuple[str, float | None], time_column: str | None) -> KeyStats:
        """The statistics of one candidate key (one or more columns) of `facts`' table."""
        table = _ident(*facts.qualified.split(".", 1))
        source = table + sample[0]
        cols = [_ident(c) for c in columns]
        key = cols[0] if len(cols) == 1 else f"ROW({', '.join(cols)})"
        text = f"({key})::text"
        not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        rows_read, distinct, nulls = self._one(
            f"SELECT count(*), count(DISTINCT {key}) FILTER (WHERE {not_null}), "
            f"count(*) FILTER (WHERE NOT ({not_null})) FROM {source}")
        common = [(str(v), int(n)) for v, n in self._all(
            f"SELECT {text}, count(*) FROM {source} WHERE {not_null} "
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top_k)}")]
        hashed = [0] * shards
        for bucket, n in self._all(
                f"SELECT abs(hashtext({text})::bigint) % {shards}, count(*) FROM {source} "
                f"WHERE {not_null} GROUP BY 1"):
            hashed[int(bucket)] = int(n)
        order, order_name = (
            (f"extract(epoch FROM {_ident(time_column)})", time_column) if time_column
            else ("((ctid::text::point)[0] * 1000 + (ctid::text::point)[1])",
                  "physical row order (ctid)"))
        # MongoDB correlates the key's order with the record ids': the rank of the key
        # against the insertion order, so text and uuid keys are judged as numbers are.
        correlation = self._one(
            f"SELECT corr(r, o) FROM (SELECT rank() OVER (ORDER BY {', '.join(cols)}) AS r, "
            f"{order} AS o FROM {source} WHERE {not_null}) s")[0]
        lead = cols[0]
        lead_type = self.column_type(facts, columns[0])
        quantiles = ", ".join(f"{i / shards:.6f}" for i in range(1, shards))
        bounds_row = self._one(
            f"SELECT (percentile_disc(ARRAY[{quantiles}]::float8[]) WITHIN GROUP "
            f"(ORDER BY {lead}))::text[] FROM {source} WHERE {lead} IS NOT NULL")
        bounds = [str(b) for b in (bounds_row[0] or [])] if bounds_row else []
        ranged = [0] * shards
        newest = None
        if bounds:
            bucket_sql = f"width_bucket({lead}, %s::{lead_type}[])"
            for bucket, n in self._all(
                    f"SELECT {bucket_sql}, count(*) FROM {source} WHERE {lead} IS NOT NULL "
                    "GROUP BY 1", (bounds,)):
                ranged[min(int(bucket), shards - 1)] += int(n)
            newest_n = max(1, math.ceil(int(rows_read) / shards))
            newest = self._one(
                f"SELECT avg(({bucket_sql} = {shards - 1})::int)::float8 FROM "
                f"(SELECT {lead} FROM {source} WHERE {lead} IS NOT NULL "
                f"ORDER BY {order} DESC LIMIT {newest_n}) s", (bounds,))[0]
        elif int(rows_read):
            ranged[0] = int(rows_read) - int(nulls)
        return KeyStats(
            columns=tuple(columns), rows_read=int(rows_read), sampled=sample[1] is not None,
            sample_percent=sample[1], distinct=int(distinct), nulls=int(nulls),
            most_common=common,
            correlation=None if correlation is None else float(correlation),
            order_by=order_name, hash_buckets=hashed, range_buckets=ranged,
            range_bounds=bounds, newest_in_last_range=None if newest is None else float(newest))

    def value_shards(self, facts: TableFacts, columns: Sequence[str],
                     values: Sequence[tuple[str, ...]], *, shards: int, bounds: Sequence[str],
                     sample: tuple[str, float | None]
                     ) -> dict[tuple[str, ...], tuple[int, int, int]]:
        """For literal key values a workload names: (rows with it, hash shard, range shard).

        One query for all the values (one scan of the table, or of its sample). The literals
        are cast to the columns' types in the database, so `42` and `'42'` hash as the stored
        value does; when one does not cast, each value is asked alone and that one left out.
        """
        if not values:
            return {}
        try:
            return self._value_shards(facts, columns, values, shards, bounds, sample)
        except EngineError:
            out: dict[tuple[str, ...], tuple[int, int, int]] = {}
            for one in values:
                try:
                    out.update(self._value_shards(facts, columns, [one], shards, bounds,
                                                  sample))
                except EngineError:
                    continue  # not of the column's type: the query names no row
            return out

    def _value_shards(self, facts: TableFacts, columns: Sequence[str],
                      values: Sequence[tuple[str, ...]], shards: int, bounds: Sequence[str],
                      sample: tuple[str, float | None]
                      ) -> dict[tuple[str, ...], tuple[int, int, int]]:
        types = [self.column_type(facts, c) for c in columns]
        table = f"{_ident(*facts.qualified.split('.', 1))} AS t{sample[0]}"
        aliases = [f"v{i}" for i in range(len(columns))]
        typed = [f"v.{a}::{t}" for a, t in zip(aliases, types, strict=True)]
        value = typed[0] if len(typed) == 1 else f"ROW({', '.join(typed)})"
        match = " AND ".join(f"t.{_ident(c)} = {x}" for c, x in zip(columns, typed, strict=True))
        arrays = ", ".join(["%s::text[]"] * len(columns))
        bucket = f"width_bucket({typed[0]}, %s::{types[0]}[])" if bounds else "0"
        rows = self._all(
            f"WITH v AS (SELECT * FROM unnest(%s::int[], {arrays}) AS u(n, "
            f"{', '.join(aliases)})), "
            f"c AS (SELECT v.n, count(*) AS found FROM v JOIN {table} ON {match} "
            "GROUP BY v.n) "
            f"SELECT v.n, abs(hashtext(({value})::text)::bigint) %% {shards}, {bucket}, "
            "coalesce(c.found, 0) FROM v LEFT JOIN c ON c.n = v.n",
            [list(range(len(values))), *[[v[i] for v in values] for i in range(len(columns))],
             *([list(bounds)] if bounds else [])])
        return {tuple(values[int(n)]): (int(count), int(hashed), min(int(ranged), shards - 1))
                for n, hashed, ranged, count in rows}

    def column_type(self, facts: TableFacts, column: str) -> str:
        """The column's type as SQL (format_type), for casts."""
        return facts.table.column(column).type.native or "text"

    # ----------------------------------------------------------------- plumbing

    def _all(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            return list(self.conn.execute(sql, params).fetchall())
        except psycopg.Error as exc:
            raise EngineError(f"{self.where}: {_first_line(exc)}") from exc

    def _one(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None


@contextmanager
def shard_session(url: str) -> Iterator[ShardSession]:
    """A read-only session on the PostgreSQL database at `url`."""
    import psycopg

    scheme = url.split("://", 1)[0].split("+")[0].lower()
    if scheme not in ("postgresql", "postgres"):
        raise InputError([Problem("--db", f"{redact(url)}: dbarch shard reads PostgreSQL "
                                  "(postgresql://…)", hint="MariaDB/MySQL is not supported yet")])
    plain = "postgresql://" + url.split("://", 1)[1]
    try:
        conn = psycopg.connect(plain, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise EngineError(f"{redact(url)}: cannot connect: {_first_line(exc)}") from exc
    with conn:
        # Read-only before the first query: pointing --db at a primary is as safe as a replica.
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(f"SET statement_timeout = {_STATEMENT_TIMEOUT_MS}")
        yield ShardSession(conn, url)


def _ident(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run_shard(url: str, table: str, *, keys: Sequence[Sequence[str]] = (),
              shards: int | None = None, workload: Workload | None = None,
              progress: Callable[[str], None] | None = None,
              sample_above: int | None = None, sample_rows: int | None = None) -> ShardReport:
    """`dbarch shard` on the live table: candidate keys measured here, judged by the pure
    analysis (dbarch.shard), the best one's configuration written.

    `sample_above` and `sample_rows` override the data file's sampling threshold and size.
    """
    from dbarch.shard import shard_data
    from dbarch.shard.analysis import Settings, judge, rank
    from dbarch.shard.candidates import propose_keys, time_column
    from dbarch.shard.colocation import colocated_tables, reference_tables
    from dbarch.shard.configs import citus, mongodb, vitess
    from dbarch.shard.routing import Router

    say = progress or (lambda message: None)
    data = shard_data()
    thresholds = data["thresholds"]
    n = shards or int(data["default_shards"])
    settings = Settings.load(n, data)
    queries = workload.queries if workload is not None else []
    with shard_session(url) as session:
        schema, name = session.resolve(table)
        say(f"reading the tables of schema {schema}")
        tables = session.tables(schema)
        facts = tables[name]
        candidates = _given_keys(facts, keys) if keys else propose_keys(
            facts, queries, tables, data["owner_columns"], int(data["max_candidates"]))
        clock = time_column(facts, data["time_columns"])
        sample = session.sample_clause(
            facts.rows, int(data["sample_above_rows"]) if sample_above is None else sample_above,
            int(data["sample_rows"]) if sample_rows is None else sample_rows)
        columns = {t: {c.name for c in f.table.columns} for t, f in tables.items()}
        reports = []
        references: dict[tuple[str, ...], tuple[dict[str, str], dict[str, str]]] = {}
        for key, origin in candidates.items():
            say(f"measuring {','.join(key)}")
            stats = session.key_stats(facts, key, shards=n, top_k=int(data["most_common_values"]),
                                      sample=sample, time_column=clock)
            group = colocated_tables(tables, name, key)
            references[key] = reference_tables(tables, group,
                                               int(thresholds["reference_table_max_rows"]),
                                               float(thresholds["read_mostly_ratio"]))
            router = Router(group, set(references[key][0]), columns,
                            int(thresholds["max_in_list"]))
            routes = [router.route(q) for q in queries if router.touches(q)]
            wanted = sorted({v for r in routes for v in r.values if len(v) == len(key)})
            values = session.value_shards(facts, key, wanted, shards=n,
                                          bounds=stats.range_bounds, sample=sample)
            reports.append(judge(key, origin, stats, routes, values, group, settings))
    ranked = rank(reports)
    report = ShardReport(table=facts.qualified, rows=facts.rows, shards=n, keys=ranked,
                         workload=workload.source if workload is not None else None)
    if sample[1] is not None:
        report.notices.append(
            f"{facts.qualified} has about {facts.rows:,} rows: the statistics read a "
            f"TABLESAMPLE SYSTEM ({sample[1]:.2f}%) sample of it")
    if workload is not None:
        report.notices.extend(str(p) for p in workload.problems)
        untouched = [q.label for q in queries if not any(
            r.label == q.label for k in ranked[:1] for r in k.routes)]
        if untouched and ranked:
            report.notices.append(f"{len(untouched)} workload queries name none of the tables "
                                  f"co-located with {ranked[0].name}; they are not counted")
    best = report.best
    if best is not None:
        reference, other = references[best.columns]
        report.reference = sorted(reference)
        report.reference_why = reference
        report.other = other
        database = urlsplit(url).path.lstrip("/") or "db"
        report.config = {"citus": citus(best, name, tables, report.reference),
                         "vitess": vitess(best, tables, report.reference),
                         "mongodb": mongodb(best, database, name)}
    return report


def _given_keys(facts: TableFacts, keys: Sequence[Sequence[str]]
                ) -> dict[tuple[str, ...], list[str]]:
    """The --key options, each checked against the table's columns."""
    names = [c.name for c in facts.table.columns]
    problems = []
    out: dict[tuple[str, ...], list[str]] = {}
    for key in keys:
        for column in key:
            if column not in names:
                close = difflib.get_close_matches(column, names, n=1)
                problems.append(Problem(
                    "--key", f"{facts.qualified} has no column {column!r}",
                    path=",".join(key), hint=f"did you mean {close[0]}?" if close
                    else f"its columns: {', '.join(names)}"))
        out[tuple(key)] = ["given"]
    if problems:
        raise InputError(problems)
    return out
