"""dbarch review on the real PostgreSQL 15: a deliberately flawed schema, loaded with rows and a
workload, gets every finding; a clean one, loaded the same way, gets none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.cli import main
from tests.conftest import POSTGRESQL_URL, scratch_schema

SCHEMAS = Path(__file__).parent / "fixtures" / "review" / "schemas"

FLAWED_ROWS = """
INSERT INTO customers (name, email, phone1, phone2, tags, status, balance, last_seen)
SELECT 'c' || i, 'c' || i || '@x.io', CASE WHEN i % 3 = 0 THEN NULL ELSE '+1555' || i END,
       CASE WHEN i % 2 = 0 THEN NULL ELSE '+1666' || i END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'a,b,' || (i % 7) END,
       (ARRAY['active', 'blocked', 'closed'])[1 + i % 3], i * 1.5, now()
FROM generate_series(1, 1000) i;
SELECT setval('customers_id_seq', 1500000000);
INSERT INTO orders (customer_id, total)
SELECT 1 + i % 1000, i * 0.25 FROM generate_series(1, 2000) i;
INSERT INTO order_items (order_id, sku, quantity)
SELECT 1 + i % 2000, 'SKU-' || (i % 500), 1 + i % 5 FROM generate_series(1, 4000) i;
INSERT INTO products (sku, name, price, voltage, isbn, author, wattage, page_count, color, fabric)
SELECT 'P' || i, 'product ' || i, 9.99, CASE WHEN i % 20 = 0 THEN 230 END,
       CASE WHEN i % 25 = 1 THEN 'isbn' || i END, CASE WHEN i % 25 = 1 THEN 'author ' || i END,
       CASE WHEN i % 20 = 0 THEN 100 END, CASE WHEN i % 25 = 1 THEN 300 END, 'c' || i, NULL
FROM generate_series(1, 500) i;
ANALYZE customers, orders, order_items, products;
"""
# the application reads products by key: products_sku_idx is never used
FLAWED_WORKLOAD = "SELECT * FROM products WHERE id = %s"

CLEAN_ROWS = """
INSERT INTO customers (email, name, status, nickname, balance)
SELECT 'c' || i || '@x.io', 'customer ' || i, (ARRAY['active', 'blocked', 'closed'])[1 + i % 3],
       CASE WHEN i % 5 = 0 THEN NULL ELSE 'nick' || i END, i
