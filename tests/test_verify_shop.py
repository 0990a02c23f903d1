"""verify() on a hand-built shop schema, on the real SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import time

import psycopg
import pymysql

from dbarch.render.ddl import render_ddl
from dbarch.schema.model import (
    AccessQuery,
    Check,
    Column,
    ColumnType,
    Default,
    DefaultKind,
    FilterOp,
    ForeignKey,
    Index,
    IndexColumn,
    IndexMethod,
    OnDelete,
    QueryFilter,
    QueryOrder,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbarch.verify.run import verify

BIGINT = ColumnType(kind=TypeKind.bigint)
NOW = Default(kind=DefaultKind.now)


def _ts(name: str) -> Column:
    return Column(name=name, type=ColumnType(kind=TypeKind.timestamp), default=NOW)


def shop_schema() -> Schema:
    """Users, products, orders and order lines, with one designed index per read pattern."""
    users = Table(
        name="users", entity="User", rows=2_000_000,
        columns=[
            Column(name="id", type=BIGINT, identity=True),
            Column(name="email", type=ColumnType(kind=TypeKind.string, length=254)),
            Column(name="display_name", type=ColumnType(kind=TypeKind.string, length=100)),
            Column(name="tier",
                   type=ColumnType(kind=TypeKind.enum, values=("free", "pro", "team"))),
            Column(name="profile", type=ColumnType(kind=TypeKind.json), nullable=True),
            _ts("created_at"), _ts("updated_at"),
        ],
        primary_key=["id"],
        uniques=[Unique(name="users_email_key", columns=["email"])],
    )
    products = Table(
        name="products", entity="Product", rows=500_000,
        columns=[
            Column(name="id", type=ColumnType(kind=TypeKind.uuid)),
            Column(name="sku", type=ColumnType(kind=TypeKind.string, length=40)),
            Column(name="name", type=ColumnType(kind=TypeKind.string, length=200)),
            Column(name="description", type=ColumnType(kind=TypeKind.text)),
            Column(name="price", type=ColumnType(kind=TypeKind.decimal, precision=12, scale=2)),
            Column(name="tags", type=ColumnType(kind=TypeKind.array, items=TypeKind.string)),
            Column(name="active", type=ColumnType(kind=TypeKind.bool)),
            _ts("created_at"),
        ],
        primary_key=["id"],
        uniques=[Unique(name="products_sku_key", columns=["sku"])],
        checks=[Check(name="products_price_check", column="price", min=0)],
        indexes=[
            Index(name="products_name_idx", columns=[IndexColumn(name="name", pattern_ops=True)],
                  serves=["product_name_prefix"]),
            Index(name="products_description_fts", columns=[IndexColumn(name="description")],
                  method=IndexMethod.gin, serves=["product_search"]),
        ],
    )
    orders = Table(
        name="orders", entity="Order", rows=10_000_000,
        columns=[
            Column(name="id", type=BIGINT, identity=True),
            Column(name="user_id", type=BIGINT),
            Column(name="status", type=ColumnType(kind=TypeKind.enum,
                                                  values=("pending", "paid", "shipped"))),
            Column(name="total", type=ColumnType(kind=TypeKind.decimal, precision=12, scale=2)),
            Column(name="note", type=ColumnType(kind=TypeKind.text), nullable=True),
            _ts("created_at"),
        ],
        primary_key=["id"],
        foreign_keys=[ForeignKey(name="orders_user_id_fkey", columns=["user_id"],
                                 ref_table="users", ref_columns=["id"])],
        indexes=[
            Index(name="orders_user_id_created_at_idx",
                  columns=[IndexColumn(name="user_id"), IndexColumn(name="created_at", desc=True)],
                  serves=["user_orders"]),
            Index(name="orders_created_at_idx", columns=[IndexColumn(name="created_at")],
                  serves=["recent_orders"]),
        ],
    )
    order_items = Table(
        name="order_items", entity="OrderItem", rows=30_000_000,
        columns=[
            Column(name="order_id", type=BIGINT),
            Column(name="line", type=ColumnType(kind=TypeKind.smallint)),
            Column(name="product_id", type=ColumnType(kind=TypeKind.uuid)),
            Column(name="quantity", type=ColumnType(kind=TypeKind.int)),
        ],
        primary_key=["order_id", "line"],
        foreign_keys=[
            ForeignKey(name="order_items_order_id_fkey", columns=["order_id"],
                       ref_table="orders", ref_columns=["id"], on_delete=OnDelete.cascade),
            ForeignKey(name="order_items_product_id_fkey", columns=["product_id"],
                       ref_table="products", ref_columns=["id"]),
        ],
        checks=[Check(name="order_items_quantity_check", column="quantity", min=1, max=99)],
        indexes=[Index(name="order_items_product_id_idx", columns=[IndexColumn(name="product_id")],
                       serves=["product_sales"])],
    )
    eq = FilterOp.eq
    queries = [
        AccessQuery(pattern="login", table="users", filters=[QueryFilter(column="email", op=eq)],
                    index="users_email_key"),
        AccessQuery(pattern="user_orders", table="orders",
                    filters=[QueryFilter(column="user_id", op=eq)],
                    order_by=[QueryOrder(column="created_at", desc=True)], limit=20,
                    index="orders_user_id_created_at_idx"),
        AccessQuery(pattern="recent_orders", table="orders",
                    filters=[QueryFilter(column="created_at", op=FilterOp.range)],
                    index="orders_created_at_idx"),
        AccessQuery(pattern="product_by_sku", table="products",
                    filters=[QueryFilter(column="sku", op=eq)], index="products_sku_key"),
        AccessQuery(pattern="product_name_prefix", table="products",
                    filters=[QueryFilter(column="name", op=FilterOp.prefix)],
                    order_by=[QueryOrder(column="name")], limit=20, index="products_name_idx"),
        AccessQuery(pattern="product_search", table="products",
                    filters=[QueryFilter(column="description", op=FilterOp.text)],
                    index="products_description_fts"),
        AccessQuery(pattern="product_sales", table="order_items",
                    filters=[QueryFilter(column="product_id", op=eq)],
                    index="order_items_product_id_idx"),
    ]
    return Schema(name="shop", tables=[users, products, orders, order_items], queries=queries)


ALL = ["sqlite://", "postgresql://postgres@127.0.0.1:5432/test",
       "mysql://root@127.0.0.1:3306/test"]


def _ddl(schema: Schema) -> dict[str, str]:
    return {d: render_ddl(schema, d) for d in ("postgresql", "mysql", "sqlite")}


def test_every_pattern_served_on_every_engine(engine_url: str) -> None:
    schema = shop_schema()
    report = verify(schema, _ddl(schema), [engine_url])
    (engine,) = report.engines
    assert engine.applied and engine.error is None
    assert engine.rows_loaded == 27_292
    assert engine.tables == 4
    failures = [(c.pattern, c.problem) for c in engine.checks if not c.ok]
    assert failures == []
    assert [c.pattern for c in engine.checks] == [q.pattern for q in schema.queries]
    for c in engine.checks:
        assert c.rows is not None and c.rows >= 1, c.pattern  # parameters hit real rows
        assert c.expected_index in c.used_indexes or engine.engine == "sqlite", c.pattern
    assert report.ok


def test_missing_index_fails_with_a_located_reason(engine_url: str) -> None:
    """The DDL lacks the index the pattern was designed for: the planner must scan."""
    schema = shop_schema()
    without = shop_schema()
    orders = without.table("orders")
    orders.indexes = [ix for ix in orders.indexes if ix.name != "orders_user_id_created_at_idx"]
    report = verify(schema, _ddl(without), [engine_url])
    (engine,) = report.engines
    assert not report.ok and not engine.ok
    check = next(c for c in engine.checks if c.pattern == "user_orders")
    assert not check.ok
    assert check.problem == (
        "index orders_user_id_created_at_idx designed for user_orders does not exist on "
        f"orders (indexes there: {', '.join(sorted(_indexes_of(engine.engine)))})"
    )
    others = [c for c in engine.checks if c.pattern != "user_orders"]
    assert all(c.ok for c in others)


def _indexes_of(engine: str) -> list[str]:
    return {
        "sqlite": ["PRIMARY", "orders_created_at_idx"],
        "postgresql": ["orders_created_at_idx", "orders_pkey"],
        # InnoDB makes an index for the foreign key, named after the constraint
        "mariadb": ["PRIMARY", "orders_created_at_idx", "orders_user_id_fkey"],
    }[engine]


def test_index_present_but_not_chosen_names_the_full_scan() -> None:
    """A pattern on an unindexed column, its query pointing at an index that serves another
    column: PostgreSQL reads the table in full, and the report says so with the row count."""
    schema = shop_schema()
    schema.queries.append(AccessQuery(
        pattern="orders_by_total", table="orders", index="orders_created_at_idx",
        filters=[QueryFilter(column="total", op=FilterOp.eq)],
    ))
    report = verify(schema, _ddl(schema), [ALL[1]])
    check = next(c for c in report.engines[0].checks if c.pattern == "orders_by_total")
    assert not check.ok
    assert check.problem == (
        "planner chose a full scan of orders (Seq Scan on orders) over 7824 sample rows; "
        "index orders_created_at_idx not used"
    )
    # The diagnostic forced plan is reported beside it and never makes the check pass.
    assert check.index_usable is False
    assert check.forced_access_path != ""


def test_pattern_on_unknown_column_is_reported() -> None:
    schema = shop_schema()
    schema.queries.append(AccessQuery(pattern="by_coupon", table="orders",
                                      filters=[QueryFilter(column="coupon", op=FilterOp.eq)]))
    report = verify(schema, _ddl(schema), ["sqlite://"])
    check = next(c for c in report.engines[0].checks if c.pattern == "by_coupon")
    assert not check.ok
    assert check.problem == "pattern by_coupon: orders.coupon is not a table/column of the schema"


def test_ddl_error_is_reported_not_raised() -> None:
    schema = shop_schema()
    ddl = _ddl(schema)
    ddl["postgresql"] = ddl["postgresql"].replace("CREATE TABLE orders", "CREATE TABLE users", 1)
    report = verify(schema, ddl, [ALL[1]])
    (engine,) = report.engines
    assert not engine.applied and not report.ok
    assert engine.error is not None
    assert engine.error.startswith(
        "postgresql at postgresql://postgres@127.0.0.1:5432/test: DDL statement"
    )
    assert 'relation "users" already exists' in engine.error


def test_unreachable_engine_is_reported() -> None:
    schema = shop_schema()
    report = verify(schema, _ddl(schema), ["mysql://root:pw@127.0.0.1:1/test"])
    (engine,) = report.engines
    assert engine.engine == "mariadb"
    assert engine.url == "mysql://root:***@127.0.0.1:1/test"
    assert not engine.applied and "cannot connect" in (engine.error or "")


def test_all_engines_in_one_run_leave_nothing_behind() -> None:
    schema = shop_schema()
    started = time.monotonic()
    report = verify(schema, _ddl(schema), ALL)
    # ~3 s on an idle machine; the bound only catches a pathological slowdown (row-by-row
    # inserts, a missed batch), with room for a machine busy with other test runs.
    assert time.monotonic() - started < 30
    assert [e.engine for e in report.engines] == ["sqlite", "postgresql", "mariadb"]
    assert report.ok
    # Other test runs may be verifying on the same servers right now: look for ours only.
    pg, maria = report.engines[1].namespace, report.engines[2].namespace
    assert pg and maria and pg.startswith("dbarch_verify_")
    with psycopg.connect(ALL[1]) as conn:
        left = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = %s", (pg,))
        assert left.fetchall() == []
    conn2 = pymysql.connect(host="127.0.0.1", user="root", password="")
    try:
        with conn2.cursor() as cur:
            cur.execute("SHOW DATABASES LIKE %s", (maria,))
            assert cur.fetchall() == ()
    finally:
        conn2.close()
