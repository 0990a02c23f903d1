"""`dbarch review URL --emit-spec` on the real PostgreSQL: access patterns from
pg_stat_statements (entity, filters by class, order, limit, rates in proportion to the calls),
a spec that `dbarch spec check` and `dbarch design` accept, and designed indexes that serve
the patterns; without the extension, no patterns and a description that says how to get them.

Each test database is created for the test (pg_stat_statements counts per database, and its
texts do not name the schema: another schema's `orders` in a shared database would look like
ours), and its statements are reset on their own (`pg_stat_statements_reset(0, dbid, 0)`), so
the other databases' statistics stay untouched.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.cli import main
from tests.conftest import POSTGRESQL_URL

SERVER = POSTGRESQL_URL.rsplit("/", 1)[0]

SCHEMA = """
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'closed')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped')),
    total numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE order_items (
    id bigserial PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku text NOT NULL,
    quantity int NOT NULL
);
CREATE INDEX order_items_order_idx ON order_items (order_id);
INSERT INTO customers (email, name, status)
SELECT 'c' || i || '@x.io', 'name ' || i, (ARRAY['active', 'closed'])[1 + i % 2]
FROM generate_series(1, 1000) i;
INSERT INTO orders (customer_id, status, total, created_at)
SELECT 1 + i % 1000, (ARRAY['new', 'paid', 'shipped'])[1 + i % 3], i * 0.5,
       now() - i * interval '1 minute'
