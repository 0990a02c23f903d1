"""Existing indexes judged: the pure rules as a table of facts, then a live schema read from the
real PostgreSQL (dbarch.engines.index_catalog) and judged, and pg_stat_statements read back."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dbarch.advisor.existing import ExistingIndex, judge
from dbarch.engines.index_catalog import fetch_indexes, fetch_statements
from dbarch.errors import EngineError
from tests.conftest import POSTGRESQL_URL, scratch_schema


def _ix(name: str, *keys: str, scans: int | None = 5, table: str = "public.t",
        **kwargs: Any) -> ExistingIndex:
    return ExistingIndex(name=f"public.{name}", table=table, keys=keys, idx_scan=scans,
                         size_bytes=1000, **kwargs)


def _verdicts(*indexes: ExistingIndex) -> dict[str, tuple[str, str | None]]:
    return {d.index.name.split(".")[1]: (d.reason, d.other.name.split(".")[1] if d.other else None)
            for d in judge(indexes)}


# (what, indexes, expected {index: (reason, other)})
CASES = [
    ("same keys twice: the newer goes",
     [_ix("a1", "a", oid=1), _ix("a2", "a", oid=2)], {"a2": ("duplicate", "a1")}),
    ("a duplicate backing a constraint is the one kept",
     [_ix("a1", "a", oid=1), _ix("a_key", "a", oid=2, unique=True, constraint="a_key")],
     {"a1": ("duplicate", "a_key")}),
    ("different predicate, include, method or table: no duplicate (the INCLUDE one covers)",
     [_ix("a1", "a"), _ix("a2", "a", predicate="b > 0"), _ix("a3", "a", include=("z",)),
      _ix("a4", "a", method="hash"), _ix("a5", "a", table="public.u")],
     {"a1": ("redundant", "a3")}),
    ("a left prefix is redundant",
     [_ix("a", "a"), _ix("ab", "a", "b")], {"a": ("redundant", "ab")}),
    ("a unique prefix stays: the longer index does not enforce it",
     [_ix("a", "a", unique=True), _ix("ab", "a", "b")], {}),
    ("not a prefix: (b) against (a, b)",
     [_ix("b", "b"), _ix("ab", "a", "b")], {}),
    ("a prefix under another predicate is not covered",
     [_ix("a", "a", predicate="x"), _ix("ab", "a", "b")], {}),
    ("the same keys with fewer INCLUDE columns are covered",
     [_ix("a", "a", include=("c",)), _ix("a_cd", "a", include=("c", "d"))],
     {"a": ("redundant", "a_cd")}),
    ("an INCLUDE column the longer index lacks keeps the prefix",
     [_ix("a", "a", include=("z",)), _ix("ab", "a", "b")], {}),
    ("DESC differs: not a prefix",
     [_ix("a", "a DESC"), _ix("ab", "a", "b")], {}),
    ("unused: no scan, enforces nothing",
     [_ix("idle", "a", scans=0), _ix("pk", "id", scans=0, unique=True, primary=True,
                                     constraint="pk"),
      _ix("uq", "b", scans=0, unique=True), _ix("unknown", "c", scans=None)],
     {"idle": ("unused", None)}),
    ("a used prefix does not give way to an unused longer index: that one goes",
     [_ix("a", "a", scans=9), _ix("ab", "a", "b", scans=0)], {"ab": ("unused", None)}),
    ("both unused: the prefix is redundant, the longer unused",
     [_ix("a", "a", scans=0), _ix("ab", "a", "b", scans=0)],
     {"a": ("redundant", "ab"), "ab": ("unused", None)}),
    ("the kept duplicate inherits the scans of the dropped one",
     [_ix("a1", "a", oid=1, scans=0), _ix("a2", "a", oid=2, scans=7)],
     {"a2": ("duplicate", "a1")}),
]


@pytest.mark.parametrize(("indexes", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_judge(indexes: list[ExistingIndex], expected: dict[str, tuple[str, str | None]]) -> None:
    assert _verdicts(*indexes) == expected


def test_drop_statements() -> None:
    plain, = judge([_ix("a1", "a", oid=1), _ix("A 2", "a", oid=2)])
    assert plain.statement == 'DROP INDEX CONCURRENTLY public."A 2"'
    assert plain.frees_bytes == 1000
    pk = _ix("t_pkey", "id", oid=1, unique=True, primary=True, constraint="t_pkey")
    also = _ix("t_id_key", "id", oid=2, unique=True, constraint="t_id_key")
    drop, = judge([also, pk])
    assert (drop.index, drop.other) == (also, pk)
    assert drop.statement == "ALTER TABLE public.t DROP CONSTRAINT t_id_key"
    parent, = judge([_ix("p", "a", scans=0, partitioned=True)])
    assert parent.statement == "DROP INDEX public.p"
    assert parent.as_dict()["reason"] == "unused"


# --- on the real server ----------------------------------------------------------------------

@pytest.fixture
def schema() -> Iterator[str]:
    """A scratch schema whose indexes hold one of each case; `d_used` has been scanned."""
    with scratch_schema("dbarch_existing") as (name, conn):
        conn.execute(f"CREATE TABLE {name}.t (id int PRIMARY KEY, a int, b int, c int, "
                     "d int, e int, email text)")
        conn.execute(f"INSERT INTO {name}.t SELECT g, g, g, g, g, g, 'u' || g "
                     "FROM generate_series(1, 2000) g")
        for ddl in (
            "CREATE INDEX c_first ON {s}.t (c)",
            "CREATE INDEX c_again ON {s}.t (c)",  # duplicate of c_first
            "CREATE INDEX a_only ON {s}.t (a)",  # redundant: leads a_b
            "CREATE INDEX a_b ON {s}.t (a, b)",
            "CREATE INDEX a_partial ON {s}.t (a) WHERE b > 0",  # another predicate
            "CREATE UNIQUE INDEX email_unique ON {s}.t (email)",  # a prefix, but unique
            "CREATE INDEX email_b ON {s}.t (email, b)",
            "CREATE INDEX d_used ON {s}.t (d)",
            "CREATE INDEX lower_email ON {s}.t (lower(email) text_pattern_ops) "
            "INCLUDE (e)",
            # In one CREATE TABLE the server would merge the two into one index.
            "CREATE TABLE {s}.u (id int PRIMARY KEY)",
            "ALTER TABLE {s}.u ADD CONSTRAINT u_id_key UNIQUE (id)",
        ):
            conn.execute(ddl.format(s=name))
        conn.execute(f"ANALYZE {name}.t")
        yield name


pg = pytest.mark.engine


@pg
def test_a_live_schema_is_read_and_judged(schema: str) -> None:
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        assert conn.execute(f"SELECT e FROM {schema}.t WHERE d = 5").fetchall() == [(5,)]
        # A backend sends its counts to shared memory when it goes idle, at most once a
        # second unless forced: force it, so the read below sees this scan.
        conn.execute("SELECT pg_stat_force_next_flush()")
    indexes = [i for i in fetch_indexes(POSTGRESQL_URL) if i.table.startswith(f"{schema}.")]
    by_name = {i.name.split(".")[1]: i for i in indexes}
    assert by_name["t_pkey"].primary and by_name["t_pkey"].constraint == "t_pkey"
    assert by_name["email_unique"].unique and by_name["email_unique"].constraint is None
    assert by_name["a_partial"].predicate == "b > 0"
    assert by_name["lower_email"].keys == ("(lower(email)) text_pattern_ops",)
    assert by_name["lower_email"].include == ("e",)
    assert by_name["a_b"].keys == ("a", "b")
    assert by_name["d_used"].idx_scan == 1
    with psycopg.connect(POSTGRESQL_URL) as conn:
        size = conn.execute(f"SELECT pg_relation_size('{schema}.c_again')").fetchone()[0]
    assert by_name["c_again"].size_bytes == size > 0

    verdicts = {d.index.name.split(".")[1]: d for d in judge(indexes)}
    assert verdicts["c_again"].reason == "duplicate"
    assert verdicts["c_again"].other == by_name["c_first"]
    assert verdicts["c_again"].frees_bytes == size
    assert verdicts["c_again"].statement == f"DROP INDEX CONCURRENTLY {schema}.c_again"
    assert verdicts["a_only"].reason == "redundant"
    assert verdicts["a_only"].other == by_name["a_b"]
    assert verdicts["u_id_key"].reason == "duplicate"
    assert verdicts["u_id_key"].statement == f"ALTER TABLE {schema}.u DROP CONSTRAINT u_id_key"
    assert verdicts["lower_email"].reason == "unused"
    assert verdicts["a_partial"].reason == "unused"  # not redundant: another predicate
    for kept in ("t_pkey", "u_pkey", "email_unique", "d_used"):
        assert kept not in verdicts


@pg
def test_the_drop_statements_run(schema: str) -> None:
    indexes = [i for i in fetch_indexes(POSTGRESQL_URL) if i.table.startswith(f"{schema}.")]
    drops = judge(indexes)
    assert len(drops) >= 4
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        for drop in drops:
            conn.execute(drop.statement)
    left = {i.name for i in fetch_indexes(POSTGRESQL_URL) if i.table.startswith(f"{schema}.")}
    assert left == {i.name for i in indexes} - {d.index.name for d in drops}


@pg
def test_statements_come_from_pg_stat_statements(schema: str) -> None:
    with psycopg.connect(POSTGRESQL_URL) as conn:
        for value in range(4):
            conn.execute(f"SELECT count(*) FROM {schema}.t WHERE b = %s", (value,))
    rows = fetch_statements(POSTGRESQL_URL, limit=5000)
    mine = [r for r in rows if f"{schema}.t" in r.query and "WHERE b = $1" in r.query]
    assert len(mine) == 1 and mine[0].calls == 4 and mine[0].mean_ms > 0
    times = [r.total_exec_time for r in rows]
    assert times == sorted(times, reverse=True)
    assert len(fetch_statements(POSTGRESQL_URL, limit=1)) == 1


@pg
def test_a_database_without_pg_stat_statements_says_what_to_do() -> None:
    name = f"dbarch_nostats_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        url = POSTGRESQL_URL.rsplit("/", 1)[0] + f"/{name}"
        with pytest.raises(EngineError, match=r"CREATE EXTENSION pg_stat_statements.*"
                                              r"shared_preload_libraries"):
            fetch_statements(url)
    finally:
        with psycopg.connect(POSTGRESQL_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_a_large_catalog_is_judged_table_by_table() -> None:
    # 12,000 indexes over 2,000 tables: compared within their tables (a pairwise comparison
    # over the whole catalog took minutes). Correctness at scale, not time, is asserted.
    indexes = [ExistingIndex(name=f"s.i{t}_{k}", table=f"s.t{t}",
                             keys=tuple(f"c{j}" for j in range(k % 3 + 1)), idx_scan=5,
                             oid=t * 10 + k)
               for t in range(2000) for k in range(6)]
    drops = judge(indexes)
    by_reason: dict[str, int] = {}
    for drop in drops:
        by_reason[drop.reason] = by_reason.get(drop.reason, 0) + 1
        assert drop.other is not None and drop.other.table == drop.index.table
    # per table: keys (c0), (c0,c1), (c0,c1,c2) twice each → 3 duplicates, and (c0), (c0,c1)
    # led by the longest → 2 redundant
    assert by_reason == {"duplicate": 6000, "redundant": 4000}
