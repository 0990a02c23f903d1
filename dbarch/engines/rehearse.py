"""Rehearse a migration on a scratch PostgreSQL database, under a concurrent workload.

Never on the user's data: the rehearsal creates a database of its own
(`dbarch_rehearse_<random>`) on the server given by `--db` (or `--scratch`), creates the schema
there (from a DDL file, or `pg_dump --schema-only` of the `--db` database), fills the tables the
migration touches with synthetic rows generated inside the server, and drops the database at
the end, whatever happens (an error, Ctrl-C).

While the migration runs statement by statement on one connection, worker threads (each with
its own connection) read by primary key, insert and update the touched tables at a steady rate,
and a sampler thread polls pg_locks and pg_stat_activity every few milliseconds: which table
locks the migration's backend holds or waits for, and which workload backends wait on it
(pg_blocking_pids, followed through the lock queue). Each statement that may run in a
transaction runs in one (as it would in autocommit), sent in one pipeline with two bookkeeping
queries, so the rehearsal reads the locks it took, the rows it read and wrote
(pg_stat_xact_user_tables) and whether it rewrote a table (relfilenode) without holding its
locks a round trip longer. `dbarch.migrate.rehearse` turns the observations into verdicts.
"""

from __future__ import annotations

import random
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq

from dbarch.engines.base import redact
from dbarch.engines.synthetic import FilledTable, fill, introspect, quote
from dbarch.errors import EngineError, InputError, Problem
from dbarch.lint.source import read_source
from dbarch.lint.statement import Statement
from dbarch.migrate.rehearse import (
    DEFAULT_ROWS,
    DEFAULT_WORKERS,
    SAMPLE_MS,
    TOLERANCE_MS,
    QueryRun,
    Rehearsal,
    Sample,
    StatementRun,
    TableSize,
    Wait,
    analyse,
    judge_all,
    workload_stats,
)

SCRATCH_PREFIX = "dbarch_rehearse_"
QUERY_INTERVAL_MS = 10.0
"""Each worker starts a query every 10 ms: 100 queries/s per worker, steady, not flat out."""
WARMUP_QUERIES = 3
"""Queries each worker runs before the migration starts, so the workload is in flight."""
WORKLOAD_TIMEOUT_MS = 600_000
"""A workload query waits at most ten minutes for the migration's locks."""
NEW_ROWS = 10_000_000
"""Workload inserts number their rows from here (or twice the synthetic rows, if more): above
the synthetic rows and the sequences, so they collide with neither."""

Progress = Callable[[str], None]


