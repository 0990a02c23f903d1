"""Pure parts of the engine layer: statement splitting, URL redaction, plan parsing."""

from __future__ import annotations

import pytest

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.conftest import MARIADB_URL, POSTGRESQL_URL
except ImportError:
    from conftest import MARIADB_URL, POSTGRESQL_URL  # type: ignore[no-redef]

from dbarch.engines.base import redact, split_statements
from dbarch.engines.discover import answering, default_urls
from dbarch.engines.mariadb import parse_plan as parse_mariadb
from dbarch.engines.postgresql import parse_plan as parse_postgresql


@pytest.mark.parametrize(
    ("script", "statements"),
    [
        ("CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n",
         ["CREATE TABLE a (x int)", "CREATE TABLE b (y int)"]),
        ("CREATE TABLE a (x text DEFAULT 'a;b');", ["CREATE TABLE a (x text DEFAULT 'a;b')"]),
        ("CREATE TABLE a (x text DEFAULT 'it''s;');", ["CREATE TABLE a (x text DEFAULT 'it''s;')"]),
        ("-- why; because\nCREATE TABLE a (x int);", ["-- why; because\nCREATE TABLE a (x int)"]),
        ("/* a; b */ SELECT 1;", ["/* a; b */ SELECT 1"]),
        ("-- only a comment\n;\n  ;", []),
        ("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;",
         ["CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql"]),
        ("CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql; SELECT 2",
         ["CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql", "SELECT 2"]),
        ("CREATE TRIGGER t AFTER INSERT ON p BEGIN INSERT INTO f VALUES (1); END;\nSELECT 1;",
         ["CREATE TRIGGER t AFTER INSERT ON p BEGIN INSERT INTO f VALUES (1); END", "SELECT 1"]),
        ('CREATE TABLE "a;b" (x int); SELECT 1', ['CREATE TABLE "a;b" (x int)', "SELECT 1"]),
        ("CREATE TABLE `a;b` (x int); SELECT 1", ["CREATE TABLE `a;b` (x int)", "SELECT 1"]),
    ],
)
def test_split_statements(script: str, statements: list[str]) -> None:
    assert split_statements(script) == statements


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("postgresql://app:hunter2@db:5432/prod", "postgresql://app:***@db:5432/prod"),
        ("mysql://root@127.0.0.1:3306/test", "mysql://root@127.0.0.1:3306/test"),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
    ],
)
def test_redact(url: str, safe: str) -> None:
    assert redact(url) == safe


def test_parse_postgresql_bitmap_plan() -> None:
    document = [{"Plan": {
        "Node Type": "Limit", "Total Cost": 36.3, "Plan Rows": 10,
        "Plans": [{
            "Node Type": "Sort", "Total Cost": 36.2, "Plan Rows": 10,
            "Plans": [{
                "Node Type": "Bitmap Heap Scan", "Relation Name": "orders",
                "Total Cost": 36.0, "Plan Rows": 10,
                "Plans": [{"Node Type": "Bitmap Index Scan",
                           "Index Name": "orders_user_id_created_at_idx",
                           "Total Cost": 4.3, "Plan Rows": 10}],
            }],
        }],
    }}]
    plan = parse_postgresql(document)
    assert plan.indexes == ["orders_user_id_created_at_idx"]
    assert plan.full_scans == []
    assert plan.cost == 36.3
    assert plan.rows == 10
    assert plan.sorts
    assert plan.access_path == (
        "Limit → Sort → Bitmap Heap Scan on orders → "
        "Bitmap Index Scan using orders_user_id_created_at_idx"
    )


def test_parse_postgresql_backward_and_seq_scan() -> None:
    backward = parse_postgresql([{"Plan": {
        "Node Type": "Index Scan", "Scan Direction": "Backward", "Index Name": "i",
        "Relation Name": "t", "Total Cost": 8.3, "Plan Rows": 1}}])
    assert backward.access_path == "Index Scan Backward using i on t"
    seq = parse_postgresql([{"Plan": {
        "Node Type": "Seq Scan", "Relation Name": "t", "Total Cost": 378.0, "Plan Rows": 1}}])
    assert (seq.full_scans, seq.indexes, seq.access_path) == (["t"], [], "Seq Scan on t")


def test_parse_mariadb_plans() -> None:
    ref = parse_mariadb({"query_block": {"select_id": 1, "table": {
        "table_name": "orders", "access_type": "ref", "possible_keys": ["i"], "key": "i",
        "key_length": "8", "used_key_parts": ["user_id"], "ref": ["const"], "rows": 3,
        "filtered": 100}}})
    assert (ref.indexes, ref.full_scans, ref.rows, ref.sorts) == (["i"], [], 3, False)
    assert ref.access_path == "ref on orders using i (rows 3)"
    full = parse_mariadb({"query_block": {"select_id": 1, "filesort": {"sort_key": "x",
        "table": {"table_name": "orders", "access_type": "ALL", "rows": 19982,
                  "filtered": 100, "attached_condition": "orders.status = 'x'"}}}})
    assert (full.indexes, full.full_scans, full.sorts) == ([], ["orders"], True)
    assert full.access_path == "ALL on orders (rows 19982); filesort"


def test_discover_local_servers() -> None:
    """Both local servers run on this machine; an unused port does not answer."""
    assert answering() == [POSTGRESQL_URL, MARIADB_URL]
    assert answering(["postgresql://postgres@127.0.0.1:1/test"], timeout=1) == []
    assert default_urls() == ["sqlite://", POSTGRESQL_URL, MARIADB_URL,
                              "redis://127.0.0.1:6379/0"]