FROM generate_series(1, 1000) i;
INSERT INTO orders (customer_id, total, note)
SELECT 1 + i % 1000, i * 0.25, CASE WHEN i % 10 = 0 THEN 'note ' || i END
FROM generate_series(1, 2000) i;
INSERT INTO order_items (order_id, line, sku, quantity)
SELECT 1 + i % 2000, i / 2000, 'SKU-' || (i % 500), 1 + i % 5 FROM generate_series(0, 3999) i;
ANALYZE customers, orders, order_items;
"""
CLEAN_WORKLOAD = ("SELECT * FROM orders WHERE customer_id = %s ORDER BY created_at DESC "
                  "LIMIT 10")

# (code, table, column) every one of which the flawed schema must get
FLAWED_EXPECTED = {
    ("R101", "order_items", None),
    ("R102", "orders", "customer_id"),
    ("R103", "order_items", None),
    ("R104", "orders", None),
    ("R105", "products", None),
    ("R106", "customers", "id"),
    ("R107", "customers", "last_seen"),
    ("R108", "customers", "balance"),
    ("R108", "orders", "total"),
    ("R109", None, None),
    ("R110", "customers", "status"),
    ("R111", "customers", "phone1"),
    ("R111", "customers", "tags"),
    ("R112", "products", None),
    ("R113", "customers", None),
    ("R114", "order_items", "order_id"),
    ("R115", "customers", "status"),
}


def _load(ddl: Path, rows: str, workload: str, schema: str, conn: psycopg.Connection) -> str:
    """Create the tables in `schema`, fill them, run the workload 60 times from a session of
    its own, and flush its statistics; the URL that puts `schema` on the search_path."""
    conn.execute(f"SET search_path = {schema}")
    conn.execute(ddl.read_text())
    conn.execute(rows)
    url = f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(url, autocommit=True) as app:
        for key in range(1, 61):
            app.execute(workload, (key,)).fetchall()
        # PostgreSQL 15 keeps scan counts in the backend until it goes idle: flush them now
        app.execute("SELECT pg_stat_force_next_flush()")
        app.execute("SELECT 1")
    return url


@pytest.fixture(scope="module")
def flawed() -> Iterator[str]:
    with scratch_schema("dbarch_review_flawed") as (schema, conn):
        yield _load(SCHEMAS / "flawed_postgresql.sql", FLAWED_ROWS, FLAWED_WORKLOAD, schema, conn)


@pytest.fixture(scope="module")
def clean() -> Iterator[str]:
    with scratch_schema("dbarch_review_clean") as (schema, conn):
        yield _load(SCHEMAS / "clean_postgresql.sql", CLEAN_ROWS, CLEAN_WORKLOAD, schema, conn)


def test_flawed_schema_gets_every_finding(flawed: str) -> None:
    report = api.review(flawed)
    assert report.live and report.dialect == "postgresql" and report.not_run == []
    found = {(f.code, f.table, f.column) for f in report.findings}
    assert found >= FLAWED_EXPECTED, FLAWED_EXPECTED - found
    by_code = {f.code: f for f in report.findings}
    assert "order_items_order_copy_idx" in by_code["R103"].message
    assert "orders_created_idx" in by_code["R104"].message
    unused = {f.message.split()[1] for f in report.findings if f.code == "R105"}
    assert "products_sku_idx" in unused
    assert "products_pkey" not in unused  # read by the workload, and it enforces the key
    assert "1,500,000,000 of 2,147,483,647" in by_code["R106"].message
    assert "customers_id_seq AS bigint" in (by_code["R106"].fix or "")
    status = next(f for f in report.findings if f.code == "R115" and f.column == "status")
    assert "('active', 'blocked', 'closed')" in (status.fix or "")


def test_flawed_schema_fixes_apply() -> None:
    """The fixes the review proposes run on the server as written, and the findings go."""
    fixed = ("R102", "R107", "R108", "R110", "R114", "R115")
    with scratch_schema("dbarch_review_fix") as (schema, conn):
        url = _load(SCHEMAS / "flawed_postgresql.sql", FLAWED_ROWS, FLAWED_WORKLOAD, schema,
                    conn)
        report = api.review(url, disable=("all",), enable=fixed)
        assert {f.code for f in report.findings} == set(fixed)
        for finding in report.findings:
            if finding.fix:
                conn.execute(finding.fix)
        conn.execute("ANALYZE customers, orders, order_items, products")
        again = api.review(url, disable=("all",), enable=fixed)
    assert again.findings == [], [(f.code, f.where) for f in again.findings]


def test_clean_schema_gets_no_finding(clean: str) -> None:
    report = api.review(clean)
    assert report.findings == [], [(f.code, f.where, f.message) for f in report.findings]
    assert len(report.rules_run) == 15 and report.not_run == []


def test_cli_json_and_exit_codes(clean: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["review", clean, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["findings"] == [] and data["live"] is True and data["tables"] == 3
    result = runner.invoke(main, ["review", "postgresql://postgres@127.0.0.1:1/test"])
    assert result.exit_code == 2


def test_emitted_spec_designs_back_to_an_equivalent_schema(clean: str, tmp_path: Path) -> None:
    """--emit-spec on the clean database: the spec loads, its volumes are the row counts, and
    `dbarch design` makes the same tables, columns, nullability and foreign keys from it."""
    from dbarch.parse import read_ddl_file
    from dbarch.spec import load_spec

    path = tmp_path / "spec.yaml"
    report = api.review(clean, emit_spec=path)
    assert report.emitted_spec == str(path)
    spec = load_spec(path)
    assert set(spec.entities) == {"Customer", "Order", "OrderItem"}
    assert spec.entities["Customer"].volume == 1000
    assert spec.entities["Customer"].attributes["status"].values == ["active", "blocked",
                                                                     "closed"]
    assert spec.entities["Customer"].attributes["balance"].type == "money"
    owned = {(r.from_, r.to): r.owned for r in spec.relationships}
    assert owned == {("Order", "Customer"): False, ("OrderItem", "Order"): True}
    designed = {t.name: t for t in api.plan(spec).relational.tables}
    original = read_ddl_file(SCHEMAS / "clean_postgresql.sql", "postgresql").schema
    assert set(designed) == {t.name for t in original.tables}
    for table in original.tables:
        twin = designed[table.name]
        for column in table.columns:
            assert twin.column(column.name).nullable == column.nullable, column.name
        assert {(tuple(f.columns), f.ref_table, f.on_delete) for f in table.foreign_keys
                if f.on_delete.value == "CASCADE"} <= {
            (tuple(f.columns), f.ref_table, f.on_delete) for f in twin.foreign_keys}
        assert {(tuple(f.columns), f.ref_table) for f in table.foreign_keys} == {
            (tuple(f.columns), f.ref_table) for f in twin.foreign_keys}
