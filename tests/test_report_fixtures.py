"""Hand-built Spec / Decisions / Schema / VerifyReport for the report and scaling tests.

Built by hand so these tests do not depend on the selection and design modules: a shop with
users, products, orders and their items in PostgreSQL, and sessions in Redis.
"""

from __future__ import annotations

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
    OnDelete,
    Partitioning,
    PartitionKind,
    QueryFilter,
    QueryOrder,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbarch.select.model import (
    Decision,
    Decisions,
    Paradigm,
    ParadigmScore,
    Rejected,
    Signal,
)
from dbarch.spec.model import Spec
from dbarch.verify.model import EngineReport, PatternCheck, VerifyReport

SHOP = {
    "system": "shop",
    "scale": {"horizon_years": 3, "availability": 99.95, "regions": ["eu-west"]},
    "compliance": {"pii": True, "frameworks": ["GDPR"]},
    "entities": {
        "User": {
            "volume": "2M",
            "growth": "40%/year",
            "public_id": True,
            "attributes": {
                "email": {"type": "email", "unique": True, "sensitive": True},
                "password_hash": {"type": "string", "sensitive": True},
            },
        },
        "Product": {
            "volume": "500k",
            "attributes": {
                "name": "string",
                "price": "money",
                "specs": {"type": "map", "varies": True},
            },
        },
        "Order": {
            "volume": "10M",
            "growth": "5M/year",
            "append_only": False,
            "attributes": {
                "status": {"type": "enum", "values": ["pending", "paid", "shipped"]},
                "total": "money",
            },
        },
        "OrderItem": {
            "volume": "30M",
            "growth": "15M/year",
            "attributes": {"quantity": "int", "unit_price": "money"},
        },
        "Session": {"volume": "200k", "ttl": "24h", "attributes": {"data": "json"}},
    },
    "relationships": [
        {"from": "Order", "to": "User", "kind": "many-to-one"},
        {"from": "OrderItem", "to": "Order", "kind": "many-to-one", "owned": True},
        {"from": "OrderItem", "to": "Product", "kind": "many-to-one"},
        {"from": "Session", "to": "User", "kind": "many-to-one"},
    ],
    "access_patterns": [
        {"name": "login", "entity": "User", "where": {"email": "eq"}, "rate": "50/s",
         "p99": "20ms"},
        {"name": "user_orders", "entity": "Order", "where": {"user": "eq"},
         "order_by": "-created_at", "limit": 20, "rate": "200/s", "p99": "50ms",
         "consistency": "read-your-writes"},
        {"name": "product_page", "entity": "Product", "key": "id", "rate": "3000/s",
         "consistency": "eventual", "p99": "10ms"},
        {"name": "place_order", "kind": "write", "touches": ["Order", "OrderItem", "Product"],
         "transaction": True, "rate": "20/s", "p99": "100ms"},
        {"name": "session_get", "entity": "Session", "key": "id", "rate": "2000/s",
         "p99": "5ms"},
    ],
}


def shop_spec() -> Spec:
    """The shop spec of DESIGN.md, completed."""
    return Spec.model_validate(SHOP)


def _sig(name: str, weight: float, evidence: str) -> Signal:
    return Signal(name=name, weight=weight, evidence=evidence)