def rehearse(
    migration: str,
    *,
    db: str,
    path: str = "migration.sql",
    schema: str | None = None,
    schema_path: str | None = None,
    scratch: str | None = None,
    rows: int = DEFAULT_ROWS,
    workers: int = DEFAULT_WORKERS,
    tolerance_ms: float = TOLERANCE_MS,
    sample_ms: float = SAMPLE_MS,
    progress: Progress | None = None,
) -> Rehearsal:
    """Rehearse the migration text on a scratch database of the server at `scratch` or `db`.

    `schema` is DDL to create the scratch schema from (default: `pg_dump --schema-only` of
    `db`); `db`'s catalog also gives the real table sizes the verdicts extrapolate to.
    """
    say = progress or (lambda _message: None)
    statements = _parse(migration, path)
    if rows < 1 or workers < 1:
        raise InputError([Problem("command line", "--rows and --workers must be at least 1")])
    db = _normal(db)
    server = _normal(scratch) if scratch else db
    if schema is None:
        say(f"copying the schema of {redact(db)} (pg_dump --schema-only)")
        schema, schema_path = _dump_schema(db), f"pg_dump of {redact(db)}"
    with _scratch_database(server, say) as scratch_db:
        url = _database_url(server, scratch_db.name)
        _apply_schema(url, schema, schema_path or "schema")
        with _connect(url) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
            relations = _relations(conn)
            touched = _touched(conn, statements, relations)
            shapes = introspect(conn, touched)
            for oid in sorted(shapes, key=lambda o: relations.get(o, "")):
                say(f"filling {shapes[oid].name} with {rows:,} synthetic rows")
            filled = fill(conn, shapes, rows)
        observed = _run(url, statements, filled, touched, relations, workers, sample_ms, say)
        say(f"dropping scratch database {scratch_db.name}")
    real, catalog_note = _real_sizes(db, [filled[oid].shape.name for oid in filled])
    runs, samples, queries, migration_pid, seconds, notes = observed
    results = analyse(runs, samples, queries, migration_pid, relations, tolerance_ms)
    tables = [
        TableSize(name=f.shape.name, rehearsed_rows=f.rows, workload=oid in touched,
                  real_rows=real.get(f.shape.name, (None, None))[0],
                  real_bytes=real.get(f.shape.name, (None, None))[1])
        for oid, f in sorted(filled.items(), key=lambda item: item[1].shape.name)
    ]
    if catalog_note:
        notes.append(catalog_note)
    rehearsal = Rehearsal(
        migration=path, server=f"PostgreSQL {version}", scratch_database=scratch_db.name,
        scratch_dropped=scratch_db.dropped, rows=rows, sample_ms=sample_ms, samples=len(samples),
        tolerance_ms=tolerance_ms, real_catalog=redact(db) if real else None, tables=tables,
        statements=results, workload=workload_stats(queries, workers, seconds), notes=notes,
    )
    return judge_all(rehearsal)


def _parse(migration: str, path: str) -> list[Statement]:
    source = read_source(path, migration, "postgresql")
    if source.problems:
        raise InputError(source.problems)
    if not source.statements:
        raise InputError([Problem(path, "no SQL statement to rehearse")])
    return source.statements


# Connections and the scratch database.


def _normal(url: str) -> str:
    """postgres:// and postgresql+driver:// as libpq's postgresql://."""
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    if scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise InputError([Problem("command line", f"{redact(url)}: rehearsal needs a PostgreSQL "
                                  "URL (postgresql://user@host/db)")])
    return "postgresql://" + rest


def _database_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _connect(url: str, **settings: str) -> psycopg.Connection[Any]:
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5,
                               application_name="dbarch rehearse", options=options)
    except psycopg.Error as exc:
        raise EngineError(f"postgresql at {redact(url)}: cannot connect: {exc}") from exc


class _Scratch:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dropped = False


@contextmanager
def _scratch_database(server: str, say: Progress) -> Iterator[_Scratch]:
    """A fresh database on the server, dropped on the way out (error and Ctrl-C included)."""
    scratch = _Scratch(SCRATCH_PREFIX + secrets.token_hex(4))
    with _connect(server) as admin:
        try:
            say(f"creating scratch database {scratch.name}")
            admin.execute(f"CREATE DATABASE {quote(scratch.name)}".encode())
        except psycopg.Error as exc:
            raise EngineError(f"postgresql at {redact(server)}: cannot create a scratch "
                              f"database (give --scratch a server where you may): {exc}") from exc
        try:
            yield scratch
        finally:
            _drop(admin, scratch)


def _drop(admin: psycopg.Connection[Any], scratch: _Scratch) -> None:
    """DROP DATABASE … WITH (FORCE) ends the sessions still in it (PostgreSQL 13+)."""
    name = quote(scratch.name)
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())
    except psycopg.errors.SyntaxError:  # before 13: end the sessions, then drop
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s", (scratch.name,))
        admin.execute(f"DROP DATABASE IF EXISTS {name}".encode())
    scratch.dropped = True


