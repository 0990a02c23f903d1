"""What-if planning on a real PostgreSQL: HypoPG's hypothetical indexes, EXPLAIN's cost.

`HypoPGOracle` answers the advisor's `CostOracle` questions. A hypothetical index lives only in
the memory of this oracle's backend: the user's database gets no object, no lock, no write.
The session is read-only with a statement timeout, and only plans (EXPLAIN without ANALYZE), so
an UPDATE or DELETE of the workload is planned, never run.

A query the server cannot plan (an undefined table or column, a parameter whose type cannot be
inferred) raises `UnplannableQuery`, which names the query and carries the server's message:
the advisor catches it, reports the query with a notice and advises the others. `screen()`
does that for a whole workload up front. A candidate HypoPG refuses raises `UnusableCandidate`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Self

import pglast
import psycopg
from psycopg import sql as pgsql

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.oracle import CandidateRefused, Estimate
from dbarch.advisor.query import Query
from dbarch.engines.base import redact
from dbarch.engines.index_catalog import fail, session
from dbarch.errors import EngineError, Problem

STATEMENT_TIMEOUT_MS = 30_000
"""Planning one query takes milliseconds; a statement past this is a server in trouble."""

_HYPOTHETICAL = re.compile(r"^<(\d+)>")  # hypopg names its indexes `<oid>btree_table_cols`
_PREPARED = "dbarch_whatif"


class UnplannableQuery(EngineError):
    """The server refused to plan a workload query; the advisor skips it with a notice."""

    def __init__(self, query: Query, message: str) -> None:
        self.query = query
        self.message = message
        super().__init__(f"{query.label or query.sql[:60]}: cannot be planned: {message}")

    def problem(self) -> Problem:
        """The failure as a located Problem, for the advisor's notices."""
        where = self.query.sources[0] if self.query.sources else (self.query.label or "query")
        return Problem(where, f"cannot be planned: {self.message}",
                       hint="the query is left out of the advice")


class UnusableCandidate(EngineError, CandidateRefused):
    """HypoPG refused to create a candidate (an access method it does not simulate, a column
    that is not there, an expression that is not IMMUTABLE); the advisor drops the candidate."""

    def __init__(self, candidate: IndexCandidate, message: str) -> None:
        CandidateRefused.__init__(self, candidate, message)
        self.args = (f"hypothetical index {candidate} refused: {message}",)