def shop_decisions() -> Decisions:
    """PostgreSQL for the core, Redis for sessions."""
    core = Decision(
        part="core",
        entities=["User", "Product", "Order", "OrderItem"],
        patterns=["login", "user_orders", "product_page", "place_order"],
        paradigm=Paradigm.relational,
        product="postgresql",
        product_name="PostgreSQL",
        scores=[
            ParadigmScore(paradigm=Paradigm.relational, score=8.5, signals=[
                _sig("multi_entity_transaction", 3.0, "place_order writes 3 entities in one "
                     "transaction at 20/s"),
                _sig("joins", 2.0, "user_orders reads Order by its User reference"),
            ]),
            ParadigmScore(paradigm=Paradigm.document, score=4.0, signals=[
                _sig("varying_attributes", 1.5, "Product.specs varies per row"),
            ]),
        ],
        reasons=["place_order changes Order, OrderItem and Product atomically",
                 "Product.specs fits a jsonb column with a GIN index"],
        rejected=[Rejected(product="mongodb", paradigm=Paradigm.document,
                           reason="multi-document transactions for place_order cost a replica "
                                  "set round trip each; joins for user_orders are lookups")],
        tradeoff="Strong consistency on one primary: writes stop during a ~30 s failover.",
    )
    sessions = Decision(
        part="sessions",
        entities=["Session"],
        patterns=["session_get"],
        paradigm=Paradigm.key_value,
        product="redis",
        product_name="Redis",
        scores=[ParadigmScore(paradigm=Paradigm.key_value, score=7.0, signals=[
            _sig("key_lookup_ttl", 4.0, "session_get reads Session by id at 2k/s, ttl 24h")])],
        reasons=["key-only lookups at 2k/s with a 24h TTL"],
        rejected=[Rejected(product="postgresql", paradigm=Paradigm.relational,
                           reason="expiring 200k rows a day by DELETE bloats the table")],
        tradeoff="Sessions lost on a Redis failure up to 1 s (AOF everysec): users log in again.",
        split_gain=3.0,
        split_cost=1.5,
    )
    return Decisions(system="shop", parts=[core, sessions],
                     notes=["User, Product, Order and OrderItem share one PostgreSQL database: "
                            "place_order spans them."])


def _c(name: str, kind: TypeKind, **kw: object) -> Column:
    type_kw = {k: kw.pop(k) for k in ("length", "precision", "scale", "values") if k in kw}
    return Column(name=name, type=ColumnType(kind=kind, **type_kw), **kw)


def _ix(name: str, cols: list[str], serves: list[str], reason: str, **kw: object) -> Index:
    return Index(name=name, columns=[IndexColumn(name=c.lstrip("-"), desc=c.startswith("-"))
                                     for c in cols], serves=serves, reason=reason, **kw)


def shop_schema() -> Schema:
    """The relational schema for the core part."""
    ts = {"default": Default(kind=DefaultKind.now)}
    users = Table(
        name="users", entity="User",
        columns=[_c("id", TypeKind.uuid, default=Default(kind=DefaultKind.uuid_v7)),
                 _c("email", TypeKind.string, length=320, sensitive=True),
                 _c("password_hash", TypeKind.string, length=255, sensitive=True),
                 _c("created_at", TypeKind.timestamp, **ts),
                 _c("updated_at", TypeKind.timestamp, **ts)],
        primary_key=["id"],
        key_reason="UUIDv7: ids appear in URLs; time-ordered so inserts stay at the B-tree's end",
        uniques=[Unique(name="users_email_key", columns=["email"])],
        rows=2_000_000, rows_at_horizon=5_488_000,
    )
    products = Table(
        name="products", entity="Product",
        columns=[_c("id", TypeKind.bigint, identity=True),
                 _c("name", TypeKind.string, length=200),
                 _c("price", TypeKind.decimal, precision=19, scale=4),
                 _c("specs", TypeKind.json),
                 _c("created_at", TypeKind.timestamp, **ts),
                 _c("updated_at", TypeKind.timestamp, **ts)],
        primary_key=["id"], key_reason="bigint identity: internal id, 8 bytes, ordered inserts",
        checks=[Check(name="products_price_check", column="price", min=0)],
        rows=500_000, rows_at_horizon=500_000,
    )
    orders = Table(
        name="orders", entity="Order",
        columns=[_c("id", TypeKind.bigint, identity=True),
                 _c("user_id", TypeKind.uuid),
                 _c("status", TypeKind.enum, values=("pending", "paid", "shipped")),
                 _c("total", TypeKind.decimal, precision=19, scale=4),
                 _c("created_at", TypeKind.timestamp, **ts),
                 _c("updated_at", TypeKind.timestamp, **ts)],
        primary_key=["id"], key_reason="bigint identity: internal id, 8 bytes, ordered inserts",
        foreign_keys=[ForeignKey(name="orders_user_id_fkey", columns=["user_id"],
                                 ref_table="users", ref_columns=["id"])],
        checks=[Check(name="orders_status_check", column="status",
                      values=["pending", "paid", "shipped"])],
        indexes=[_ix("orders_user_id_created_at_idx", ["user_id", "-created_at"],
                     ["user_orders"], "equality on user_id then the sort on created_at "
                     "descending: the first 20 rows come straight off the index")],
        rows=10_000_000, rows_at_horizon=25_000_000,
        notes=["total is denormalized from order_items: the order list shows it without a join"],
    )
    items = Table(
        name="order_items", entity="OrderItem",
        columns=[_c("id", TypeKind.bigint, identity=True),
                 _c("order_id", TypeKind.bigint), _c("product_id", TypeKind.bigint),
                 _c("quantity", TypeKind.int),
                 _c("unit_price", TypeKind.decimal, precision=19, scale=4),
                 _c("created_at", TypeKind.timestamp, **ts),
                 _c("updated_at", TypeKind.timestamp, **ts)],
        primary_key=["id"], key_reason="bigint identity",
        foreign_keys=[
            ForeignKey(name="order_items_order_id_fkey", columns=["order_id"],
                       ref_table="orders", ref_columns=["id"], on_delete=OnDelete.cascade,
                       reason="owned: items die with their order"),
            ForeignKey(name="order_items_product_id_fkey", columns=["product_id"],
                       ref_table="products", ref_columns=["id"])],
        indexes=[_ix("order_items_order_id_idx", ["order_id"], [],
                     "foreign key: ON DELETE CASCADE from orders without a scan"),
                 _ix("order_items_product_id_idx", ["product_id"], [],
                     "foreign key: deleting a product checks order_items without a scan")],
        partitioning=Partitioning(kind=PartitionKind.hash, column="order_id", partitions=8,
                                  reason="items are read and deleted by order"),
        rows=30_000_000, rows_at_horizon=75_000_000,
    )
    queries = [
        AccessQuery(pattern="login", table="users",
                    filters=[QueryFilter(column="email", op=FilterOp.eq)],
                    index="users_email_key", rate=50),
        AccessQuery(pattern="user_orders", table="orders",
                    filters=[QueryFilter(column="user_id", op=FilterOp.eq)],
                    order_by=[QueryOrder(column="created_at", desc=True)], limit=20,
                    index="orders_user_id_created_at_idx", rate=200),
        AccessQuery(pattern="product_page", table="products",
                    filters=[QueryFilter(column="id", op=FilterOp.eq)],
                    index="products_pkey", rate=3000),
    ]
    return Schema(name="shop", tables=[users, products, orders, items], queries=queries)