FROM generate_series(1, 20000) i;
INSERT INTO order_items (order_id, sku, quantity)
SELECT 1 + i % 2000, 'SKU-' || (i % 50), 1 + i % 4 FROM generate_series(1, 3000) i;
ANALYZE customers, orders, order_items;
"""

# (statement, how many times, its parameters for the i-th run)
WORKLOAD = [
    ("SELECT * FROM orders WHERE customer_id = %s ORDER BY created_at DESC LIMIT 10", 40,
     lambda i: (1 + i % 1000,)),
    ("SELECT * FROM customers WHERE email = %s", 20, lambda i: (f"c{1 + i}@x.io",)),
    ("SELECT * FROM orders WHERE status IN (%s, %s) AND created_at >= now() - %s::interval "
     "ORDER BY created_at LIMIT 20", 10, lambda i: ("new", "paid", "30 days")),
    ("SELECT id, name FROM customers WHERE name LIKE %s ORDER BY name", 10,
     lambda i: (f"name {1 + i}%",)),
    ("SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
     "WHERE o.id = %s", 10, lambda i: (1 + i,)),
    ("SELECT * FROM order_items WHERE order_id = %s", 30, lambda i: (1 + i,)),
    ("UPDATE orders SET status = %s WHERE id = %s", 15, lambda i: ("paid", 1 + i)),
    ("INSERT INTO order_items (order_id, sku, quantity) VALUES (%s, %s, %s)", 25,
     lambda i: (1 + i, "SKU-X", 1)),
    # the spec has no `<>`: the pattern keeps the equality, its description says what it lost
    ("SELECT * FROM orders WHERE customer_id = %s AND status <> %s", 6,
     lambda i: (1 + i, "new")),
    # the spec cannot say these: a filter on an expression alone, a join filtered on both
    # sides, a UNION (two reads in one statement), reads of no table of the schema
    ("SELECT * FROM customers WHERE lower(email) = %s", 4, lambda i: (f"c{1 + i}@x.io",)),
    ("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id "
     "WHERE c.status = %s AND o.status = %s", 3, lambda i: ("active", "new")),
    ("SELECT id FROM orders WHERE customer_id = %s UNION SELECT id FROM orders "
     "WHERE status = %s", 5, lambda i: (1, "new")),
    ("SELECT count(*) FROM pg_class", 3, lambda i: ()),
]


@contextmanager
def scratch_database(extension: bool) -> Iterator[str]:
    """A database of its own with the shop's tables and rows (and pg_stat_statements, reset
    for this database alone, when `extension`); its URL. Dropped on the way out."""
    name = f"dbarch_emit_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        try:
            url = f"{SERVER}/{name}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(SCHEMA)
                if extension:
                    conn.execute("SET client_min_messages = warning")
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                    where = conn.execute(
                        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                        "e.extnamespace WHERE e.extname = 'pg_stat_statements'").fetchone()[0]
                    conn.execute(f"SELECT {where}.pg_stat_statements_reset(0, d.oid, 0) "
                                 "FROM pg_database d WHERE d.datname = current_database()")
            yield url
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_workload(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as app:
        for sql, times, params in WORKLOAD:
            for i in range(times):
                cursor = app.execute(sql, params(i))
                if cursor.description is not None:
                    cursor.fetchall()


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    with scratch_database(extension=True) as url:
        run_workload(url)
        yield url


@pytest.fixture(scope="module")
def emitted(shop: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("emit") / "shop.yaml"
    result = CliRunner().invoke(main, ["review", shop, "--emit-spec", str(path)])
    assert result.exit_code in (0, 1), result.output
    return path


def test_patterns_from_pg_stat_statements(emitted: Path) -> None:
    from dbarch.spec import load_spec

    spec = load_spec(emitted)
    found = {p.name: p for p in spec.access_patterns}
    shapes = {name: (p.kind.value, p.entity, {k: v.value for k, v in p.where.items()},
                     p.order_by, p.limit) for name, p in found.items()}
    assert shapes == {
        "order_by_customer": ("read", "Order", {"customer": "eq"}, ["-created_at"], 10),
        "order_item_by_order": ("read", "OrderItem", {"order": "eq"}, [], None),
        "insert_order_item": ("write", "OrderItem", {}, [], None),
        "customer_by_email": ("read", "Customer", {"email": "eq"}, [], None),
        "update_order_by_id": ("write", "Order", {"id": "eq"}, [], None),
        "order_by_status_created_at": ("read", "Order", {"status": "in", "created_at": "range"},
                                       ["created_at"], 20),
        "order_by_id": ("read", "Order", {"id": "eq"}, [], None),
        "customer_by_name": ("read", "Customer", {"name": "prefix"}, ["name"], None),
        "order_by_customer_2": ("read", "Order", {"customer": "eq"}, [], None),
    }, shapes
    assert found["update_order_by_id"].operation.value == "update"
    assert found["insert_order_item"].operation.value == "insert"
    assert "LIKE $n" in (found["customer_by_name"].description or "")
    assert "joins customers" in (found["order_by_id"].description or "")
    assert "not expressed: status <> $2" in (found["order_by_customer_2"].description or "")
    assert "the rows a call returned on average" in (found["order_by_customer"].description or "")
    # rates are the calls over one clock: in the proportion of the calls
    calls = {"order_by_customer": 40, "customer_by_email": 20, "order_item_by_order": 30,
             "update_order_by_id": 15, "insert_order_item": 25, "order_by_id": 10,
             "order_by_customer_2": 6}
    unit = found["customer_by_email"].rate / 20
    assert unit > 0
    for name, count in calls.items():
        assert found[name].rate == pytest.approx(unit * count, rel=1e-3), name
    # the description says which clock, and what was left out and why
    description = " ".join((spec.description or "").split())
    assert "9 access patterns from pg_stat_statements" in description
    assert "since pg_stat_statements_info.stats_reset" in description
    for reason in ("1 UNION, INTERSECT or EXCEPT", "1 its WHERE filters several tables",
                   "1 filters only in ways the spec cannot say", "reads the system catalog"):
        assert reason in description, reason


def test_emitted_spec_checks_designs_and_its_indexes_serve_the_patterns(
        emitted: Path, tmp_path: Path) -> None:
    from dbarch.spec import load_spec

    runner = CliRunner()
    result = runner.invoke(main, ["spec", "check", str(emitted)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "design"
    # --engine: every read pattern is run through EXPLAIN on the real PostgreSQL too
    result = runner.invoke(main, ["design", str(emitted), "-o", str(out), "--engine",
                                  "sqlite://", "--engine", POSTGRESQL_URL, "--format", "json"])
    assert result.exit_code == 0, result.output
    verification = json.loads(result.output)["verification"]
    assert verification is not None
    tables = {t.name: t for t in api.plan(load_spec(emitted)).relational.tables}
    keys = {name: [tuple(f"{c.name}{' DESC' if c.desc else ''}" for c in ix.columns)
                   for ix in t.indexes] for name, t in tables.items()}
    serves = {
        "orders": [("customer_id", "created_at DESC"), ("customer_id", "created_at")],
        "order_items": [("order_id",)],
    }
    for table, wanted in serves.items():
        assert any(k[:len(w)] in wanted for k in keys[table] for w in wanted), keys[table]
    assert any(k[:1] == ("status",) for k in keys["orders"]), keys["orders"]
    customers = tables["customers"]
    assert customers.column("email") is not None and (
        any(u.columns == ["email"] for u in customers.uniques)
        or any(ix.unique and ix.column_names == ["email"] for ix in customers.indexes))
    assert any(ix.columns[0].name == "name" for ix in customers.indexes), keys["customers"]


def test_without_pg_stat_statements_the_description_says_how(tmp_path: Path) -> None:
    from dbarch.spec import load_spec

    path = tmp_path / "spec.yaml"
    with scratch_database(extension=False) as url:
        run_workload(url)
        api.review(url, emit_spec=path)
    spec = load_spec(path)
    assert spec.access_patterns == []
    description = spec.description or ""
    assert "no access patterns" in description
    assert "CREATE EXTENSION pg_stat_statements" in description
