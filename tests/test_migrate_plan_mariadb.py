"""`dbarch migrate plan --dialect mysql` proved on a real MariaDB: a rename (expand/contract
with triggers and a batched procedure), a NOT NULL column with a default, a unique index, a
foreign key added unchecked then checked, a VARCHAR widened in place and a dropped column,
applied in order with the old and new application writing in between; then rolled back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pymysql
import pytest

from dbarch.engines.introspect import introspect
from dbarch.lint.config import LintConfig
from dbarch.lint.run import lint_text
from dbarch.migrate.diff import diff_schemas
from dbarch.migrate.mysql import MySqlWriter
from dbarch.migrate.plan import plan_migration
from dbarch.migrate.plan_model import MigrationPlan, PlanOptions
from dbarch.parse import parse_ddl
from tests.conftest import MARIADB_URL

SOURCE = """
CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL,
  email VARCHAR(200), legacy INT) ENGINE=InnoDB;
CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL,
  note VARCHAR(20)) ENGINE=InnoDB;
CREATE INDEX users_name_idx ON users (name);
"""
TARGET = """
CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, full_name VARCHAR(100) NOT NULL,
  email VARCHAR(200), status VARCHAR(10) NOT NULL DEFAULT 'new',
  UNIQUE KEY users_email (email)) ENGINE=InnoDB;
CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL,
  note VARCHAR(40), CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id))
  ENGINE=InnoDB;
CREATE INDEX users_name_idx ON users (full_name);
"""
ROWS = [
    "INSERT INTO users (name, email) SELECT CONCAT('n', seq), CONCAT('e', seq) FROM seq_1_to_2500",
    "INSERT INTO orders (user_id, note) SELECT seq, 'x' FROM seq_1_to_2500",
]
DURING = {
    "expand": ["INSERT INTO users (name, email) VALUES ('old app', 'old@app')"],
    "switch": ["INSERT INTO users (full_name, email) VALUES ('new app', 'new@app')",
               "UPDATE users SET full_name = 'renamed' WHERE id = 2"],
}


@pytest.fixture
def database() -> Iterator[tuple[Any, str]]:
    """A cursor (autocommit) in a fresh database, dropped afterwards."""
    name = f"dbarch_migrate_{secrets.token_hex(4)}"
    url = urlsplit(MARIADB_URL)
    conn = pymysql.connect(host=url.hostname, port=url.port or 3306, user=url.username,
                           autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE {name}")
    cur.execute(f"USE {name}")
    try:
        yield cur, name
    finally:
        cur.execute(f"DROP DATABASE {name}")
        conn.close()


def make_plan() -> MigrationPlan:
    return plan_migration(parse_ddl(SOURCE, "mysql").schema, parse_ddl(TARGET, "mysql").schema,
                          renames=["users.name=full_name"],
                          options=PlanOptions(dialect="mysql", pause=0.0, batch_size=700))


def live_diff(database: str, ddl: str) -> list[str]:
    live = introspect(f"{MARIADB_URL.rsplit('/', 1)[0]}/{database}").schema
    diff = diff_schemas(live, parse_ddl(ddl, "mysql").schema, dialect="mysql")
    return [op.describe() for op in diff.operations] + diff.unplanned


@pytest.mark.engine
def test_mysql_plan_applies_online_and_rolls_back(database: tuple[Any, str]) -> None:
    cur, name = database
    plan = make_plan()
    assert plan.unplanned == []
    for statement in SOURCE.split(";"):
        if statement.strip():
            cur.execute(statement)
    for statement in ROWS:
        cur.execute(statement)
    for phase in plan.phases:
        for sql in phase.statements():
            cur.execute(sql.text)
        for write in DURING.get(phase.name.value, []):
            cur.execute(write)
    checks = {
        "SELECT full_name FROM users WHERE id = 1": "n1",
        "SELECT full_name FROM users WHERE id = 2": "renamed",
        "SELECT full_name FROM users WHERE email = 'old@app'": "old app",
        "SELECT status FROM users WHERE id = 7": "new",
        "SELECT COUNT(*) FROM users": 2502,
    }
    for query, value in checks.items():
        cur.execute(query)
        assert cur.fetchone()[0] == value, query
    assert live_diff(name, TARGET) == []
    for phase in reversed(plan.phases):
        for sql in phase.rollback_statements():
            cur.execute(sql.text)
    cur.execute("SELECT name FROM users WHERE email = 'new@app'")
    assert cur.fetchone()[0] == "new app"  # written as full_name, copied back by the rollback
    assert live_diff(name, SOURCE) == []


def test_mysql_alters_name_their_algorithm_and_lint_clean() -> None:
    """Every ALTER says ALGORITHM= (the server refuses instead of copying), and each plain
    statement passes `dbarch lint --dialect mysql`. (Trigger and procedure bodies are left
    out: the lint reads one statement per `;`, while the files wrap them in DELIMITER.)"""
    plan = make_plan()
    statements = [s for phase in plan.phases for s in
                  [*phase.statements(), *phase.rollback_statements()]]
    alters = [s.text for s in statements if s.text.startswith(("ALTER", "CREATE INDEX"))]
    assert alters and all("ALGORITHM=" in text for text in alters)
    assert not any("ALGORITHM=COPY" in text for text in alters if "MODIFY note VARCHAR(20)"
                   not in text)
    preamble = "".join(s.render("mysql") for s in MySqlWriter().preamble())
    for phase in plan.phases:
        for part in (phase.statements(), phase.rollback_statements()):
            text = preamble + "".join(s.render("mysql") for s in part if not s.compound)
            report = lint_text(text, LintConfig(dialect="mysql"))
            assert report.problems == []
            assert [f"{f.code} {f.line}: {f.message}" for f in report.active] == [], text