def shop_verify(ok: bool = True) -> VerifyReport:
    """A verification report on SQLite and PostgreSQL; `ok=False` makes user_orders fail."""
    def checks(engine: str) -> list[PatternCheck]:
        return [
            PatternCheck(pattern="login", sql="SELECT * FROM users WHERE email = ?",
                         expected_index="users_email_key", used_indexes=["users_email_key"],
                         access_path="Index Scan using users_email_key", cost=8.44, ok=True),
            PatternCheck(pattern="user_orders",
                         sql="SELECT * FROM orders WHERE user_id = ? ORDER BY created_at DESC "
                             "LIMIT 20",
                         expected_index="orders_user_id_created_at_idx",
                         used_indexes=[] if not ok else ["orders_user_id_created_at_idx"],
                         access_path="Seq Scan on orders" if not ok else
                         "Index Scan using orders_user_id_created_at_idx",
                         cost=1834.0 if not ok else 12.3, ok=ok,
                         problem=None if ok else f"{engine} chose a sequential scan"),
            PatternCheck(pattern="product_page", sql="SELECT * FROM products WHERE id = ?",
                         expected_index="products_pkey", used_indexes=["products_pkey"],
                         access_path="Index Scan using products_pkey", cost=8.29, ok=True),
        ]
    return VerifyReport(engines=[
        EngineReport(engine="sqlite", url="sqlite://:memory:", version="3.40.1", applied=True,
                     tables=4, rows_loaded=4000, checks=checks("sqlite")),
        EngineReport(engine="postgresql", url="postgresql://postgres@127.0.0.1:5432/test",
                     version="15.5", applied=True, tables=4, rows_loaded=4000,
                     checks=checks("postgresql")),
    ])


SHOP_DDL = {
    "postgresql": "CREATE TABLE users (id uuid PRIMARY KEY);\n",
    "mysql": "CREATE TABLE users (id BINARY(16) PRIMARY KEY);\n",
    "sqlite": "CREATE TABLE users (id BLOB PRIMARY KEY);\n",
}