def _dump_schema(db: str) -> str:
    binary = shutil.which("pg_dump")
    if binary is None:
        raise EngineError("pg_dump is not installed: give the schema with --schema FILE.sql")
    done = subprocess.run(
        [binary, "--schema-only", "--no-owner", "--no-privileges", "--dbname", db],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode != 0:
        raise EngineError(f"pg_dump of {redact(db)} failed: {done.stderr.strip()}")
    # psql meta-commands (\restrict since 15.14 …) are not SQL
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("\\"))


def _apply_schema(url: str, ddl: str, path: str) -> None:
    source = read_source(path, ddl, "postgresql")
    if source.problems:
        raise InputError(source.problems)
    with _connect(url) as conn:
        for stmt in source.statements:
            try:
                conn.execute(stmt.text.encode())
            except psycopg.Error as exc:
                message = str(exc).strip().splitlines()[0]
                raise InputError([Problem(path, f"the schema does not apply: {message}",
                                          line=stmt.line, column=stmt.column)]) from exc


def _relations(conn: psycopg.Connection[Any]) -> dict[int, str]:
    """Every user table (plain, partitioned, materialized view, foreign): oid → schema.name."""
    rows = conn.execute(
        "SELECT c.oid::int8, n.nspname || '.' || c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'm', 'f') AND n.nspname <> 'information_schema' "
        "AND n.nspname NOT LIKE 'pg\\_%'").fetchall()
    return {int(oid): str(name) for oid, name in rows}


def _touched(
    conn: psycopg.Connection[Any], statements: list[Statement], relations: dict[int, str]
) -> list[int]:
    """The existing tables the migration names (an index stands for its table), in the order
    it first names them."""
    found: list[int] = []
    for stmt in statements:
        for name in _names(stmt.node):
            (oid,), = conn.execute(
                "SELECT coalesce((SELECT indrelid FROM pg_index WHERE indexrelid = r), r)::int8 "
                "FROM to_regclass(%s) AS r", (name,)).fetchall()
            if oid is not None and int(oid) in relations and int(oid) not in found:
                found.append(int(oid))
    return found


def _names(node: Any) -> Iterator[str]:
    """Relation names in a parse tree, quoted: every RangeVar (wrapped in a list or a bare
    field body, which libpg_query's JSON leaves unwrapped) and the objects of a DROP."""
    if isinstance(node, dict):
        if "relname" in node and "relpersistence" in node:
            name = quote(node["relname"])
            yield f"{quote(node['schemaname'])}.{name}" if node.get("schemaname") else name
        if node.get("removeType") in ("OBJECT_TABLE", "OBJECT_INDEX"):
            for item in node.get("objects") or []:
                parts = [p["String"]["sval"] for p in item.get("List", {}).get("items", [])
                         if "String" in p]
                if parts:
                    yield ".".join(map(quote, parts))
        for value in node.values():
            yield from _names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _names(item)


# The run: workload, sampler, migration.


Observed = tuple[list[StatementRun], list[Sample], list[QueryRun], int, float, list[str]]


def _run(
    url: str,
    statements: list[Statement],
    filled: dict[int, FilledTable],
    touched: list[int],
    relations: dict[int, str],
    workers: int,
    sample_ms: float,
    say: Progress,
) -> Observed:
    plan = [(filled[oid].shape.name, op, sql, filled[oid].rows)
            for oid in touched if oid in filled
            for op, sql in _mix(filled[oid].workload())]
    notes: list[str] = []
    stop = threading.Event()
    pool: list[_Worker] = []
    sampler: _Sampler | None = None
    migration = _connect(url)
    try:
        migration_pid = migration.info.backend_pid
        if plan:
            pool = [_Worker(url, plan, i, workers, stop) for i in range(workers)]
        else:
            notes.append("no workload: the migration touches no existing table")
        sampler = _Sampler(url, migration_pid, [w.pid for w in pool], list(relations),
                           sample_ms, stop)
        for thread in [*pool, sampler]:
            thread.start()
        for worker in pool:
            worker.warm.wait(timeout=30)
        say(f"workload running: {len(pool)} workers on {len({p[0] for p in plan})} tables")
        began = time.monotonic()
        runs = _apply(migration, statements, list(relations), relations, say, notes)
        seconds = time.monotonic() - began
    finally:
        migration.close()  # first: its locks go, so workload queries waiting on them finish
        stop.set()
        for thread in [*pool, sampler]:
            if thread is not None and thread.is_alive():
                thread.join(timeout=10)
        for closable in [*pool, sampler]:
            if closable is not None:
                closable.close()
    queries = [q for w in pool for q in w.queries if q.start >= began]
    return runs, sampler.samples, queries, migration_pid, seconds, notes


