"""Rendered DDL executes on the real engines: SQLite (stdlib), PostgreSQL 15, MariaDB 10.11.

Each PostgreSQL test runs in a fresh schema and each MariaDB test in a fresh database, both
dropped afterwards. Statements are executed one by one as `ddl_statements` gives them, and the
whole `render_ddl` script is also executed after splitting it at `;` + newline, which is the
contract other modules rely on.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from ruamel.yaml import YAML

from dbarch.design.relational import design_relational
from dbarch.render.ddl import ddl_statements, render_ddl, renderer_for
from dbarch.schema.model import (
    Check,
    Column,
    ColumnType,
    Default,
    DefaultKind,
    ForeignKey,
    Index,
    IndexColumn,
    IndexMethod,
    OnDelete,
    Partitioning,
    PartitionKind,
    Schema,
    Table,
    TableRole,
    TypeKind,
    Unique,
)
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec

PG_URL = "postgresql://postgres@127.0.0.1/test"
AS_OF = date(2026, 11, 25)


def split_script(script: str) -> list[str]:
    """The script cut at `;` + newline, as a consumer of render_ddl would."""
    return [s for s in (p.strip() for p in script.split(";\n")) if s and not all(
        line.startswith("--") for line in s.splitlines())]


@contextmanager
def sqlite_db() -> Iterator[sqlite3.Connection]:
    """A fresh in-memory SQLite database with foreign keys enforced."""
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def pg_db() -> Iterator[psycopg.Connection[Any]]:
    """A connection whose search_path is a fresh schema, dropped afterwards."""
    name = f"dbarch_t_{uuid.uuid4().hex[:12]}"
    conn = psycopg.connect(PG_URL, autocommit=True)
    try:
        conn.execute(f"CREATE SCHEMA {name}")
        conn.execute(f"SET search_path TO {name}")
        yield conn
    finally:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.close()


@contextmanager
def maria_db() -> Iterator[pymysql.connections.Connection]:
    """A connection to a fresh MariaDB database, dropped afterwards."""
    name = f"dbarch_t_{uuid.uuid4().hex[:12]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
            cur.execute(f"USE {name}")
        yield conn
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


def apply_sqlite(schema: Schema) -> sqlite3.Connection:
    """Execute the schema's SQLite DDL statement by statement on a new in-memory database."""
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    for stmt in ddl_statements(schema, "sqlite", AS_OF):
        conn.execute(stmt)
    return conn


def run_everywhere(schema: Schema) -> dict[str, list[str]]:
    """Apply the schema on all three engines; return each engine's table names."""
    found: dict[str, list[str]] = {}
    with sqlite_db() as conn:
        for stmt in split_script(render_ddl(schema, "sqlite", AS_OF)):
            conn.execute(stmt)
        found["sqlite"] = sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table'"))
    with pg_db() as conn:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            conn.execute(stmt)
        found["postgresql"] = sorted(r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))
    with maria_db() as conn, conn.cursor() as cur:
        for stmt in split_script(render_ddl(schema, "mysql", AS_OF)):
            cur.execute(stmt)
        cur.execute("SHOW TABLES")
        found["mysql"] = sorted(r[0] for r in cur.fetchall())
    return found


def col(name: str, kind: TypeKind, **kw: Any) -> Column:
    """A column; type options (length, precision, values, items) go to the ColumnType."""
    type_keys = {"length", "precision", "scale", "values", "items"}
    t = ColumnType(kind=kind, **{k: v for k, v in kw.items() if k in type_keys})
    return Column(name=name, type=t, **{k: v for k, v in kw.items() if k not in type_keys})


