"""Candidate generation: each query shape yields the index an architect would try first,
and nothing an existing index (the primary key included) already serves."""

from __future__ import annotations

import pytest
from pglast import parser

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.candidates import candidate_pool, generate, resolve_table
from dbarch.advisor.query import Query
from dbarch.parse import parse_ddl
from dbarch.schema.model import Table

DDL = """
CREATE TABLE customers (
    id bigint PRIMARY KEY, email text NOT NULL, name text, country text,
    created_at timestamptz NOT NULL);
CREATE TABLE orders (
    id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL, total numeric, created_at timestamptz NOT NULL,
    deleted_at timestamptz, note text);
CREATE TABLE order_items (
    order_id bigint REFERENCES orders (id), line int, sku char(8), qty int,
    PRIMARY KEY (order_id, line));
CREATE INDEX orders_note_idx ON orders (note);
"""


@pytest.fixture(scope="module")
def tables() -> dict[str, Table]:
    schema = parse_ddl(DDL, "postgresql").schema
    return {f"public.{t.name}": t for t in schema.tables}


def _candidates(tables: dict[str, Table], sql: str, **options: object) -> list[str]:
    query = Query(sql=sql, fingerprint=parser.fingerprint(sql))
    return [str(c) for c in generate([query], tables, **options)[query.fingerprint]]