def _mix(statements: dict[str, str]) -> list[tuple[str, str]]:
    """Two reads for each insert and each update, interleaved."""
    order = ["read", "insert", "read", "update"]
    return [(op, statements[op]) for op in order if op in statements]


class _Worker(threading.Thread):
    """One application connection running the workload at a steady rate, each query timed."""

    def __init__(
        self, url: str, plan: list[tuple[str, str, str, int]], index: int, workers: int,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=f"dbarch-rehearse-worker-{index}", daemon=True)
        self.conn = _connect(url, statement_timeout=str(WORKLOAD_TIMEOUT_MS))
        self.pid = self.conn.info.backend_pid
        self.plan = plan[index % len(plan):] + plan[: index % len(plan)]
        self.index, self.workers, self.stop = index, workers, stop
        self.queries: list[QueryRun] = []
        self.warm = threading.Event()

    def run(self) -> None:
        rng = random.Random(self.index)
        interval = QUERY_INTERVAL_MS / 1000
        next_at = time.monotonic()
        count = inserted = 0
        while not self.stop.is_set():
            table, op, sql, rows = self.plan[count % len(self.plan)]
            if op == "insert":
                g = max(NEW_ROWS, 2 * rows) + self.index + self.workers * inserted
                inserted += 1
            else:
                g = rng.randint(1, rows)
            start = time.monotonic()
            error = None
            try:
                self.conn.execute(sql, {"g": g, "h": rng.randint(1, rows)})  # type: ignore[arg-type]
            except psycopg.Error as exc:
                error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                if self.conn.closed or self.conn.broken:
                    break
            self.queries.append(QueryRun(self.pid, table, op, start, time.monotonic(), error))
            count += 1
            if count >= WARMUP_QUERIES:
                self.warm.set()
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:  # fell behind (a blocked query): carry on at the steady rate, no burst
                next_at = time.monotonic()
        self.warm.set()

    def close(self) -> None:
        with suppress(psycopg.Error):
            self.conn.close()


_SAMPLE = """
SELECT
  coalesce((SELECT json_agg(json_build_array(l.relation::int8, l.mode, l.granted))
            FROM pg_locks l
            WHERE l.pid = %(m)s AND l.locktype = 'relation'
              AND l.relation::int8 = ANY(%(rels)s)), '[]'),
  coalesce((SELECT json_agg(json_build_array(a.pid, pg_blocking_pids(a.pid), w.relation::int8,
                   1000 * extract(epoch FROM clock_timestamp() - {since})))
            FROM pg_stat_activity a
            LEFT JOIN LATERAL (SELECT l.relation, {waitstart} AS waitstart FROM pg_locks l
                               WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) w ON true
            WHERE a.pid = ANY(%(w)s) AND a.wait_event_type = 'Lock'), '[]')
"""


