"""dbarch review on the real MariaDB 10.11: a deliberately flawed schema, loaded with rows, gets
every finding that applies to MariaDB; a clean one gets none. Rules that cannot run there are
listed with the reason."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from dbarch import api
from tests.conftest import MARIADB_URL

SCHEMAS = Path(__file__).parent / "fixtures" / "review" / "schemas"

FLAWED_ROWS = [
    "INSERT INTO customers (name, email, phone1, phone2, tags, status, balance, last_seen) "
    "SELECT CONCAT('c', seq), CONCAT('c', seq, '@x.io'), IF(seq % 3 = 0, NULL, "
    "CONCAT('+1555', seq)), IF(seq % 2 = 0, NULL, CONCAT('+1666', seq)), "
    "IF(seq % 4 = 0, NULL, CONCAT('a,b,', seq % 7)), ELT(1 + seq % 3, 'active', 'blocked', "
    "'closed'), seq * 1.5, NOW() FROM seq_1_to_1000",
    "ALTER TABLE customers AUTO_INCREMENT = 1500000000",
    "INSERT INTO orders (customer_id, total) SELECT 1 + seq % 1000, seq * 0.25 FROM seq_1_to_2000",
    "INSERT INTO order_items (order_id, sku, quantity) "
    "SELECT 1 + seq % 2000, CONCAT('SKU-', seq % 500), 1 + seq % 5 FROM seq_1_to_4000",
    "INSERT INTO products (sku, name, price, voltage, isbn, author, wattage, page_count, color, "
    "fabric) SELECT CONCAT('P', seq), CONCAT('product ', seq), 9.99, IF(seq % 20 = 0, 230, "
    "NULL), IF(seq % 25 = 1, CONCAT('isbn', seq), NULL), IF(seq % 25 = 1, CONCAT('author ', "
    "seq), NULL), IF(seq % 20 = 0, 100, NULL), IF(seq % 25 = 1, 300, NULL), CONCAT('c', seq), "
    "NULL FROM seq_1_to_500",
]
CLEAN_ROWS = [
    "INSERT INTO customers (email, name, status, nickname, balance) "
    "SELECT CONCAT('c', seq, '@x.io'), CONCAT('customer ', seq), ELT(1 + seq % 3, 'active', "
    "'blocked', 'closed'), IF(seq % 5 = 0, NULL, CONCAT('nick', seq)), seq FROM seq_1_to_1000",
    "INSERT INTO orders (customer_id, total, note) SELECT 1 + seq % 1000, seq * 0.25, "
    "IF(seq % 10 = 0, CONCAT('note ', seq), NULL) FROM seq_1_to_2000",
    "INSERT INTO order_items (order_id, line, sku, quantity) SELECT 1 + seq % 2000, seq DIV 2000, "
    "CONCAT('SKU-', seq % 500), 1 + seq % 5 FROM seq_0_to_3999",
]

FLAWED_EXPECTED = {
    ("R101", "order_items", None),
    ("R103", "order_items", None),
    ("R104", "orders", None),
    ("R106", "customers", "id"),
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


def _connect(database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(host="127.0.0.1", port=3306, user="root", database=database,
                           autocommit=True)


def _load(ddl: Path, rows: list[str]) -> Iterator[str]:
    """A scratch database with the tables and rows; its URL; dropped on the way out."""
    name = f"dbarch_review_{secrets.token_hex(4)}"
    with _connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        with _connect(name) as conn, conn.cursor() as cur:
            for statement in ddl.read_text().split(";"):
                body = "\n".join(line for line in statement.splitlines()
                                 if not line.startswith("--"))
                if body.strip():
                    cur.execute(body)
            for statement in rows:
                cur.execute(statement)
        yield f"{MARIADB_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with _connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(scope="module")
def flawed() -> Iterator[str]:
    yield from _load(SCHEMAS / "flawed_mariadb.sql", FLAWED_ROWS)


@pytest.fixture(scope="module")
def clean() -> Iterator[str]:
    yield from _load(SCHEMAS / "clean_mariadb.sql", CLEAN_ROWS)


def test_flawed_schema_gets_every_applicable_finding(flawed: str) -> None:
    report = api.review(flawed)
    assert report.live and report.dialect == "mysql"
    found = {(f.code, f.table, f.column) for f in report.findings}
    assert found >= FLAWED_EXPECTED, FLAWED_EXPECTED - found
    by_code = {f.code: f for f in report.findings}
    assert "1,499,999,999 of 2,147,483,647" in by_code["R106"].message
    assert "MODIFY id BIGINT NOT NULL AUTO_INCREMENT" in (by_code["R106"].fix or "")
    assert "order_items_order_copy_idx" in by_code["R103"].message
    assert "ALTER TABLE order_items DROP INDEX" in (by_code["R103"].fix or "")
    assert "orders_created_idx" in by_code["R104"].message
    assert "DROP FOREIGN KEY order_items_order_fk" in (by_code["R114"].fix or "")
    status = next(f for f in report.findings if f.code == "R115" and f.column == "status")
    assert "('active', 'blocked', 'closed')" in (status.fix or "")
    not_run = {n.code: n.reason for n in report.not_run}
    assert set(not_run) == {"R102", "R105", "R107"}
    assert "InnoDB" in not_run["R102"] and "userstat" in not_run["R105"]
    assert "sample" in report.facts_source or "first" in report.facts_source


def test_flawed_schema_fixes_apply(flawed: str) -> None:
    """The MariaDB fixes run as written, in a copy of the flawed database."""
    fixed = ("R108", "R110", "R114", "R115")
    for url in _load(SCHEMAS / "flawed_mariadb.sql", FLAWED_ROWS):
        report = api.review(url, disable=("all",), enable=fixed)
        assert {f.code for f in report.findings} == set(fixed)
        with _connect(url.rsplit("/", 1)[1]) as conn, conn.cursor() as cur:
            for finding in report.findings:
                for statement in (finding.fix or "").split(";\n"):
                    if statement.strip():
                        cur.execute(statement.rstrip(";"))
        again = api.review(url, disable=("all",), enable=fixed)
        assert again.findings == [], [(f.code, f.where) for f in again.findings]


def test_clean_schema_gets_no_finding(clean: str) -> None:
    report = api.review(clean)
    assert report.findings == [], [(f.code, f.where, f.message) for f in report.findings]
    assert len(report.rules_run) == 12


def test_emitted_spec_from_mariadb(clean: str, tmp_path: Path) -> None:
    from dbarch.spec import load_spec

    path = tmp_path / "spec.yaml"
    api.review(clean, emit_spec=path)
    spec = load_spec(path)
    assert spec.entities["Order"].volume == 2000  # smaller than the sample: counted exactly
    assert spec.entities["Customer"].attributes["status"].values == ["active", "blocked",
                                                                     "closed"]
    designed = {t.name for t in api.plan(spec).relational.tables}
    assert designed == {"customers", "orders", "order_items"}
