"""dbarch review through the command line: DDL files, a live SQLite file, JSON output, rule
choice, the rule pages, and the exit codes (0 clean, 1 findings, 2 bad input)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from dbarch.cli import main

SCHEMAS = Path(__file__).parent / "fixtures" / "review" / "schemas"
DDL_RULES = {"R101", "R102", "R103", "R104", "R107", "R108", "R109", "R111", "R113", "R114"}
LIVE_RULES = {"R105", "R106", "R110", "R112", "R115"}


def _review(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["review", *args])
    return result.exit_code, result.output


def test_flawed_ddl_file_gets_the_ddl_findings_and_lists_the_live_rules() -> None:
    code, out = _review(str(SCHEMAS / "flawed_postgresql.sql"), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["live"] is False and data["dialect"] == "postgresql" and data["tables"] == 4
    assert {f["code"] for f in data["findings"]} == DDL_RULES
    assert {n["code"] for n in data["not_run"]} == LIVE_RULES
    assert all("live database" in n["reason"] for n in data["not_run"])
    for finding in data["findings"]:
        assert finding["message"] and finding["why"] and finding["severity"]
    assert data["summary"]["error"] == 1  # R101 on order_items


def test_mariadb_ddl_file_with_dialect() -> None:
    code, out = _review(str(SCHEMAS / "flawed_mariadb.sql"), "--dialect", "mariadb",
                        "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["dialect"] == "mysql"
    assert {f["code"] for f in data["findings"]} == DDL_RULES - {"R102", "R107"}


def test_clean_ddl_files_exit_0() -> None:
    for name, dialect in (("clean_postgresql.sql", "postgresql"), ("clean_mariadb.sql", "mysql")):
        code, out = _review(str(SCHEMAS / name), "--dialect", dialect)
        assert code == 0, out
        assert out.rstrip().endswith("no findings")
        assert "not run:" in out and "R115 enum-like-without-check" in out


def test_text_output_shows_why_and_fix() -> None:
    code, out = _review(str(SCHEMAS / "flawed_postgresql.sql"))
    assert code == 1
    assert "R102 fk-without-index [warning] orders.customer_id" in out
    assert "why: every DELETE on customers" in out
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);" in out


def test_enable_and_disable() -> None:
    code, out = _review(str(SCHEMAS / "flawed_postgresql.sql"), "--disable", "all",
                        "--enable", "R101,fk-without-index", "--format", "json")
    assert code == 1
    assert {f["code"] for f in json.loads(out)["findings"]} == {"R101", "R102"}
    code, out = _review(str(SCHEMAS / "flawed_postgresql.sql"), "--disable", "all",
                        "--enable", "R107", "--disable", "R107")
    assert code == 1  # a rule both enabled and disabled runs: enable wins
    code, out = _review(str(SCHEMAS / "flawed_postgresql.sql"), "--disable", "R999")
    assert code == 2 and "no review rule 'R999'" in out


def test_bad_input_exits_2() -> None:
    code, out = _review("no/such/schema.sql")
    assert code == 2 and "no such DDL file" in out
    code, out = _review()
    assert code == 2 and "no URL or DDL file given" in out
    code, out = _review("sqlite://")
    assert code == 2 and "in-memory" in out


def test_list_rules_and_explain() -> None:
    code, out = _review("--list-rules")
    assert code == 0
    assert "R101  missing-primary-key" in out and "15 rules" in out
    assert "dbarch review --explain CODE" in out
    code, out = _review("--explain", "missing-on-delete")
    assert code == 0 and out.startswith("R114 missing-on-delete") and "Why:" in out
    code, out = _review("--list-rules", "--format", "json")
    assert [r["code"] for r in json.loads(out)][:2] == ["R101", "R102"]
    code, out = _review("--explain", "R999")
    assert code == 2


def test_live_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
                status TEXT, balance REAL, created_at TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL
                REFERENCES customers (id), created_at TIMESTAMP NOT NULL);
            CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders (id),
                sku TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
            CREATE INDEX order_items_order_idx ON order_items (order_id);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
            INSERT INTO customers (name, status, balance)
            SELECT 'c' || i, CASE i % 2 WHEN 0 THEN 'active' ELSE 'closed' END, i * 1.5 FROM n;
            UPDATE sqlite_sequence SET seq = 8000000000000000000 WHERE name = 'customers';
        """)
    code, out = _review(f"sqlite:///{path}", "--format", "json")
    assert code == 1, out
    data = json.loads(out)
    assert data["live"] is True and data["dialect"] == "sqlite"
    found = {(f["code"], f["table"], f["column"]) for f in data["findings"]}
    assert {
        ("R101", "order_items", None),   # no key
        ("R102", "orders", "customer_id"),  # no index on the foreign key
        ("R106", "customers", "id"),     # AUTOINCREMENT at 87% of 2^63
        ("R108", "customers", "balance"),  # money in REAL
        ("R110", "customers", "status"),  # never NULL in the sample
        ("R113", "customers", None),     # created_at is TEXT, not a time
        ("R114", "order_items", "order_id"),
        ("R115", "customers", "status"),  # two values, no CHECK
    } <= found, found
    assert {n["code"] for n in data["not_run"]} == {"R105", "R107"}


def test_emit_spec_from_a_ddl_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "spec.yaml"
    code, out = _review(str(SCHEMAS / "clean_mariadb.sql"), "--dialect", "mysql",
                        "--emit-spec", str(path))
    assert code == 0, out
    assert f"spec written: {path}" in out
    code, out = CliRunner().invoke(main, ["spec", "check", str(path)]).exit_code, ""
    assert code == 0
    text = path.read_text()
    assert text.startswith("# Reverse-engineered by dbarch review")
    assert "volume" not in text  # a DDL file has no row counts


def test_fail_on_decides_the_exit_code(tmp_path: Path) -> None:
    # no created_at (R113) is an info finding: by default it is reported but does not fail
    ddl = tmp_path / "info_only.sql"
    ddl.write_text("CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL);\n")
    code, out = _review(str(ddl), "--format", "json")
    findings = json.loads(out)["findings"]
    assert findings and {f["severity"] for f in findings} == {"info"}
    assert code == 0
    assert _review(str(ddl), "--fail-on", "info")[0] == 1
    assert _review(str(SCHEMAS / "flawed_postgresql.sql"), "--fail-on", "error")[0] == 1


def test_docs_page_is_the_generated_one() -> None:
    """docs/review-rules.md is generated: regenerate it with the command in its header."""
    result = CliRunner().invoke(main, ["review", "--list-rules", "--format", "markdown"])
    assert result.exit_code == 0
    committed = (Path(__file__).parent.parent / "docs" / "review-rules.md").read_text()
    assert committed == result.output, (
        "docs/review-rules.md is stale: dbarch review --list-rules --format markdown > "
        "docs/review-rules.md")
    assert result.output.count("\n## R1") == 15


def test_markdown_is_only_for_the_rule_pages(tmp_path: Path) -> None:
    ddl = tmp_path / "t.sql"
    ddl.write_text("CREATE TABLE t (id bigint PRIMARY KEY);\n")
    code, out = _review(str(ddl), "--format", "markdown")
    assert code == 2 and "markdown is for --list-rules and --explain" in out