class _Sampler(threading.Thread):
    """Polls the migration's table locks and the workload backends waiting on it."""

    def __init__(
        self, url: str, migration_pid: int, workload_pids: list[int], relations: list[int],
        sample_ms: float, stop: threading.Event,
    ) -> None:
        super().__init__(name="dbarch-rehearse-sampler", daemon=True)
        self.conn = _connect(url)
        version = self.conn.info.server_version
        # pg_locks.waitstart (14+) dates the wait itself; before, the query's start will do
        waitstart = "l.waitstart" if version >= 140000 else "NULL::timestamptz"
        self.sql = _SAMPLE.format(
            waitstart=waitstart, since="coalesce(w.waitstart, a.query_start)").encode()
        self.params = {"m": migration_pid, "w": workload_pids, "rels": relations}
        self.interval = sample_ms / 1000
        self.stop = stop
        self.samples: list[Sample] = []

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                locks, waits = self.conn.execute(self.sql, self.params).fetchone()  # type: ignore[misc]
            except psycopg.Error:
                break
            end = time.monotonic()
            self.samples.append(Sample(
                start, end, [(int(o), str(m), bool(g)) for o, m, g in locks],
                [Wait(int(p), tuple(int(b) for b in by), None if r is None else int(r),
                      float(ms or 0.0)) for p, by, r, ms in waits],
            ))
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
            else:
                next_at = time.monotonic()

    def close(self) -> None:
        with suppress(psycopg.Error):
            self.conn.close()


_BOOKKEEPING = b"""
SELECT
  coalesce((SELECT json_agg(json_build_array(l.relation::int8, l.mode)) FROM pg_locks l
            WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
              AND l.relation::int8 = ANY(%(rels)s)), '[]'),
  coalesce((SELECT json_object_agg(c.oid::int8, c.relfilenode::int8) FROM pg_class c
            WHERE c.oid::int8 = ANY(%(rels)s) AND c.relfilenode <> 0), '{}'),
  coalesce((SELECT json_object_agg(s.relid::int8, json_build_array(
                s.seq_tup_read, coalesce(s.idx_tup_fetch, 0), s.n_tup_upd + s.n_tup_del))
            FROM pg_stat_xact_user_tables s WHERE s.relid::int8 = ANY(%(rels)s)), '{}')
"""
"""The transaction's table locks, each table's relfilenode and its rows read (seq, index) and
written, as the migration's own backend sees them: read before and after each statement."""


def _apply(
    conn: psycopg.Connection[Any],
    statements: list[Statement],
    oids: list[int],
    relations: dict[int, str],
    say: Progress,
    notes: list[str],
) -> list[StatementRun]:
    """Run the migration statement by statement, as psql would, and record each run."""
    runs: list[StatementRun] = []
    failed = False
    params = {"rels": oids}
    txn = 0
    for stmt in statements:
        status = conn.info.transaction_status
        txn += status == pq.TransactionStatus.IDLE  # else it joins the file's open transaction
        run = StatementRun(index=stmt.index, line=stmt.line, sql=stmt.text, kind=stmt.kind,
                           start=0.0, end=0.0, transaction="none", txn=txn, skipped=failed)
        runs.append(run)
        if failed:
            continue
        say(f"line {stmt.line}: {_first_line(stmt.text)}")
        try:
            if stmt.kind == "TransactionStmt":
                run.transaction = "block"
                _timed(conn, run, stmt.text)
            elif status == pq.TransactionStatus.INTRANS:
                run.transaction = "block"
                _bookkept(conn, run, stmt.text, params, relations, own=False)
            else:
                run.transaction = "own"
                try:
                    _bookkept(conn, run, stmt.text, params, relations, own=True)
                except psycopg.errors.ActiveSqlTransaction:
                    # CREATE INDEX CONCURRENTLY, VACUUM …: refused before doing anything
                    conn.execute(b"ROLLBACK")
                    run.transaction = "none"
                    _unwrapped(conn, run, stmt.text, params, relations)
        except psycopg.Error as exc:
            run.end = run.end or time.monotonic()
            run.error = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            failed = True
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute(b"ROLLBACK")
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        notes.append("the migration left a transaction open (BEGIN without COMMIT): rolled back")
        conn.execute(b"ROLLBACK")
    return runs


def _first_line(sql: str) -> str:
    lines = [ln.strip() for ln in sql.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("--")]
    return lines[0][:80] if lines else sql[:80]