CASES = [
    # (query, a candidate it must yield)
    ("SELECT * FROM orders WHERE customer_id = $1",
     "public.orders(customer_id)"),
    ("SELECT * FROM orders WHERE customer_id = ANY($1)",
     "public.orders(customer_id)"),
    ("SELECT id FROM orders WHERE customer_id = $1 AND created_at >= $2",
     "public.orders(customer_id, created_at)"),
    ("SELECT id FROM orders WHERE created_at BETWEEN $2 AND $3 AND customer_id IN (1, 2)",
     "public.orders(customer_id, created_at)"),
    ("SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
     "public.orders(customer_id, created_at)"),
    ("SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, total",
     "public.orders(customer_id, created_at, total DESC)"),
    ("SELECT o.id, o.total FROM orders o WHERE o.customer_id = $1 AND o.created_at > $2",
     "public.orders(customer_id, created_at) INCLUDE (id, total)"),
    ("SELECT id FROM orders WHERE customer_id = $1 AND status = 'open'",
     "public.orders(customer_id) WHERE status = 'open'"),
    ("SELECT id FROM orders WHERE deleted_at IS NULL ORDER BY created_at LIMIT 50",
     "public.orders(created_at) WHERE deleted_at IS NULL"),
    ("SELECT id FROM customers WHERE lower(email) = lower($1)",
     "public.customers((lower(email)))"),
    ("SELECT count(*) FROM orders WHERE date_trunc('day', created_at) = $1",
     "public.orders((date_trunc('day', created_at)))"),
    ("SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id "
     "WHERE c.country = $1", "public.orders(customer_id)"),
    ("SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id "
     "WHERE c.country = $1", "public.customers(country)"),
    ("SELECT * FROM customers c WHERE EXISTS "
     "(SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.total > 100)",
     "public.orders(customer_id, total)"),
    ("SELECT name FROM customers WHERE email LIKE 'ann%'",
     "public.customers(email text_pattern_ops)"),
    ("SELECT qty FROM order_items WHERE sku LIKE 'AB%'",
     "public.order_items(sku bpchar_pattern_ops)"),
    ("SELECT country, count(*) FROM customers GROUP BY country",
     "public.customers(country)"),
    ("SELECT * FROM orders WHERE customer_id = $1 OR created_at > $2",
     "public.orders(created_at)"),
    ("UPDATE orders SET status = 'shipped' WHERE customer_id = $1 AND created_at < $2",
     "public.orders(customer_id, created_at)"),
    ("DELETE FROM orders WHERE created_at < now() - interval '1 year'",
     "public.orders(created_at)"),
    ("WITH recent AS (SELECT customer_id FROM orders WHERE total > $1) "
     "SELECT * FROM customers JOIN recent r ON r.customer_id = customers.id",
     "public.orders(total)"),
    ("SELECT * FROM orders WHERE id IN (SELECT max(id) FROM orders GROUP BY customer_id)",
     "public.orders(customer_id)"),
    ("SELECT total FROM public.orders WHERE status = $1 ORDER BY 1",
     "public.orders(status, total)"),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_query_yields_candidate(tables: dict[str, Table], sql: str, expected: str) -> None:
    assert expected in _candidates(tables, sql)


NOTHING = [
    "SELECT * FROM orders WHERE id = $1",  # the primary key
    "SELECT * FROM orders WHERE id IN (1, 2, 3) ORDER BY created_at",  # unique: ≤ 1 row each
    "SELECT * FROM order_items WHERE order_id = $1",  # leads the primary key
    "SELECT * FROM order_items WHERE order_id = $1 ORDER BY line DESC",
    "SELECT id FROM orders WHERE note = $1",  # orders_note_idx
    "INSERT INTO orders (id, customer_id, status, created_at) VALUES ($1, $2, $3, now())",
    "SELECT * FROM unknown_table WHERE a = 1",
    "SELECT * FROM orders WHERE status <> 'open'",
    "SELECT * FROM customers WHERE email LIKE '%son'",
]


@pytest.mark.parametrize("sql", NOTHING)
def test_query_yields_nothing(tables: dict[str, Table], sql: str) -> None:
    assert _candidates(tables, sql) == []


def test_key_orders(tables: dict[str, Table]) -> None:
    found = _candidates(tables, "SELECT id FROM orders WHERE created_at > $1 AND total < $2 "
                                "AND customer_id = $3 AND status = $4")
    # equality columns first, in the query's order, then at most one range column
    assert found[0] == "public.orders(customer_id, status, created_at)"
    assert "public.orders(customer_id, status, total)" in found
    assert not any("created_at, total" in c or "total, created_at" in c for c in found)


def test_include_never_repeats_a_key_and_stays_small(tables: dict[str, Table]) -> None:
    for sql in ["SELECT id, status, total FROM orders WHERE customer_id = $1 AND status = $2",
                "SELECT * FROM orders WHERE customer_id = $1"]:
        query = Query(sql=sql, fingerprint=parser.fingerprint(sql))
        for candidate in generate([query], tables)[query.fingerprint]:
            assert not set(candidate.include) & set(candidate.columns)
            assert len(candidate.include) <= 4
    # SELECT * on orders would INCLUDE six columns: no covering variant
    assert not any("INCLUDE" in c
                   for c in _candidates(tables, "SELECT * FROM orders WHERE customer_id = $1"))


def test_partial_only_for_categorical_constants(tables: dict[str, Table]) -> None:
    # a literal id or date is one query's value, not a subset worth an index of its own
    assert not any("WHERE" in c for c in _candidates(
        tables, "SELECT id FROM orders WHERE customer_id = 42 AND created_at > '2024-01-01'"))
    assert not any("WHERE" in c for c in _candidates(
        tables, "SELECT id FROM orders WHERE customer_id = $1 AND status = $2"))


def test_c_collation_needs_no_pattern_ops(tables: dict[str, Table]) -> None:
    found = _candidates(tables, "SELECT name FROM customers WHERE email LIKE 'ann%'",
                        c_collation=True)
    assert found[0] == "public.customers(email)"


def test_self_join_sides_resolved_by_alias(tables: dict[str, Table]) -> None:
    found = _candidates(tables, "SELECT a.id FROM orders a JOIN orders b ON a.customer_id = "
                                "b.customer_id WHERE b.status = $1 AND a.total > $2")
    assert {"public.orders(status, customer_id)", "public.orders(customer_id, total)",
            "public.orders(total)"} <= set(found)


def test_ambiguous_unqualified_column_is_not_guessed(tables: dict[str, Table]) -> None:
    found = _candidates(tables, "SELECT 1 FROM orders JOIN customers ON true "
                                "WHERE created_at > $1")
    assert not any("created_at" in c for c in found)


def test_bound_and_dedup_across_the_workload(tables: dict[str, Table]) -> None:
    sqls = ["SELECT * FROM orders WHERE customer_id = $1",
            "SELECT * FROM orders WHERE customer_id = $1 AND status = $2",
            "SELECT o.*, c.* FROM orders o JOIN customers c ON c.id = o.customer_id JOIN "
            "order_items i ON i.order_id = o.id WHERE o.status = $1 AND o.total > $2 AND "
            "c.country = $3 AND c.created_at > $4 AND i.qty > $5 AND i.sku = $6 "
            "ORDER BY o.created_at"]
    queries = [Query(sql=s, fingerprint=parser.fingerprint(s)) for s in sqls]
    generated = generate(queries, tables, limit=5)
    assert all(len(c) <= 5 for c in generated.values())
    first, second = (generated[q.fingerprint] for q in queries[:2])
    shared = next(c for c in second if c == first[0])
    assert shared is first[0]  # one object for one index
    pool = candidate_pool(generated)
    assert len(pool) == len(set(pool))
    # the three-table join still gets candidates on each of its tables within the bound
    assert {c.table for c in generated[queries[2].fingerprint]} == {
        "public.orders", "public.customers", "public.order_items"}


def test_candidates_render_ddl(tables: dict[str, Table]) -> None:
    query = Query(sql="SELECT id FROM customers WHERE lower(email) = $1",
                  fingerprint="f")
    (candidate, *_) = generate([query], tables)["f"]
    assert candidate == IndexCandidate("public.customers", ("(lower(email))",))
    assert candidate.ddl() == ("CREATE INDEX CONCURRENTLY idx_customers_lower_email "
                               "ON public.customers ((lower(email)))")


def test_resolve_table_through_search_path(tables: dict[str, Table]) -> None:
    assert resolve_table("orders", tables) == "public.orders"
    assert resolve_table("public.orders", tables) == "public.orders"
    assert resolve_table("orders", tables, search_path=["app"]) is None
    assert resolve_table("sales.orders", tables) is None
