"""Sample rows: shaped by the schema, valid on every engine (the inserts are the proof)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import datetime, timedelta

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.test_verify_shop import shop_schema
except ImportError:
    from test_verify_shop import shop_schema  # type: ignore[no-redef]

from dbarch.engines import engine_for
from dbarch.render.ddl import render_ddl
from dbarch.schema.model import (
    AccessQuery,
    Column,
    ColumnType,
    FilterOp,
    ForeignKey,
    QueryFilter,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbarch.verify.sample import MAX_ROWS, MIN_ROWS, generate, load_order, sample_sizes

NOW = datetime(2026, 6, 1)
EMAIL = re.compile(r"^[a-z]+\.[a-z]+[0-9a-z]+@[a-z.]+\.[a-z]+$")


def test_sizes_on_a_log_scale() -> None:
    """30M order lines → 10,000 rows; 500k products → 4,007: log-linear from 1,000 rows."""
    sizes = sample_sizes(shop_schema())
    assert sizes == {"order_items": MAX_ROWS, "orders": 7_824, "users": 5_461,
                     "products": 4_007}
    assert MIN_ROWS < sizes["products"] < sizes["users"] < sizes["orders"] < MAX_ROWS


def test_unread_leaf_tables_stay_tiny() -> None:
    """Nothing reads order_items and nothing references it: 20 rows are enough."""
    schema = shop_schema()
    schema.queries = [q for q in schema.queries if q.table != "order_items"]
    assert sample_sizes(schema)["order_items"] == 20


def test_references_keep_the_real_fan_out() -> None:
    """10M orders of 2M users: 5 orders a user in production, and in the sample."""
    sample = generate(shop_schema(), now=NOW)
    orders = sample.tables["orders"].values("user_id")
    pool = round(len(orders) * 2_000_000 / 10_000_000)  # 1,565 users
    # Skewed draws leave some of the pool unused: busy users take their place.
    assert 0.8 * pool <= len(set(orders)) <= pool


def test_small_tables_keep_their_real_size() -> None:
    schema = shop_schema()
    schema.table("products").rows = 150
    assert sample_sizes(schema)["products"] == 150


def test_deterministic() -> None:
    a = generate(shop_schema(), now=NOW)
    b = generate(shop_schema(), now=NOW)
    c = generate(shop_schema(), now=NOW, seed=8)
    assert a == b
    assert a.tables["users"].rows != c.tables["users"].rows


def test_parents_first() -> None:
    assert [t.name for t in load_order(shop_schema())] == [
        "users", "products", "orders", "order_items"
    ]


def test_references_exist_and_are_skewed() -> None:
    sample = generate(shop_schema(), now=NOW)
    users = set(sample.tables["users"].values("id"))
    per_user = Counter(sample.tables["orders"].values("user_id"))
    assert set(per_user) <= users
    # A few users with many orders, most with a handful.
    assert max(per_user.values()) >= 10 * statistics.median(per_user.values())
    products = set(sample.tables["products"].values("id"))
    assert set(sample.tables["order_items"].values("product_id")) <= products


def test_unique_keys_unique() -> None:
    sample = generate(shop_schema(), now=NOW)
    emails = sample.tables["users"].values("email")
    assert len(set(emails)) == len(emails)
    skus = sample.tables["products"].values("sku")
    assert len(set(skus)) == len(skus)
    items = sample.tables["order_items"]
    keys = list(zip(items.values("order_id"), items.values("line"), strict=True))
    assert len(set(keys)) == len(keys) == MAX_ROWS


def test_values_respect_types_and_checks() -> None:
    sample = generate(shop_schema(), now=NOW)
    users = sample.tables["users"]
    assert all(EMAIL.match(e) for e in users.values("email"))
    assert set(users.values("tier")) == {"free", "pro", "team"}
    assert set(sample.tables["orders"].values("status")) == {"pending", "paid", "shipped"}
    quantities = sample.tables["order_items"].values("quantity")
    assert min(quantities) >= 1 and max(quantities) <= 99
    for created, updated in zip(users.values("created_at"), users.values("updated_at"),
                                strict=True):
        assert NOW - timedelta(days=366) <= created <= updated <= NOW
    keysets = {frozenset(p) for p in users.values("profile") if p is not None}
    assert len(keysets) > 100  # semi-structured: the keys vary from row to row
    notes = sample.tables["orders"].values("note")
    assert 0.05 < notes.count(None) / len(notes) < 0.15


def test_self_reference_and_one_to_one() -> None:
    """A category tree points at earlier rows; a profile belongs to exactly one user."""
    bigint = ColumnType(kind=TypeKind.bigint)
    schema = Schema(name="t", tables=[
        Table(name="users", rows=500, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True)]),
        Table(name="profiles", rows=800, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True),
                       Column(name="user_id", type=bigint)],
              uniques=[Unique(name="profiles_user_id_key", columns=["user_id"])],
              foreign_keys=[ForeignKey(name="profiles_user_id_fkey", columns=["user_id"],
                                       ref_table="users", ref_columns=["id"])]),
        Table(name="categories", rows=300, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True),
                       Column(name="parent_id", type=bigint, nullable=True)],
              foreign_keys=[ForeignKey(name="categories_parent_id_fkey", columns=["parent_id"],
                                       ref_table="categories", ref_columns=["id"])]),
    ], queries=[AccessQuery(pattern="profile", table="profiles"),
                AccessQuery(pattern="category", table="categories")])
    sample = generate(schema, now=NOW)
    owners = sample.tables["profiles"].values("user_id")
    assert len(owners) == len(set(owners)) == 500  # capped at one per user
    for i, parent in enumerate(sample.tables["categories"].values("parent_id")):
        assert parent is None or parent <= i
    for url in ("sqlite://", "postgresql://postgres@127.0.0.1:5432/test"):
        with engine_for(url) as engine:
            engine.apply(render_ddl(schema, engine.dialect))
            for table in sample.tables.values():
                engine.load(table.name, table.columns, table.rows)


def test_sample_loads_on_every_engine(engine_url: str) -> None:
    """Foreign keys, unique keys, CHECKs, enums, JSON: the engine refuses any row that breaks
    them, so loading the whole sample is the proof."""
    schema = shop_schema()
    sample = generate(schema, now=NOW)
    with engine_for(engine_url) as engine:
        engine.apply(render_ddl(schema, engine.dialect))
        for table in sample.tables.values():
            assert engine.load(table.name, table.columns, table.rows) == len(table.rows)
        for table in sample.tables.values():
            assert engine.query(f"SELECT count(*) FROM {table.name}") == [(len(table.rows),)]
        # Stored values read back as what was generated, whatever the engine's types.
        first = sample.tables["users"].rows[0]
        email = engine.query("SELECT email FROM users WHERE id = 1")
        assert email == [(first[1],)]


def test_every_neutral_type_loads_on_every_engine(engine_url: str) -> None:
    """One column of each TypeKind, rendered by the DDL renderer, filled by the sampler."""
    kinds = {
        "small": ColumnType(kind=TypeKind.smallint),
        "count": ColumnType(kind=TypeKind.int),
        "big": ColumnType(kind=TypeKind.bigint),
        "price": ColumnType(kind=TypeKind.decimal, precision=10, scale=2),
        "ratio": ColumnType(kind=TypeKind.float),
        "active": ColumnType(kind=TypeKind.bool),
        "label": ColumnType(kind=TypeKind.string, length=30),
        "body": ColumnType(kind=TypeKind.text),
        "born": ColumnType(kind=TypeKind.date),
        "seen_at": ColumnType(kind=TypeKind.timestamp),
        "ref": ColumnType(kind=TypeKind.uuid),
        "attrs": ColumnType(kind=TypeKind.json),
        "raw": ColumnType(kind=TypeKind.blob),
        "state": ColumnType(kind=TypeKind.enum, values=("new", "old")),
        "place": ColumnType(kind=TypeKind.geo),
        "tags": ColumnType(kind=TypeKind.array, items=TypeKind.string),
        "scores": ColumnType(kind=TypeKind.array, items=TypeKind.int),
    }
    columns = [Column(name="id", type=ColumnType(kind=TypeKind.bigint), identity=True)]
    columns += [Column(name=name, type=t) for name, t in kinds.items()]
    schema = Schema(name="types", tables=[
        Table(name="everything", rows=300, primary_key=["id"], columns=columns,
              uniques=[Unique(name="everything_label_key", columns=["label"])]),
    ], queries=[AccessQuery(pattern="by_label", table="everything", index="everything_label_key",
                            filters=[QueryFilter(column="label", op=FilterOp.eq)])])
    sample = generate(schema, now=NOW)
    table = sample.tables["everything"]
    with engine_for(engine_url) as engine:
        engine.apply(render_ddl(schema, engine.dialect))
        assert engine.load(table.name, table.columns, table.rows) == 300
        assert engine.query("SELECT count(DISTINCT label) FROM everything") == [(300,)]


def test_composite_and_cyclic_references_load(engine_url: str) -> None:
    """A composite foreign key takes both columns from one parent row; of two tables that
    reference each other, the one generated first leaves its (nullable) reference empty."""
    bigint = ColumnType(kind=TypeKind.bigint)
    schema = Schema(name="t", tables=[
        Table(name="teams", rows=300, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True),
                       Column(name="captain_id", type=bigint, nullable=True)],
              foreign_keys=[ForeignKey(name="teams_captain_id_fkey", columns=["captain_id"],
                                       ref_table="players", ref_columns=["id"])]),
        Table(name="players", rows=3000, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True),
                       Column(name="team_id", type=bigint)],
              uniques=[Unique(name="players_team_id_id_key", columns=["team_id", "id"])],
              foreign_keys=[ForeignKey(name="players_team_id_fkey", columns=["team_id"],
                                       ref_table="teams", ref_columns=["id"])]),
        Table(name="goals", rows=9000, primary_key=["id"],
              columns=[Column(name="id", type=bigint, identity=True),
                       Column(name="team_id", type=bigint),
                       Column(name="player_id", type=bigint)],
              foreign_keys=[ForeignKey(name="goals_player_fkey",
                                       columns=["team_id", "player_id"], ref_table="players",
                                       ref_columns=["team_id", "id"])]),
    ], queries=[AccessQuery(pattern="g", table="goals"), AccessQuery(pattern="t", table="teams")])
    sample = generate(schema, now=NOW)
    players = set(zip(sample.tables["players"].values("team_id"),
                      sample.tables["players"].values("id"), strict=True))
    goals = sample.tables["goals"]
    assert set(zip(goals.values("team_id"), goals.values("player_id"), strict=True)) <= players
    with engine_for(engine_url) as engine:
        engine.apply(render_ddl(schema, engine.dialect))
        for table in sample.tables.values():
            engine.load(table.name, table.columns, table.rows)
        assert engine.query("SELECT count(*) FROM goals") == [(len(goals.rows),)]


def test_created_at_follows_insertion_order() -> None:
    """Rows are inserted as they are created: the physical order is the time order, as in
    production, so correlation statistics and BRIN summaries mean what they would there."""
    sample = generate(shop_schema(), now=NOW)
    for name, table in sample.tables.items():
        if "created_at" in table.columns:
            created = table.values("created_at")
            assert created == sorted(created), name
            assert NOW - timedelta(days=366) < created[0] < created[-1] <= NOW