class HypoPGOracle:
    """Planner costs under hypothetical index configurations, on one PostgreSQL session.

    Only candidates on relations the query touches can change its plan, so a configuration is
    first cut down to those (relations read from the query's plan with no hypothetical index,
    and from `query.tables`), and answers are cached by (query fingerprint, that subset).
    Between misses the hypothetical indexes are adjusted, not rebuilt: those the next
    configuration lacks are dropped, the missing ones created (`reuse=False` resets and
    recreates them all each time instead).
    """

    def __init__(self, conn: psycopg.Connection[Any], url: str, hypopg_schema: str,
                 *, reuse: bool = True) -> None:
        self.conn = conn
        self.url = url
        self.reuse = reuse
        self.calls = 0  # EXPLAINs run (cache misses)
        self.created = 0  # hypothetical indexes created, for measuring the reuse
        self._hypopg = pgsql.Identifier(hypopg_schema)
        self._cache: dict[tuple[str, frozenset[IndexCandidate]], Estimate] = {}
        self._relations: dict[str, frozenset[str]] = {}
        self._failed: dict[str, str] = {}
        self._live: dict[IndexCandidate, int] = {}  # hypothetical index → its oid
        self._sizes: dict[IndexCandidate, int] = {}

    @classmethod
    def connect(cls, url: str, *, search_path: str | Sequence[str] | None = None,
                install: bool = False, reuse: bool = True, timeout: float = 5.0) -> Self:
        """Connect, check HypoPG is installed in the URL's database (create it only when
        `install` is true), then make the session read-only and plan generically."""
        conn = session(url, timeout=timeout, read_only=False,
                       statement_timeout_ms=STATEMENT_TIMEOUT_MS)
        try:
            schema = cls._hypopg_schema(conn, url, install)
            conn.execute("SET default_transaction_read_only = on")
            # A prepared statement's cached plan would not see later hypothetical indexes, and a
            # custom plan would plan the NULLs given for its parameters, not the query.
            conn.execute("SET plan_cache_mode = force_generic_plan")
            if search_path:
                names = [search_path] if isinstance(search_path, str) else list(search_path)
                conn.execute(pgsql.SQL("SET search_path TO {}").format(
                    pgsql.SQL(", ").join(map(pgsql.Identifier, names))))
            conn.execute(pgsql.SQL("SELECT {}.hypopg_reset()").format(pgsql.Identifier(schema)))
        except psycopg.Error as exc:
            conn.close()
            raise fail(url, "cannot prepare the what-if session", exc) from exc
        except EngineError:
            conn.close()
            raise
        return cls(conn, url, schema, reuse=reuse)

    @staticmethod
    def _hypopg_schema(conn: psycopg.Connection[Any], url: str, install: bool) -> str:
        find = ("SELECT n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hypopg'")
        row = conn.execute(find).fetchone()
        if row is None and install:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            except psycopg.Error as exc:
                raise _missing(conn, url, f"CREATE EXTENSION hypopg failed: {exc}".strip()) \
                    from exc
            row = conn.execute(find).fetchone()
        if row is None:
            raise _missing(conn, url, "HypoPG is not installed in this database")
        return str(row[0])

    def close(self) -> None:
        """Forget the hypothetical indexes and close the session."""
        if not self.conn.closed:
            # On failure the backend's memory goes with the connection anyway.
            with contextlib.suppress(psycopg.Error):
                self.conn.execute(pgsql.SQL("SELECT {}.hypopg_reset()").format(self._hypopg))
            self.conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the CostOracle protocol --------------------------------------------------------------

    def estimate(self, query: Query, config: Iterable[IndexCandidate]) -> Estimate:
        """Plan `query` as if exactly the existing indexes plus `config` existed."""
        relevant = self._relevant(query, config)
        key = (_key(query), relevant)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._explain(query, relevant)
        return cached

    def size(self, candidate: IndexCandidate) -> int:
        """HypoPG's estimate of the index's size in bytes (from the table's statistics)."""
        if candidate not in self._sizes:
            oid = self._live.get(candidate)
            if oid is None:
                oid = self._create(candidate)
            try:
                row = self.conn.execute(
                    pgsql.SQL("SELECT {}.hypopg_relation_size(%s)").format(self._hypopg),
                    (oid,)).fetchone()
            except psycopg.Error as exc:  # callers see EngineErrors only, as from the rest
                raise fail(self.url, f"sizing {candidate} failed", exc) from exc
            self._sizes[candidate] = int(row[0]) if row and row[0] is not None else 0
        return self._sizes[candidate]

    def base_cost(self, query: Query) -> float:
        """The query's cost with only the existing indexes."""
        return self.estimate(query, ()).cost

    def screen(self, queries: Iterable[Query]) -> tuple[list[Query], list[Problem]]:
        """The queries the server can plan, and a Problem for each one it cannot."""
        plannable: list[Query] = []
        problems: list[Problem] = []
        for query in queries:
            try:
                self.base_cost(query)
            except UnplannableQuery as exc:
                problems.append(exc.problem())
            else:
                plannable.append(query)
        return plannable, problems

    # --- inside -------------------------------------------------------------------------------

    def _relevant(self, query: Query,
                  config: Iterable[IndexCandidate]) -> frozenset[IndexCandidate]:
        config = frozenset(config)
        if not config:
            return config
        relations = self._relations.get(_key(query))
        if relations is None:
            self._explain(query, frozenset())  # the base plan names the relations read
            relations = self._relations[_key(query)]
        named = set(query.tables) | {t.rsplit(".", 1)[-1] for t in query.tables}
        return frozenset(c for c in config
                         if c.table in relations or c.table in named
                         or c.table.rsplit(".", 1)[-1] in named)

    def _explain(self, query: Query, config: frozenset[IndexCandidate]) -> Estimate:
        key = _key(query)
        if key in self._failed:
            raise UnplannableQuery(query, self._failed[key])
        text = _statement(query)
        if text is None:
            self._failed[key] = "not one SQL statement"
            raise UnplannableQuery(query, self._failed[key])
        try:
            self._apply(config)
        except psycopg.Error as exc:  # UnusableCandidate (a refusal) passes through as it is
            raise fail(self.url, "setting up the hypothetical indexes failed", exc) from exc
        base = not config  # the base plan also tells which relations the query reads
        options = pgsql.SQL("(VERBOSE, FORMAT JSON)" if base else "(FORMAT JSON)")
        self.calls += 1
        try:
            document = self._plan(query, text, options)
        except psycopg.Error as exc:
            if self.conn.broken:
                raise fail(self.url, f"planning {query.label or 'a query'} failed", exc) from exc
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            self._failed[key] = message
            raise UnplannableQuery(query, message) from exc
        top = document[0]["Plan"]
        by_oid = {oid: candidate for candidate, oid in self._live.items()}
        used = frozenset(by_oid[oid] for oid in _hypothetical_oids(top) if oid in by_oid)
        real = frozenset(str(node["Index Name"]) for node in _nodes(top)
                         if "Index Name" in node
                         and not _HYPOTHETICAL.match(str(node["Index Name"])))
        if base:
            self._relations[key] = frozenset(_relations(top))
        estimate = Estimate(cost=float(top["Total Cost"]), used=used & config, existing=real)
        self._cache[(key, config)] = estimate
        return estimate

    def _plan(self, query: Query, text: str, options: pgsql.Composable) -> list[dict[str, Any]]:
        explain = pgsql.SQL("EXPLAIN {} ").format(options).as_string(self.conn)
        if query.parameters <= 0:
            return self.conn.execute((explain + text).encode()).fetchone()[0]
        try:
            self.conn.execute(f"PREPARE {_PREPARED} AS {text}".encode())
            nulls = ", ".join(["NULL"] * query.parameters)
            return self.conn.execute(f"{explain}EXECUTE {_PREPARED}({nulls})").fetchone()[0]
        finally:
            # Whether or not PREPARE got that far: the next query takes the same name.
            if not self.conn.broken:
                with contextlib.suppress(psycopg.errors.InvalidSqlStatementName):
                    self.conn.execute(f"DEALLOCATE {_PREPARED}")

    def _apply(self, config: frozenset[IndexCandidate]) -> None:
        """Make exactly `config` the hypothetical indexes of the session."""
        if not self.reuse:
            if self._live:
                self.conn.execute(pgsql.SQL("SELECT {}.hypopg_reset()").format(self._hypopg))
                self._live.clear()
        else:
            for candidate in [c for c in self._live if c not in config]:
                oid = self._live.pop(candidate)
                self.conn.execute(
                    pgsql.SQL("SELECT {}.hypopg_drop_index(%s)").format(self._hypopg), (oid,))
        for candidate in config:
            if candidate not in self._live:
                self._create(candidate)

    def _create(self, candidate: IndexCandidate) -> int:
        try:
            row = self.conn.execute(
                pgsql.SQL("SELECT indexrelid FROM {}.hypopg_create_index(%s)").format(self._hypopg),
                (candidate.ddl(concurrently=False),),
            ).fetchone()
        except psycopg.Error as exc:
            if self.conn.broken:
                raise fail(self.url, f"creating {candidate} failed", exc) from exc
            raise UnusableCandidate(candidate, str(exc).strip().splitlines()[0]) from exc
        if row is None:
            raise UnusableCandidate(candidate, "HypoPG returned no index")
        self.created += 1
        self._live[candidate] = int(row[0])
        return int(row[0])


