"""`dbarch indexes` end to end on the real PostgreSQL with HypoPG: for queries whose best
index is known (single column, equality then range, covering, partial, expression) the advisor
finds it; it recommends nothing for a query an existing index serves; it reports duplicate and
redundant existing indexes; `--validate` builds the advice for real and confirms the gain."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from dbarch import api
from dbarch.advisor.candidate import IndexCandidate
from dbarch.cli import main
from tests.conftest import POSTGRESQL_URL, scratch_schema

pytestmark = pytest.mark.engine

ROWS = 100_000


def _url(schema: str) -> str:
    return f"{POSTGRESQL_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    """`accounts`: 100k rows, 1000 tenants, 1% pending, vacuumed and analyzed; PK only."""
    with scratch_schema("dbarch_advise") as (name, conn):
        conn.execute(f"""CREATE TABLE {name}.accounts (
            id bigint PRIMARY KEY, email text NOT NULL, tenant int NOT NULL,
            created_at timestamptz NOT NULL, status text NOT NULL, score int NOT NULL,
            note text)""")
        conn.execute(f"""INSERT INTO {name}.accounts
            SELECT g, 'User' || g || '@Example.com', g % 1000,
                   timestamptz '2026-01-01' + g * interval '5 minutes',
                   CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'active' END,
                   g % 97, repeat('x', 80)
            FROM generate_series(1, {ROWS}) g""")
        _vacuum_until_all_visible(conn, f"{name}.accounts")
        yield name


def _vacuum_until_all_visible(conn: psycopg.Connection, table: str) -> None:
    """VACUUM ANALYZE until the visibility map covers the table, so the planner may choose an
    index-only scan: a transaction open elsewhere on the server (another test, autovacuum)
    holds the horizon back and leaves pages not all-visible, so wait it out, up to 30 s."""
    for _ in range(60):
        conn.execute(f"VACUUM ANALYZE {table}")
        pages, visible = conn.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass",
            (table,)).fetchone()  # type: ignore[misc]
        if visible >= pages:
            return
        time.sleep(0.5)
    raise AssertionError(f"{table}: VACUUM could not mark it all-visible ({visible}/{pages})")


def _advise(tmp_path: Path, schema: str, sql: str, **kwargs: object) -> api.IndexAdvice:
    workload = tmp_path / "workload.sql"
    workload.write_text(f"-- name: q\n{sql};\n")
    return api.indexes(_url(schema), workload=workload, **kwargs)  # type: ignore[arg-type]


def _only(result: api.IndexAdvice) -> IndexCandidate:
    chosen = [r.candidate for r in result.advice.recommendations]
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_single_column_equality(tmp_path: Path, schema: str) -> None:
    found = _only(_advise(tmp_path, schema, "SELECT * FROM accounts WHERE tenant = 17"))
    assert found.keys == ("tenant",) and found.where is None


def test_equality_then_range(tmp_path: Path, schema: str) -> None:
    found = _only(_advise(tmp_path, schema, "SELECT * FROM accounts WHERE tenant = 17 AND "
                          "created_at >= '2026-02-01' AND created_at < '2026-02-03'"))
    assert found.keys == ("tenant", "created_at")


def test_covering_for_an_index_only_scan(tmp_path: Path, schema: str) -> None:
    found = _only(_advise(tmp_path, schema, "SELECT score FROM accounts WHERE tenant = 17"))
    assert found.keys[0] == "tenant"
    assert "score" in found.include or "score" in found.keys


def test_partial_on_a_constant_predicate(tmp_path: Path, schema: str) -> None:
    found = _only(_advise(tmp_path, schema, "SELECT * FROM accounts WHERE status = 'pending' "
                          "AND created_at > '2026-03-01'"))
    assert found.where is not None and "pending" in found.where
    assert found.keys == ("created_at",)


def test_expression_index(tmp_path: Path, schema: str) -> None:
    found = _only(_advise(tmp_path, schema,
                          "SELECT id FROM accounts WHERE lower(email) = 'user5@example.com'"))
    assert found.keys == ("(lower(email))",)


def test_nothing_for_a_query_the_primary_key_serves(tmp_path: Path, schema: str) -> None:
    result = _advise(tmp_path, schema, "SELECT * FROM accounts WHERE id = 42")
    assert result.advice.recommendations == []


def test_nothing_for_a_query_an_existing_index_serves(tmp_path: Path) -> None:
    with scratch_schema("dbarch_advise") as (name, conn):
        conn.execute(f"CREATE TABLE {name}.t (id int PRIMARY KEY, k int, v text)")
        conn.execute(f"INSERT INTO {name}.t SELECT g, g % 5000, 'v' FROM "
                     "generate_series(1, 50000) g")
        conn.execute(f"CREATE INDEX t_k ON {name}.t (k)")
        conn.execute(f"ANALYZE {name}.t")
        result = _advise(tmp_path, name, "SELECT * FROM t WHERE k = 3")
        assert result.advice.recommendations == []


def test_duplicate_and_redundant_existing_indexes(tmp_path: Path) -> None:
    with scratch_schema("dbarch_advise") as (name, conn):
        conn.execute(f"CREATE TABLE {name}.t (id int PRIMARY KEY, a int, b int)")
        conn.execute(f"INSERT INTO {name}.t SELECT g, g % 100, g FROM "
                     "generate_series(1, 10000) g")
        conn.execute(f"CREATE INDEX t_a_b ON {name}.t (a, b)")
        conn.execute(f"CREATE INDEX t_a_b_again ON {name}.t (a, b)")
        conn.execute(f"CREATE INDEX t_a ON {name}.t (a)")
        conn.execute(f"ANALYZE {name}.t")
        result = _advise(tmp_path, name, "SELECT * FROM t WHERE a = 3 AND b = 7")
        reasons = {d.index.name.split(".")[-1]: d.reason for d in result.advice.drops}
        assert reasons.get("t_a_b_again") == "duplicate"
        assert reasons.get("t_a") == "redundant"
        assert "t_a_b" not in reasons  # one of the pair stays


def test_budget_and_count_limits_are_kept(tmp_path: Path, schema: str) -> None:
    workload = tmp_path / "w.sql"
    workload.write_text("-- weight: 10\nSELECT * FROM accounts WHERE tenant = 17;\n"
                        "-- weight: 5\nSELECT id FROM accounts WHERE lower(email) = 'x';\n"
                        "SELECT * FROM accounts WHERE status = 'pending' AND "
                        "created_at > '2026-03-01';\n")
    free = api.indexes(_url(schema), workload=workload)
    assert len(free.advice.recommendations) == 3
    one = api.indexes(_url(schema), workload=workload, max_indexes=1)
    assert len(one.advice.recommendations) == 1
    smallest = min(r.size_bytes for r in free.advice.recommendations)
    tight = api.indexes(_url(schema), workload=workload, budget=smallest)
    assert tight.advice.size_bytes <= smallest
    assert free.advice.relative_cost < one.advice.relative_cost <= 1.0


def test_validate_builds_measures_and_drops(tmp_path: Path, schema: str) -> None:
    result = _advise(tmp_path, schema, "SELECT * FROM accounts WHERE tenant = 17",
                     validate=True)
    validation = result.validation
    assert validation is not None and len(validation.built) == 1
    before, after = validation.costs["q"]
    assert after < before / 10
    assert validation.unused == []
    with psycopg.connect(POSTGRESQL_URL) as conn:
        left = conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND "
                            "indexname = %s", (schema, validation.built[0])).fetchone()
    assert left == (0,)


def test_cli_json_and_exit_codes(tmp_path: Path, schema: str) -> None:
    workload = tmp_path / "w.sql"
    workload.write_text("SELECT * FROM accounts WHERE tenant = 17;\n")
    run = CliRunner().invoke(main, ["indexes", "--db", _url(schema), "--workload",
                                    str(workload), "--format", "json"])
    assert run.exit_code == 1, run.output
    data = json.loads(run.output)
    statement = data["recommendations"][0]["statement"]
    assert statement.startswith("CREATE INDEX CONCURRENTLY")
    assert data["workload"]["relative_cost"] < 0.1 and data["whatif_calls"] > 0
    served = tmp_path / "served.sql"
    served.write_text("SELECT * FROM accounts WHERE id = 1;\n")
    clean = CliRunner().invoke(main, ["indexes", "--db", _url(schema), "--workload",
                                      str(served)])
    assert clean.exit_code == 0, clean.output
    bad = CliRunner().invoke(main, ["indexes", "--db", _url(schema)])
    assert bad.exit_code == 2 and "no workload given" in bad.output


def test_workload_from_pg_stat_statements(schema: str) -> None:
    with psycopg.connect(_url(schema), autocommit=True) as conn:
        (where,) = conn.execute(  # type: ignore[misc]
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_stat_statements'").fetchone()
        # this database's statements only: other tests read the statistics of theirs
        conn.execute(f"SELECT {where}.pg_stat_statements_reset(0, "
                     "(SELECT oid FROM pg_database WHERE datname = current_database()), 0)")
        for tenant in (3, 5, 8, 13, 21):
            conn.execute("SELECT * FROM accounts WHERE tenant = %s", (tenant,))
    result = api.indexes(_url(schema), from_stats=True)
    served = {q.label: r.candidate.keys for r in result.advice.recommendations
              for q in r.queries}
    assert ("tenant",) in served.values()
    (query,) = [q for r in result.advice.recommendations for q in r.queries
                if r.candidate.keys == ("tenant",)]
    assert query.weight == 5 and "$1" in query.sql  # one shape, five calls, planned generically


def test_workload_from_a_duration_log(tmp_path: Path, schema: str) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text(
        "2026-11-26 01:00:00.123 UTC [4242] LOG:  duration: 41.2 ms  statement: "
        "SELECT * FROM accounts\n\tWHERE tenant = 17\n"
        "2026-11-26 01:00:01.456 UTC [4242] LOG:  duration: 39.8 ms  execute <unnamed>: "
        "SELECT * FROM accounts WHERE tenant = $1\n"
        "2026-11-26 01:00:01.456 UTC [4242] DETAIL:  parameters: $1 = '99'\n")
    result = api.indexes(_url(schema), log=log)
    (rec,) = result.advice.recommendations
    assert rec.candidate.keys == ("tenant",)
    assert rec.queries[0].weight == 2  # the two forms are one shape


def test_an_unparsable_query_is_located_and_skipped(tmp_path: Path, schema: str) -> None:
    workload = tmp_path / "w.sql"
    workload.write_text("SELECT * FROM accounts WHERE tenant = 17;\n"
                        "SELEC id FROM accounts;\n"
                        "SELECT id FROM accounts WHERE lower(email) = 'x';\n")
    run = CliRunner().invoke(main, ["indexes", "--db", _url(schema), "--workload",
                                    str(workload)])
    assert run.exit_code == 1, run.output  # the other two are advised
    assert f"{workload}:2:1" in run.output and "syntax error" in run.output
    assert "(tenant)" in run.output and "lower(email)" in run.output


def test_a_database_without_hypopg_gets_the_way_to_install_it(tmp_path: Path) -> None:
    name = f"dbarch_nohypo_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = POSTGRESQL_URL.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, k int)")
        workload = tmp_path / "w.sql"
        workload.write_text("SELECT * FROM t WHERE k = 1;\n")
        run = CliRunner().invoke(main, ["indexes", "--db", url, "--workload", str(workload)])
        assert run.exit_code == 2
        assert "postgresql-15-hypopg" in run.output and "CREATE EXTENSION hypopg" in run.output
        assert "Traceback" not in run.output
    finally:
        with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
