"""The HypoPG what-if oracle on the real PostgreSQL: costs drop only for indexes the planner
uses, answers are cached, $n queries are planned generically, and the database is left as it
was found."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pglast.parser import fingerprint

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.query import Query
from dbarch.engines.whatif import HypoPGOracle, UnplannableQuery, UnusableCandidate
from dbarch.errors import EngineError
from tests.conftest import POSTGRESQL_URL, scratch_schema

pytestmark = pytest.mark.engine

ROWS = 50_000


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    """A scratch schema: `orders` (50k rows, analyzed, primary key only) and `small` (10 rows)."""
    with scratch_schema("dbarch_whatif") as (name, conn):
        conn.execute(f"CREATE TABLE {name}.orders (id int PRIMARY KEY, customer int, "
                     "status text, total numeric)")
        conn.execute(f"INSERT INTO {name}.orders SELECT g, g % 5000, "
                     f"(ARRAY['new', 'paid', 'sent'])[g % 3 + 1], g FROM "
                     f"generate_series(1, {ROWS}) g")
        conn.execute(f"CREATE TABLE {name}.small (id int PRIMARY KEY, v int)")
        conn.execute(f"INSERT INTO {name}.small SELECT g, g FROM generate_series(1, 10) g")
        conn.execute(f"ANALYZE {name}.orders")
        conn.execute(f"ANALYZE {name}.small")
        yield name


@pytest.fixture
def oracle(schema: str) -> Iterator[HypoPGOracle]:
    with HypoPGOracle.connect(POSTGRESQL_URL, search_path=schema) as found:
        yield found


def _query(sql: str, **kwargs: Any) -> Query:
    return Query(sql=sql, fingerprint=fingerprint(sql), label="q", **kwargs)


def _objects(schema: str) -> list[tuple[str, str]]:
    with psycopg.connect(POSTGRESQL_URL) as conn:
        return conn.execute(
            "SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s ORDER BY 1", (schema,)).fetchall()


def test_an_index_on_the_filtered_column_lowers_the_cost_and_is_used(
        oracle: HypoPGOracle, schema: str) -> None:
    query = _query("SELECT * FROM orders WHERE customer = 42")
    by_customer = IndexCandidate(f"{schema}.orders", ("customer",))
    base = oracle.base_cost(query)
    with_index = oracle.estimate(query, [by_customer])
    assert with_index.cost < base / 5
    assert with_index.used == {by_customer}


def test_an_index_on_an_unrelated_column_changes_nothing(
        oracle: HypoPGOracle, schema: str) -> None:
    query = _query("SELECT * FROM orders WHERE customer = 42")
    unrelated = IndexCandidate(f"{schema}.orders", ("total",))
    elsewhere = IndexCandidate(f"{schema}.small", ("v",))
    estimate = oracle.estimate(query, [unrelated, elsewhere])
    assert estimate.used == frozenset()
    assert estimate.cost == oracle.base_cost(query)


def test_the_same_question_twice_costs_one_explain(oracle: HypoPGOracle, schema: str) -> None:
    query = _query("SELECT * FROM orders WHERE status = 'new' AND customer = 7")
    candidate = IndexCandidate(f"{schema}.orders", ("customer",))
    first = oracle.estimate(query, [candidate])
    calls = oracle.calls
    assert oracle.estimate(query, [candidate]) == first
    # An index on a table the query does not read cannot change its plan: still cached.
    assert oracle.estimate(query, [candidate, IndexCandidate(f"{schema}.small", ("v",))]) == first
    assert oracle.calls == calls


def test_reusing_hypothetical_indexes_gives_the_costs_of_a_fresh_build(schema: str) -> None:
    queries = [_query("SELECT * FROM orders WHERE customer = 42 AND status = 'paid'"),
               _query("SELECT id FROM orders WHERE status = 'sent' ORDER BY total LIMIT 5")]
    table = f"{schema}.orders"
    configs = [[IndexCandidate(table, ("customer",))],
               [IndexCandidate(table, ("customer",)), IndexCandidate(table, ("total",))],
               [IndexCandidate(table, ("status", "total"))],
               [IndexCandidate(table, ("total",)), IndexCandidate(table, ("status", "total"))]]
    costs = {}
    for reuse in (True, False):
        with HypoPGOracle.connect(POSTGRESQL_URL, search_path=schema, reuse=reuse) as oracle:
            costs[reuse] = [oracle.estimate(q, c).cost for c in configs for q in queries]
            if reuse:
                assert oracle.created < sum(len(c) for c in configs) * len(queries)
    assert costs[True] == costs[False]


def test_a_parameterized_query_is_planned_generically(
        oracle: HypoPGOracle, schema: str) -> None:
    query = _query("SELECT * FROM orders WHERE customer = $1 AND total > $2", parameters=2)
    candidate = IndexCandidate(f"{schema}.orders", ("customer",))
    estimate = oracle.estimate(query, [candidate])
    assert estimate.cost < oracle.base_cost(query)
    assert estimate.used == {candidate}
    # The prepared statement was deallocated: the next one can take the same name.
    assert oracle.estimate(query, [IndexCandidate(f"{schema}.orders", ("total",))]).cost > 0


def test_an_update_is_planned_not_run(oracle: HypoPGOracle, schema: str) -> None:
    count = f"SELECT count(*) FROM {schema}.orders WHERE status = 'gone'"
    query = _query("UPDATE orders SET status = 'gone' WHERE customer = 9", kind="update")
    candidate = IndexCandidate(f"{schema}.orders", ("customer",))
    assert oracle.estimate(query, [candidate]).used == {candidate}
    assert oracle.estimate(query, ()).cost > oracle.estimate(query, [candidate]).cost
    with psycopg.connect(POSTGRESQL_URL) as conn:
        assert conn.execute(count).fetchone() == (0,)


def test_size_is_positive_and_grows_with_the_table(oracle: HypoPGOracle, schema: str) -> None:
    big = oracle.size(IndexCandidate(f"{schema}.orders", ("customer",)))
    small = oracle.size(IndexCandidate(f"{schema}.small", ("v",)))
    assert 0 < small < big
    wide = oracle.size(IndexCandidate(f"{schema}.orders", ("customer", "status", "total")))
    assert wide > big


def test_the_database_gets_no_object(schema: str) -> None:
    before = _objects(schema)
    with HypoPGOracle.connect(POSTGRESQL_URL, search_path=schema) as oracle:
        candidate = IndexCandidate(f"{schema}.orders", ("customer",))
        oracle.estimate(_query("SELECT * FROM orders WHERE customer = 1"), [candidate])
        oracle.size(candidate)
        assert _objects(schema) == before
        # A workload "query" that smuggles in a second statement is not run...
        with pytest.raises(UnplannableQuery, match="not one SQL statement"):
            oracle.estimate(_query("SELECT 1; CREATE TABLE oops (x int)"), ())
        # ...and the session itself refuses writes.
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            oracle.conn.execute(f"CREATE TABLE {schema}.oops (x int)")
    assert _objects(schema) == before


def test_an_unplannable_query_is_reported_with_its_label(oracle: HypoPGOracle) -> None:
    good = _query("SELECT * FROM orders WHERE customer = 3")
    bad = Query(sql="SELECT nope FROM orders", fingerprint="bad", label="w.sql:4",
                sources=["w.sql:4"])
    with pytest.raises(UnplannableQuery, match=r'w\.sql:4.*column "nope" does not exist'):
        oracle.base_cost(bad)
    plannable, problems = oracle.screen([good, bad])
    assert plannable == [good]
    assert [(p.file, "nope" in p.message) for p in problems] == [("w.sql:4", True)]
    # A parameterized query that fails leaves no prepared statement behind.
    broken = _query("SELECT * FROM orders WHERE nope = $1", parameters=1)
    with pytest.raises(UnplannableQuery, match="nope"):
        oracle.base_cost(broken)
    assert oracle.base_cost(_query("SELECT * FROM orders WHERE id = $1", parameters=1)) > 0


def test_a_candidate_hypopg_refuses_is_named(oracle: HypoPGOracle, schema: str) -> None:
    query = _query("SELECT * FROM orders WHERE customer = 3")
    with pytest.raises(UnusableCandidate, match="no_such_column"):
        oracle.estimate(query, [IndexCandidate(f"{schema}.orders", ("no_such_column",))])
    # The session is still usable afterwards.
    assert oracle.base_cost(query) > 0


def test_a_database_without_hypopg_says_how_to_install_it() -> None:
    name = f"dbarch_nohypo_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = POSTGRESQL_URL.rsplit("/", 1)[0] + f"/{name}"
        with pytest.raises(EngineError, match=r"postgresql-15-hypopg.*CREATE EXTENSION hypopg"):
            HypoPGOracle.connect(url)
        with HypoPGOracle.connect(url, install=True) as oracle:
            assert oracle.base_cost(_query("SELECT 1")) >= 0
    finally:
        with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
