"""`dbarch indexes` on a live PostgreSQL: read the schema, the existing indexes and (with
--from-stats) the statements, plan the workload with HypoPG, and optionally build the advice
for real to confirm it (`--validate`).

The advice itself is pure (`dbarch.advisor.advise`); this module only fetches and measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql as pgsql

from dbarch.advisor.advise import Advice, Validation, advise
from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.query import Query
from dbarch.advisor.select import Limits
from dbarch.advisor.workload import Workload
from dbarch.engines.base import redact
from dbarch.engines.index_catalog import fail, fetch_indexes, session
from dbarch.engines.postgresql import parse_plan
from dbarch.engines.whatif import HypoPGOracle
from dbarch.errors import EngineError, Problem
from dbarch.schema.model import Table

Progress = Callable[[str], None]


def run_advice(db: str, workload: Workload, limits: Limits, *, install: bool = False,
               progress: Progress | None = None) -> tuple[Advice, float]:
    """The advice for `workload` on the database at `db`, and the seconds it took."""
    from dbarch.engines.introspect import introspect

    say = progress or (lambda message: None)
    started = time.perf_counter()
    say("reading the schema and the existing indexes")
    schema = introspect(db).schema
    namespace = _current_schema(db)
    tables = {f"{namespace}.{table.name}": table for table in schema.tables}
    # Judge the indexes of the schemas the workload reads, not every schema on the server.
    scope = {namespace} | {t.rsplit(".", 1)[0] for q in workload.queries for t in q.tables
                           if "." in t}
    advice = advise_on(db, workload.queries, tables, namespace, limits, scope=scope,
                       install=install, say=say)
    advice.problems = [*workload.problems, *advice.problems]
    return advice, time.perf_counter() - started


def advise_on(url: str, queries: list[Query], tables: dict[str, Table], namespace: str,
              limits: Limits, *, scope: set[str], install: bool = False,
              search_path: tuple[str, ...] | None = None,
              say: Progress | None = None) -> Advice:
    """Advise `queries` on the server at `url`: the existing indexes of the `scope` schemas
    read, every query screened (those the server cannot plan become the advice's problems),
    the candidates of `tables` (schema-qualified) searched with HypoPG. Shared by `dbarch
    indexes` and by verification, which advises a design's access patterns."""
    from dbarch.advisor.candidates import generate

    say = say or (lambda message: None)
    existing = [i for i in fetch_indexes(url) if i.table.rsplit(".", 1)[0] in scope]
    c_collation = _c_collation(url)
    with HypoPGOracle.connect(url, search_path=search_path, install=install) as oracle:
        say(f"planning {len(queries)} queries without new indexes")
        plannable, unplannable = oracle.screen(queries)
        say(f"what-if search over the candidates of {len(plannable)} queries")
        advice = advise(plannable, lambda qs: generate(qs, tables, search_path=(namespace,),
                                                       c_collation=c_collation),
                        oracle, limits, existing)
    advice.problems = unplannable
    return advice


def _current_schema(url: str) -> str:
    """The schema unqualified names resolve to on this connection."""
    with session(url) as conn:
        row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise EngineError(f"{redact(url)}: no current schema (the search_path names no schema "
                          "that exists)")
    return str(row[0])


def _c_collation(url: str) -> bool:
    """Whether text sorts bytewise here (collation C), where a LIKE 'prefix%' can use a plain
    B-tree without text_pattern_ops."""
    with session(url) as conn:
        row = conn.execute("SELECT datcollate IN ('C', 'POSIX') FROM pg_database "
                           "WHERE datname = current_database()").fetchone()
    return bool(row and row[0])


def validate(db: str, advice: Advice, queries: list[Query], *, keep: bool = False,
             progress: Progress | None = None) -> Validation:
    """Create each recommended index (CONCURRENTLY: no write is blocked), ANALYZE nothing,
    re-plan every query, and drop the indexes again unless `keep`."""
    say = progress or (lambda message: None)
    result = Validation(kept=keep)
    # building an index on a big table may take long: no statement timeout here
    conn = session(db, read_only=False, statement_timeout_ms=0)
    created: list[tuple[IndexCandidate, str]] = []
    try:
        before = {q.fingerprint: _cost(conn, q) for q in queries}
        for rec in advice.recommendations:
            name = rec.candidate.name
            say(f"building {name}")
            try:
                conn.execute(rec.candidate.ddl(name=name).encode())
            except psycopg.Error as exc:
                result.problems.append(Problem(name, f"could not be built: {exc}".strip()))
                continue
            created.append((rec.candidate, name))
            result.built.append(name)
        used: set[str] = set()
        for query in queries:
            after, names = _plan(conn, query)
            used |= names
            result.costs[query.label or query.fingerprint] = (before[query.fingerprint], after)
        result.unused = [name for _, name in created if name not in used]
    except psycopg.Error as exc:
        raise fail(db, "validating the advice failed", exc) from exc
    finally:
        if not keep:
            for candidate, name in created:
                schema = candidate.table.rsplit(".", 1)[0] if "." in candidate.table else None
                ident = (pgsql.Identifier(schema, name) if schema else pgsql.Identifier(name))
                try:
                    conn.execute(pgsql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(ident))
                except psycopg.Error as exc:
                    result.problems.append(Problem(name, f"could not be dropped: {exc}"))
        conn.close()
    return result


def _plan(conn: psycopg.Connection[Any], query: Query) -> tuple[float, set[str]]:
    """The query's planner cost and the indexes its plan reads (EXPLAIN only, nothing runs)."""
    if query.parameters:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(b"PREPARE dbarch_validate AS " + query.sql.encode())
        nulls = ", ".join(["NULL"] * query.parameters)
        try:
            row = conn.execute(f"EXPLAIN (FORMAT JSON) EXECUTE dbarch_validate({nulls})"
                               .encode()).fetchone()
        finally:
            conn.execute("DEALLOCATE dbarch_validate")
    else:
        row = conn.execute(b"EXPLAIN (FORMAT JSON) " + query.sql.encode()).fetchone()
    if row is None:
        return 0.0, set()
    plan = parse_plan(row[0])
    return plan.cost or 0.0, set(plan.indexes)


def _cost(conn: psycopg.Connection[Any], query: Query) -> float:
    return _plan(conn, query)[0]