def kitchen_sink() -> Schema:
    """Every feature the renderer knows, with reserved words as names on purpose."""
    now = Default(kind=DefaultKind.now)
    users = Table(
        name="user",  # reserved on PostgreSQL: must be quoted
        entity="User",
        columns=[
            col("id", TypeKind.bigint, identity=True),
            col("email", TypeKind.string, length=320),
            col("password_hash", TypeKind.string, length=255, sensitive=True),
            col("active", TypeKind.bool, default=Default(kind=DefaultKind.value, value=True)),
            col("profile", TypeKind.json, nullable=True),
            col("tags", TypeKind.array, items=TypeKind.string, nullable=True),
            col("home", TypeKind.geo, nullable=True),
            col("bio", TypeKind.text, nullable=True),
            col("created_at", TypeKind.timestamp, default=now),
            col("updated_at", TypeKind.timestamp, default=now),
        ],
        primary_key=["id"],
        key_reason="bigint identity: internal ids, one writer region",
        uniques=[Unique(name="user_email_key", columns=["email"])],
        checks=[Check(name="user_email_check", column="email", not_blank=True)],
        indexes=[
            Index(name="user_bio_fts", columns=[IndexColumn(name="bio")], method=IndexMethod.gin,
                  serves=["search_bio"], reason="text search on bio"),
            Index(name="user_profile_gin", columns=[IndexColumn(name="profile")],
                  method=IndexMethod.gin),
            Index(name="user_email_prefix_idx",
                  columns=[IndexColumn(name="email", pattern_ops=True)]),
        ],
        comment="People who sign in",
    )
    orders = Table(
        name="order",
        entity="Order",
        columns=[
            col("id", TypeKind.uuid, default=Default(kind=DefaultKind.uuid_v7)),
            col("user_id", TypeKind.bigint),
            col("status", TypeKind.enum, values=("pending", "paid", "shipped"),
                default=Default(kind=DefaultKind.value, value="pending")),
            col("total", TypeKind.decimal, precision=19, scale=4),
            col("coupon_id", TypeKind.bigint, nullable=True),
            col("created_at", TypeKind.timestamp, default=now),
        ],
        primary_key=["id"],
        foreign_keys=[
            ForeignKey(name="order_user_id_fkey", columns=["user_id"], ref_table="user",
                       ref_columns=["id"], on_delete=OnDelete.restrict),
            ForeignKey(name="order_coupon_id_fkey", columns=["coupon_id"], ref_table="coupon",
                       ref_columns=["id"], on_delete=OnDelete.set_null),
        ],
        checks=[
            Check(name="order_status_check", column="status",
                  values=["pending", "paid", "shipped"]),
            Check(name="order_total_check", column="total", min=0),
        ],
        indexes=[
            Index(name="order_user_id_created_at_idx",
                  columns=[IndexColumn(name="user_id"), IndexColumn(name="created_at", desc=True)],
                  include=["status", "total"], serves=["user_orders"], reason="200/s"),
            Index(name="order_pending_idx", columns=[IndexColumn(name="created_at")],
                  where="status = 'pending'"),
        ],
    )
    # coupon <-> order is a cycle: coupon.first_order_id -> order, order.coupon_id -> coupon
    coupons = Table(
        name="coupon",
        columns=[
            col("id", TypeKind.bigint, identity=True),
            col("code", TypeKind.string, length=40),
            col("first_order_id", TypeKind.uuid, nullable=True),
        ],
        primary_key=["id"],
        foreign_keys=[ForeignKey(name="coupon_first_order_id_fkey", columns=["first_order_id"],
                                 ref_table="order", ref_columns=["id"],
                                 on_delete=OnDelete.set_null)],
    )
    groups = Table(
        name="group",
        columns=[col("id", TypeKind.bigint, identity=True), col("name", TypeKind.string,
                                                                  length=100)],
        primary_key=["id"],
    )
    members = Table(
        name="user_group",
        role=TableRole.junction,
        columns=[
            col("user_id", TypeKind.bigint),
            col("group_id", TypeKind.bigint),
            col("role", TypeKind.enum, values=("member", "admin")),
        ],
        primary_key=["user_id", "group_id"],
        foreign_keys=[
            ForeignKey(name="user_group_user_id_fkey", columns=["user_id"], ref_table="user",
                       ref_columns=["id"], on_delete=OnDelete.cascade),
            ForeignKey(name="user_group_group_id_fkey", columns=["group_id"], ref_table="group",
                       ref_columns=["id"], on_delete=OnDelete.cascade),
        ],
        checks=[Check(name="user_group_role_check", column="role", values=["member", "admin"])],
        indexes=[Index(name="user_group_group_id_user_id_idx",
                       columns=[IndexColumn(name="group_id"), IndexColumn(name="user_id")])],
    )
    events = Table(
        name="event",
        columns=[
            col("id", TypeKind.bigint, identity=True),
            col("kind", TypeKind.string, length=50),
            col("payload", TypeKind.json),
            col("created_at", TypeKind.timestamp, default=now),
        ],
        primary_key=["id", "created_at"],
        partitioning=Partitioning(kind=PartitionKind.range, column="created_at", interval="month",
                                  reason="300M rows at the horizon, append-only"),
        indexes=[Index(name="event_created_at_brin", columns=[IndexColumn(name="created_at")],
                       method=IndexMethod.brin)],
    )
    # Listed children first on purpose: the renderer must order by foreign keys.
    return Schema(name="sink", tables=[members, orders, coupons, users, groups, events])