def _timed(conn: psycopg.Connection[Any], run: StatementRun, sql: str) -> None:
    run.start = time.monotonic()
    conn.execute(sql.encode())
    run.end = time.monotonic()


def _bookkept(
    conn: psycopg.Connection[Any], run: StatementRun, sql: str, params: dict[str, Any],
    relations: dict[int, str], *, own: bool,
) -> None:
    """The statement between two bookkeeping queries, in one pipeline (one round trip); in a
    transaction of its own (`own`) or inside the file's."""
    run.start = time.monotonic()
    try:
        with conn.pipeline():
            if own:
                conn.execute(b"BEGIN")
            before = conn.execute(_BOOKKEEPING, params)
            conn.execute(sql.encode())
            after = conn.execute(_BOOKKEEPING, params)
            if own:
                conn.execute(b"COMMIT")
    finally:
        run.end = time.monotonic()
    locks0, files0, stats0 = before.fetchone()  # type: ignore[misc]
    locks1, files1, stats1 = after.fetchone()  # type: ignore[misc]
    held = {(int(o), m) for o, m in locks0}
    run.locks = sorted({(relations.get(int(o), str(o)), m) for o, m in locks1
                        if (int(o), m) not in held})
    run.rewritten = _rewritten(files0, files1, relations)
    run.rows = {}
    for oid, (seq, idx, written) in stats1.items():
        seq0, idx0, written0 = stats0.get(oid, (0, 0, 0))
        touched = max(seq - seq0, idx - idx0, written - written0)
        if touched > 0:
            run.rows[relations.get(int(oid), oid)] = int(touched)


def _unwrapped(
    conn: psycopg.Connection[Any], run: StatementRun, sql: str, params: dict[str, Any],
    relations: dict[int, str],
) -> None:
    """A statement that refuses a transaction block: only its relfilenodes can be compared."""
    _, files0, _ = conn.execute(_BOOKKEEPING, params).fetchone()  # type: ignore[misc]
    _timed(conn, run, sql)
    _, files1, _ = conn.execute(_BOOKKEEPING, params).fetchone()  # type: ignore[misc]
    run.rewritten = _rewritten(files0, files1, relations)


def _rewritten(
    before: dict[str, int], after: dict[str, int], relations: dict[int, str]
) -> list[str]:
    return sorted(relations.get(int(oid), oid) for oid, node in after.items()
                  if oid in before and before[oid] != node)


# The real sizes, for the extrapolation.


def _real_sizes(db: str, names: list[str]) -> tuple[dict[str, tuple[int | None, int | None]], str]:
    """Rows (pg_class.reltuples, summed over partitions) and bytes of each table in `db`'s
    catalog: read-only, no table is scanned. Empty when no table is there or none analyzed."""
    sizes: dict[str, tuple[int | None, int | None]] = {}
    try:
        with _connect(db) as conn:
            for name in names:
                schema, _, table = name.partition(".")
                # a partitioned table's rows are its leaf partitions'
                row = conn.execute(
                    "SELECT sum(greatest(c.reltuples, 0))::int8, bool_or(c.reltuples >= 0), "
                    "sum(pg_table_size(c.oid))::int8 FROM pg_class c, to_regclass(%s) r "
                    "WHERE c.relkind IN ('r', 'm', 'f') AND (c.oid = r OR c.oid IN "
                    "(SELECT relid FROM pg_partition_tree(r) WHERE isleaf))",
                    (f"{quote(schema)}.{quote(table)}",)).fetchone()
                if row and row[1]:
                    sizes[name] = (int(row[0]), int(row[2]) if row[2] is not None else None)
    except EngineError as exc:
        return {}, f"no real table sizes: {exc}"
    if not sizes:
        return {}, (f"no real table sizes: the tables are not in {redact(db)} or were never "
                    "analyzed; durations are not extrapolated")
    return sizes, ""
