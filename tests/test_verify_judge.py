"""judge(): when a plan serves a pattern with its designed index, and the reason when not."""

from __future__ import annotations

try:  # tests/ as a package (tests/__init__.py) or as a plain folder on sys.path
    from tests.test_verify_shop import shop_schema
except ImportError:
    from test_verify_shop import shop_schema  # type: ignore[no-redef]

from dbarch.engines.base import Plan
from dbarch.schema.model import AccessQuery, FilterOp, QueryFilter, QueryOrder
from dbarch.verify.run import judge
from dbarch.verify.sample import Sample, SampleTable

SCHEMA = shop_schema()
SAMPLE = Sample({"orders": SampleTable("orders", ["id"], [(i,) for i in range(180)]),
                 "users": SampleTable("users", ["id"], [(i,) for i in range(50)])})
USER_ORDERS = AccessQuery(pattern="user_orders", table="orders",
                          filters=[QueryFilter(column="user_id", op=FilterOp.eq)],
                          order_by=[QueryOrder(column="created_at", desc=True)], limit=20,
                          index="orders_user_id_created_at_idx")
LATEST = AccessQuery(pattern="latest", table="orders", limit=20, index="orders_created_at_idx",
                     order_by=[QueryOrder(column="created_at", desc=True)])
LOGIN = AccessQuery(pattern="login", table="users", index="users_email_key",
                    filters=[QueryFilter(column="email", op=FilterOp.eq)])
PG_ORDERS = {"orders_pkey": ["id"], "orders_created_at_idx": ["created_at"],
             "orders_user_id_created_at_idx": ["user_id", "created_at"]}
SQLITE_USERS = {"PRIMARY": ["id"], "sqlite_autoindex_users_1": ["email"]}


def test_designed_index_searched() -> None:
    plan = Plan(indexes=["orders_user_id_created_at_idx"],
                access_path="Index Scan using orders_user_id_created_at_idx on orders")
    assert judge(USER_ORDERS, plan, SCHEMA, PG_ORDERS, SAMPLE) == (True, None)


def test_sqlite_autoindex_matches_the_unique_constraint_by_columns() -> None:
    plan = Plan(indexes=["sqlite_autoindex_users_1"])
    assert judge(LOGIN, plan, SCHEMA, SQLITE_USERS, SAMPLE) == (True, None)


def test_seq_scan() -> None:
    plan = Plan(full_scans=["orders"], access_path="Seq Scan on orders")
    assert judge(USER_ORDERS, plan, SCHEMA, PG_ORDERS, SAMPLE) == (False, (
        "planner chose a full scan of orders (Seq Scan on orders) over 180 sample rows; "
        "index orders_user_id_created_at_idx not used"
    ))


def test_other_index() -> None:
    plan = Plan(indexes=["orders_created_at_idx"],
                access_path="Index Scan using orders_created_at_idx on orders")
    assert judge(USER_ORDERS, plan, SCHEMA, PG_ORDERS, SAMPLE) == (False, (
        "planner used orders_created_at_idx instead of orders_user_id_created_at_idx "
        "(Index Scan using orders_created_at_idx on orders)"
    ))


def test_full_index_scan_is_right_for_order_by_limit_only() -> None:
    walk = Plan(indexes=["orders_created_at_idx"], full_index_scans=["orders_created_at_idx"],
                access_path="Limit → Index Scan Backward using orders_created_at_idx on orders")
    assert judge(LATEST, walk, SCHEMA, PG_ORDERS, SAMPLE) == (True, None)
    filtered = AccessQuery(pattern="by_user", table="orders", index=None,
                           filters=[QueryFilter(column="user_id", op=FilterOp.eq)])
    ok, problem = judge(filtered, walk, SCHEMA, PG_ORDERS, SAMPLE)
    assert not ok
    assert problem == (
        "planner reads all of index orders_created_at_idx (Limit → Index Scan Backward using "
        "orders_created_at_idx on orders) over 180 sample rows instead of searching an index "
        "for the filter; no index was designed for it"
    )


def test_designed_index_missing() -> None:
    query = USER_ORDERS.model_copy(update={"index": "orders_user_idx"})
    plan = Plan(full_scans=["orders"], access_path="Seq Scan on orders")
    assert judge(query, plan, SCHEMA, PG_ORDERS, SAMPLE) == (False, (
        "index orders_user_idx designed for user_orders does not exist on orders (indexes "
        "there: orders_created_at_idx, orders_pkey, orders_user_id_created_at_idx)"
    ))


def test_full_scan_of_a_small_table_says_why() -> None:
    schema = shop_schema()
    schema.table("users").rows = 50
    plan = Plan(full_scans=["users"], access_path="Seq Scan on users")
    assert judge(LOGIN, plan, schema, {"users_email_key": ["email"]}, SAMPLE) == (False, (
        "planner chose a full scan of users (Seq Scan on users) over 50 sample rows; index "
        "users_email_key not used (the table is expected to hold 50 rows: reading it whole "
        "is the cheapest plan until it grows)"
    ))