def test_kitchen_sink_executes_on_all_engines() -> None:
    found = run_everywhere(kitchen_sink())
    assert {"user", "order", "coupon", "group", "user_group"} <= set(found["postgresql"])
    assert {"user", "order", "coupon", "group", "user_group", "event"} <= set(found["mysql"])
    assert "user_bio_fts" in found["sqlite"]  # the FTS5 table
    # PostgreSQL: the parent plus 4 range partitions and a default partition
    assert "event_default" in found["postgresql"]
    assert "event_p2026_11" in found["postgresql"]


EXAMPLE_NAMES = ["shop", "saas", "social", "iot", "catalog"]


def designed_example(name: str) -> Schema:
    """An example spec designed with every entity relational."""
    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.yaml"
    spec = Spec.model_validate(YAML(typ="safe").load(path.read_text()))
    decisions = Decisions(system=spec.system, parts=[Decision(
        part="core", entities=list(spec.entities), paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])
    return design_relational(spec, decisions)


@pytest.mark.engine
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_ddl_executes_on_all_engines(name: str) -> None:
    schema = designed_example(name)
    found = run_everywhere(schema)
    expected = {t.name for t in schema.tables}
    assert expected <= set(found["sqlite"])
    assert expected <= set(found["postgresql"])
    assert expected <= set(found["mysql"])


def pg_index_names(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}


@pytest.mark.engine
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_designed_index_exists_by_name_on_postgresql_and_mariadb(name: str) -> None:
    """Verification finds indexes in plans by name: each one in the Schema, including the
    indexes of unique constraints, exists under exactly that name."""
    schema = designed_example(name)
    with pg_db() as conn:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            conn.execute(stmt)
        have = pg_index_names(conn)
    for t in schema.tables:
        wanted = {i.name for i in t.indexes} | {u.name for u in t.uniques} | {f"{t.name}_pkey"}
        assert wanted <= have, (t.name, wanted - have)
    with maria_db() as conn, conn.cursor() as cur:
        for stmt in ddl_statements(schema, "mysql", AS_OF):
            cur.execute(stmt)
        cur.execute("SELECT DISTINCT table_name, index_name FROM information_schema.statistics "
                    "WHERE table_schema = DATABASE()")
        have_my = {(r[0], r[1]) for r in cur.fetchall()}
    for t in schema.tables:
        wanted_my = {(t.name, i.name) for i in t.indexes if i.method.value != "gin"
                     or any(t.column(c.name).type.kind in (TypeKind.string, TypeKind.text)
                            for c in i.columns)}
        wanted_my |= {(t.name, u.name) for u in t.uniques} | {(t.name, "PRIMARY")}
        assert wanted_my <= have_my, (t.name, wanted_my - have_my)


@pytest.mark.engine
def test_constraints_hold_on_postgresql() -> None:
    """The rendered constraints reject what they should: not just DDL that parses."""
    schema = designed_example("shop")
    with pg_db() as conn:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            conn.execute(stmt)
        conn.execute("INSERT INTO users (email, password_hash, full_name) "
                     "VALUES ('a@example.com', 'x', 'A')")
        bad = [
            "INSERT INTO users (email, password_hash, full_name) "
            "VALUES ('a@example.com', 'x', 'B')",
            "INSERT INTO users (email, password_hash, full_name) VALUES ('  ', 'x', 'B')",
            "INSERT INTO categories (name, slug) VALUES ('c', 'c'); "
            "INSERT INTO products (id, category_id, sku, slug, name, description, price, status,"
            " weight_grams) VALUES (gen_random_uuid(), 1, 's', 's', 'n', 'd', -1, 'active', 1)",
            "INSERT INTO orders (id, user_id, number, status, total, currency, placed_at,"
            " shipping_address) VALUES (gen_random_uuid(), 1, 'n', 'lost', 1, 'EUR', now(), '{}')",
            "INSERT INTO addresses (user_id, kind, line1, city, postal_code, country)"
            " VALUES (999, 'billing', 'l', 'c', 'p', 'DE')",
        ]
        for sql in bad:
            with pytest.raises(psycopg.errors.IntegrityError), conn.transaction():
                conn.execute(sql)
        # owned children go with their owner
        conn.execute("INSERT INTO addresses (user_id, kind, line1, city, postal_code, country)"
                     " VALUES (1, 'billing', 'l', 'c', 'p', 'DE')")
        conn.execute("DELETE FROM users WHERE id = 1")
        assert conn.execute("SELECT count(*) FROM addresses").fetchone() == (0,)


@pytest.mark.engine
def test_sqlite_fts5_table_follows_its_rows() -> None:
    conn = apply_sqlite(kitchen_sink())
    conn.execute("INSERT INTO user (email, password_hash, bio) VALUES ('a@b.c', 'h', "
                 "'likes sailing and chess')")
    hits = conn.execute("SELECT rowid FROM user_bio_fts WHERE user_bio_fts MATCH 'sailing'")
    assert hits.fetchall() == [(1,)]
    conn.execute("UPDATE user SET bio = 'plays go' WHERE id = 1")
    assert conn.execute("SELECT count(*) FROM user_bio_fts WHERE user_bio_fts MATCH 'sailing'"
                        ).fetchone() == (0,)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO user (email, password_hash, profile) VALUES ('x@y.z', 'h', "
                     "'not json')")


@pytest.mark.engine
def test_every_postgresql_keyword_works_as_a_name() -> None:
    """Quoting is decided from data: check it against the server's own keyword list."""
    r = renderer_for("postgresql")
    with pg_db() as conn:
        words = [w for (w,) in conn.execute("SELECT word FROM pg_get_keywords()")]
        cols = ", ".join(f"{r.quote(w)} int" for w in words)
        conn.execute(f"CREATE TABLE keywords ({cols})")
        with conn.transaction():  # one commit, not one per word
            for w in words:
                conn.execute(f"CREATE TABLE {r.quote(w)} ({r.quote(w)} int)")


@pytest.mark.engine
def test_every_mariadb_keyword_works_as_a_name() -> None:
    r = renderer_for("mysql")
    with maria_db() as conn, conn.cursor() as cur:
        cur.execute("SELECT word FROM information_schema.keywords")
        words = sorted({w.lower() for (w,) in cur.fetchall() if w.replace("_", "").isalnum()})
        cols = ", ".join(f"{r.quote(w)} int" for w in words)
        cur.execute(f"CREATE TABLE keywords ({cols})")  # up to 1017 columns in InnoDB
        reserved = [w for w in words if r.quote(w) != w]
        for w in reserved:
            cur.execute(f"CREATE TEMPORARY TABLE {r.quote(w)} (x int)")
            cur.execute(f"DROP TEMPORARY TABLE {r.quote(w)}")
        unquoted = [w for w in words if r.quote(w) == w]
        cur.execute("CREATE TABLE plain (" + ", ".join(f"{w} int" for w in unquoted) + ")")


def test_every_keyword_works_as_a_name_on_sqlite() -> None:
    r = renderer_for("sqlite")
    words = sorted(r.reserved | renderer_for("postgresql").reserved
                   | renderer_for("mysql").reserved)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE keywords (" + ", ".join(f"{r.quote(w)} int" for w in words) + ")")
    for w in words:
        conn.execute(f"CREATE TABLE {r.quote(w)} ({r.quote(w)} int)")


@pytest.mark.engine
def test_updated_at_is_kept_by_the_database_on_every_engine() -> None:
    """PostgreSQL and SQLite by trigger, MySQL by ON UPDATE: an UPDATE that does not name
    updated_at still moves it."""
    import time

    schema = kitchen_sink()
    insert = "INSERT INTO {t} (email, password_hash) VALUES ('a@b.c', 'h')"
    update = "UPDATE {t} SET password_hash = 'h2'"
    read = "SELECT created_at, updated_at FROM {t}"
    conn = apply_sqlite(schema)
    conn.execute(insert.format(t="user"))
    time.sleep(0.01)
    conn.execute(update.format(t="user"))
    created, updated = conn.execute(read.format(t="user")).fetchone()
    assert updated > created
    with pg_db() as pg:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            pg.execute(stmt)
        pg.execute(insert.format(t='"user"'))
        pg.execute(update.format(t='"user"'))
        created, updated = pg.execute(read.format(t='"user"')).fetchone()
        assert updated > created
    with maria_db() as my, my.cursor() as cur:
        for stmt in ddl_statements(schema, "mysql", AS_OF):
            cur.execute(stmt)
        cur.execute(insert.format(t="user"))
        time.sleep(0.01)
        cur.execute(update.format(t="user"))
        cur.execute(read.format(t="user"))
        created, updated = cur.fetchone()
        assert updated > created


@pytest.mark.engine
def test_table_without_primary_key_renders_and_executes() -> None:
    t = Table(name="log_lines", columns=[
        col("line", TypeKind.text),
        col("updated_at", TypeKind.timestamp, default=Default(kind=DefaultKind.now))],
        primary_key=[])
    found = run_everywhere(Schema(name="nopk", tables=[t]))
    assert all("log_lines" in names for names in found.values())


@pytest.mark.engine
def test_indexes_on_json_and_geo_columns_execute_everywhere() -> None:
    """A parsed schema may index what a B-tree cannot order: each dialect does what it can."""
    t = Table(name="places", columns=[
        col("id", TypeKind.bigint, identity=True),
        col("spot", TypeKind.geo),
        col("attrs", TypeKind.json)],
        primary_key=["id"],
        indexes=[Index(name="places_spot_idx", columns=[IndexColumn(name="spot")]),
                 Index(name="places_attrs_idx", columns=[IndexColumn(name="attrs")])])
    schema = Schema(name="geo", tables=[t])
    run_everywhere(schema)
    assert "USING gist (spot)" in render_ddl(schema, "postgresql")
    my = render_ddl(schema, "mysql")
    assert "CREATE SPATIAL INDEX places_spot_idx" in my
    assert "places_attrs_idx not rendered" in my


SEARCHY = {
    "system": "blog",
    "entities": {"Post": {"volume": "1M", "attributes": {
        "slug": {"type": "string", "max_length": 120, "unique": True},
        "title": {"type": "string", "max_length": 200},
        "body": "text"}}},
    "access_patterns": [
        {"name": "by_title_prefix", "entity": "Post", "where": {"title": "prefix"},
         "limit": 20, "rate": "50/s"},
        {"name": "search", "entity": "Post", "where": {"body": "text"}, "limit": 20,
         "rate": "20/s"},
    ],
}


def searchy_schema() -> Schema:
    spec = Spec.model_validate(SEARCHY)
    return design_relational(spec, Decisions(system="blog", parts=[Decision(
        part="core", entities=["Post"], paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")]))


PARAMS = {"title": "title 123", "body": "word123"}
FILL = 20000


@pytest.mark.engine
def test_prefix_and_text_search_indexes_are_used_on_postgresql() -> None:
    from dbarch.render.query import render_query

    schema = searchy_schema()
    with pg_db() as conn:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            conn.execute(stmt)
        conn.execute(
            "INSERT INTO posts (slug, title, body) SELECT 's' || i, 'title ' || i, "
            f"'some text with word' || i FROM generate_series(1, {FILL}) AS i")
        conn.execute("ANALYZE posts")
        for q in schema.queries:
            plan = str(conn.execute("EXPLAIN " + render_query(q, "postgresql", PARAMS))
                       .fetchall())
            assert q.index and q.index in plan, (q.pattern, plan)


@pytest.mark.engine
def test_prefix_and_text_search_indexes_are_used_on_sqlite_and_mariadb() -> None:
    from dbarch.render.query import render_query

    schema = searchy_schema()
    conn = apply_sqlite(schema)
    conn.executemany("INSERT INTO posts (slug, title, body) VALUES (?, ?, ?)",
                     [(f"s{i}", f"title {i}", f"some text with word{i}")
                      for i in range(1, FILL + 1)])
    conn.execute("ANALYZE")
    for q in schema.queries:
        plan = str(conn.execute("EXPLAIN QUERY PLAN " + render_query(q, "sqlite", PARAMS))
                   .fetchall())
        assert q.index and q.index in plan, (q.pattern, plan)
    with maria_db() as my, my.cursor() as cur:
        for stmt in ddl_statements(schema, "mysql", AS_OF):
            cur.execute(stmt)
        cur.executemany("INSERT INTO posts (id, slug, title, body) VALUES (%s, %s, %s, %s)",
                        [(i, f"s{i}", f"title {i}", f"some text with word{i}")
                         for i in range(1, FILL + 1)])
        cur.execute("ANALYZE TABLE posts")
        cur.fetchall()
        for q in schema.queries:
            cur.execute("EXPLAIN " + render_query(q, "mysql", PARAMS))
            plan = str(cur.fetchall())
            assert q.index and q.index in plan, (q.pattern, plan)


@pytest.mark.engine
def test_comments_with_quotes_and_backslashes_survive_every_engine() -> None:
    text = r"it's C:\temp\new; 100% sure"
    t = Table(name="notes", comment=text + ";\n", columns=[
        col("id", TypeKind.bigint, identity=True), col("body", TypeKind.text, comment=text)],
        primary_key=["id"])
    schema = Schema(name="quotes", tables=[t])
    run_everywhere(schema)
    with maria_db() as my, my.cursor() as cur:
        for stmt in ddl_statements(schema, "mysql", AS_OF):
            cur.execute(stmt)
        cur.execute("SELECT column_comment FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND column_name = 'body'")
        assert cur.fetchone() == (text,)
    with pg_db() as pg:
        for stmt in ddl_statements(schema, "postgresql", AS_OF):
            pg.execute(stmt)
        assert pg.execute("SELECT obj_description('notes'::regclass)").fetchone() == (text + ";",)