def _statement(query: Query) -> str | None:
    """The query's one statement without its `;`; None for none, several, or an unterminated
    string (PostgreSQL's scanner, not the parser: quick, and the server judges the rest)."""
    try:
        statements = pglast.split(query.sql, with_parser=False)
    except pglast.parser.ParseError:
        return None
    return statements[0] if len(statements) == 1 else None


def _key(query: Query) -> str:
    return query.fingerprint or query.sql


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _hypothetical_oids(top: dict[str, Any]) -> Iterator[int]:
    for node in _nodes(top):
        match = _HYPOTHETICAL.match(str(node.get("Index Name", "")))
        if match:
            yield int(match.group(1))


def _relations(top: dict[str, Any]) -> Iterator[str]:
    """`schema.relation` of every scan and modified table in a VERBOSE plan."""
    for node in _nodes(top):
        if "Relation Name" in node and "Schema" in node:
            yield f"{node['Schema']}.{node['Relation Name']}"


def _missing(conn: psycopg.Connection[Any], url: str, what: str) -> EngineError:
    major = conn.info.server_version // 10000
    return EngineError(
        f"{redact(url)}: {what}; index advice needs HypoPG: install the server package "
        f"(Debian/Ubuntu: apt-get install postgresql-{major}-hypopg; elsewhere build HypoPG "
        "from source with make install), then run CREATE EXTENSION hypopg in this database "
        "(or pass install=True to create it)")
