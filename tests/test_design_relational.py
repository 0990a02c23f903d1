"""Relational design as facts: spec snippet in, tables, columns, keys and indexes out.

Pure logic: no database. The DDL these schemas render to is executed on real engines in
tests/test_render_engines.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dbarch.design.keys import pluralize, table_name
from dbarch.design.relational import design_relational
from dbarch.schema.model import (
    FilterOp,
    IndexMethod,
    OnDelete,
    PartitionKind,
    Schema,
    Table,
    TableRole,
    TypeKind,
)
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_NAMES = ["shop", "saas", "social", "iot", "catalog"]


def all_relational(spec: Spec) -> Decisions:
    """Decisions with one relational part holding every entity."""
    return Decisions(system=spec.system, parts=[Decision(
        part="core", entities=list(spec.entities), paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])


def design(doc: dict[str, Any]) -> Schema:
    """Design a spec given as a dict (YAML-shaped), all entities relational."""
    spec = Spec.model_validate({"system": "t", **doc})
    return design_relational(spec, all_relational(spec))


def load_example(name: str) -> Spec:
    """An example spec from examples/."""
    return Spec.model_validate(YAML(typ="safe").load((EXAMPLES / f"{name}.yaml").read_text()))


def index_of(table: Table, name: str) -> Any:
    return next(i for i in table.indexes if i.name == name)


def index_columns(table: Table) -> list[list[str]]:
    return [i.column_names for i in table.indexes]


SHOP = {
    "entities": {
        "User": {"volume": "2M", "attributes": {
            "email": {"type": "email", "unique": True, "sensitive": True},
            "nickname": {"type": "string", "required": False},
        }},
        "Order": {"volume": "10M", "growth": "5M/year", "public_id": True, "attributes": {
            "status": {"type": "enum", "values": ["pending", "paid"]},
            "total": "money",
            "balance_adjustment": "money",
        }},
        "OrderItem": {"volume": "28M", "append_only": True,
                      "attributes": {"quantity": "int", "unit_price": "money"}},
        "Coupon": {"volume": "1k", "attributes": {"code": "string"}},
    },
    "relationships": [
        {"from": "Order", "to": "User", "kind": "many-to-one"},
        {"from": "OrderItem", "to": "Order", "kind": "many-to-one", "owned": True},
        {"from": "Order", "to": "Coupon", "kind": "many-to-one", "required": False},
    ],
    "access_patterns": [
        {"name": "login", "entity": "User", "where": {"email": "eq"}, "rate": "50/s"},
        {"name": "user_orders", "entity": "Order", "where": {"user": "eq"},
         "order_by": "-created_at", "limit": 20, "rate": "200/s"},
        {"name": "user_paid_orders", "entity": "Order", "where": {"user": "eq"},
         "rate": "20/s"},
        {"name": "order_items", "entity": "OrderItem", "where": {"order": "eq"},
         "rate": "240/s"},
    ],
}


# --------------------------------------------------------------------------- names

@pytest.mark.parametrize(("entity", "table"), [
    ("User", "users"),
    ("Order", "orders"),
    ("OrderItem", "order_items"),
    ("Category", "categories"),
    ("Address", "addresses"),
    ("Key", "keys"),
    ("Media", "media"),
    ("Inventory", "inventory"),
    ("Person", "people"),
    ("Status", "statuses"),
    ("ReadingHourly", "reading_hourly"),
    ("Box", "boxes"),
])
def test_table_names_are_plural_snake_case(entity: str, table: str) -> None:
    assert table_name(entity) == table


def test_pluralize_only_the_last_word() -> None:
    assert pluralize("post_like") == "post_likes"


# --------------------------------------------------------------------------- columns

def test_columns_from_attributes() -> None:
    s = design(SHOP)
    users, orders, items = s.table("users"), s.table("orders"), s.table("order_items")
    facts = [
        # (table, column, kind, length/precision, nullable)
        (users, "email", TypeKind.string, 320, False),
        (users, "nickname", TypeKind.string, 255, True),
        (orders, "total", TypeKind.decimal, 19, False),
        (orders, "status", TypeKind.enum, None, False),
        (orders, "user_id", TypeKind.bigint, None, False),
        (orders, "coupon_id", TypeKind.bigint, None, True),
        (items, "order_id", TypeKind.uuid, None, False),  # the parent's key type
        (items, "quantity", TypeKind.int, None, False),
    ]
    for table, col, kind, size, nullable in facts:
        c = table.column(col)
        assert c.type.kind == kind, (table.name, col)
        assert (c.type.length or c.type.precision) == size, (table.name, col)
        assert c.nullable == nullable, (table.name, col)
    assert orders.column("total").type.scale == 4
    assert users.column("email").sensitive


def test_checks_for_enums_money_quantities_and_emails() -> None:
    s = design(SHOP)
    checks = {(t.name, c.column): c for t in s.tables for c in t.checks}
    assert checks[("orders", "status")].values == ["pending", "paid"]
    assert checks[("orders", "total")].min == 0
    assert ("orders", "balance_adjustment") not in checks  # signed money stays signed
    assert checks[("order_items", "quantity")].min == 0
    assert checks[("users", "email")].not_blank


def test_timestamps_and_append_only() -> None:
    s = design(SHOP)
    assert {"created_at", "updated_at"} <= {c.name for c in s.table("orders").columns}
    items = s.table("order_items")
    assert "updated_at" not in {c.name for c in items.columns}
    assert any("append-only" in n for n in items.notes)
    assert items.column("created_at").default is not None


def test_unique_attribute_becomes_a_named_constraint() -> None:
    users = design(SHOP).table("users")
    assert [(u.name, u.columns) for u in users.uniques] == [("users_email_key", ["email"])]


# --------------------------------------------------------------------------- keys

def test_keys_bigint_identity_by_default_uuid_v7_when_public() -> None:
    s = design(SHOP)
    users, orders = s.table("users"), s.table("orders")
    assert users.column("id").identity and users.column("id").type.kind == TypeKind.bigint
    assert "bigint identity" in users.key_reason
    assert orders.column("id").type.kind == TypeKind.uuid
    assert orders.column("id").default is not None
    assert orders.column("id").default.kind.value == "uuid_v7"
    assert "UUIDv7" in orders.key_reason and "outside the database" in orders.key_reason


def test_several_regions_make_every_key_uuid_v7() -> None:
    s = design({**SHOP, "scale": {"regions": ["eu-west-1", "us-east-1"]}})
    for t in s.tables:
        assert t.column("id").type.kind == TypeKind.uuid, t.name
        assert "regions" in t.key_reason or "outside" in t.key_reason


@pytest.mark.parametrize(("table", "fk", "on_delete"), [
    ("order_items", "order_items_order_id_fkey", OnDelete.cascade),   # owned
    ("orders", "orders_user_id_fkey", OnDelete.restrict),             # required, not owned
    ("orders", "orders_coupon_id_fkey", OnDelete.set_null),           # optional
])
def test_foreign_keys_on_delete_by_ownership(table: str, fk: str, on_delete: OnDelete) -> None:
    t = design(SHOP).table(table)
    f = next(f for f in t.foreign_keys if f.name == fk)
    assert f.on_delete == on_delete
    assert f.reason


MANY_TO_MANY = {
    "entities": {"Project": {"volume": "300k", "attributes": {"name": "string"}},
                 "User": {"volume": "400k", "attributes": {"name": "string"}}},
    "relationships": [{"name": "members", "from": "Project", "to": "User",
                       "kind": "many-to-many", "fanout": 12,
                       "attributes": {"role": {"type": "enum", "values": ["lead", "member"]}}}],
    "access_patterns": [{"name": "project_members", "kind": "traversal", "entity": "Project",
                         "via": "members", "rate": "50/s"}],
}


def test_many_to_many_junction() -> None:
    s = design(MANY_TO_MANY)
    j = s.table("project_members")
    assert j.role == TableRole.junction
    assert j.primary_key == ["project_id", "user_id"]
    assert {c.name for c in j.columns} == {"project_id", "user_id", "role", "created_at"}
    assert {f.ref_table for f in j.foreign_keys} == {"projects", "users"}
    assert all(f.on_delete == OnDelete.cascade for f in j.foreign_keys)
    assert index_columns(j) == [["user_id", "project_id"]]  # the reverse direction
    q = next(q for q in s.queries if q.pattern == "project_members")
    assert (q.table, q.index) == ("project_members", "project_members_pkey")


def test_self_many_to_many_gets_distinct_columns() -> None:
    s = design({
        "entities": {"User": {"volume": "1M"}},
        "relationships": [{"name": "follows", "from": "User", "to": "User",
                           "kind": "many-to-many"}],
    })
    j = s.table("user_follows")
    assert j.primary_key == ["user_id", "follows_user_id"]


def test_big_blob_goes_to_object_storage() -> None:
    s = design({"entities": {"Media": {"volume": "1M", "attributes": {
        "content": {"type": "blob", "avg_size": "450k"},
        "thumb": {"type": "blob", "avg_size": "8k"},
    }}}})
    t = s.table("media")
    names = {c.name for c in t.columns}
    assert "content_key" in names and "content" not in names
    assert t.column("thumb").type.kind == TypeKind.blob
    assert any("object storage" in n for n in t.notes)


def test_list_is_an_array_and_map_is_json() -> None:
    t = design({"entities": {"Task": {"attributes": {
        "labels": {"type": "list", "items": "string"}, "extra": "map"}}}}).table("tasks")
    assert t.column("labels").type.kind == TypeKind.array
    assert t.column("labels").type.items == TypeKind.string
    assert t.column("extra").type.kind == TypeKind.json


# --------------------------------------------------------------------------- indexes

def test_index_equality_then_sort_then_range() -> None:
    s = design({
        "entities": {"Category": {"volume": "1k"},
                     "Product": {"volume": "1M", "attributes": {
                         "price": "money", "status": {"type": "enum", "values": ["a", "b"]}}}},
        "relationships": [{"from": "Product", "to": "Category", "kind": "many-to-one"}],
        "access_patterns": [{"name": "by_price", "entity": "Product",
                             "where": {"status": "eq", "price": "range", "category": "eq"},
                             "order_by": "-created_at", "limit": 48, "rate": "60/s"}],
    })
    t = s.table("products")
    ix = index_of(t, "products_category_id_status_created_at_price_idx")
    # category (1k values) before status (2 values); then the sort; then the range
    assert [(c.name, c.desc) for c in ix.columns] == [
        ("category_id", False), ("status", False), ("created_at", True), ("price", False)]
    assert ix.serves == ["by_price"]
    assert "60/s" in ix.reason


def test_prefix_and_merge_into_longer_index() -> None:
    s = design(SHOP)
    orders = s.table("orders")
    # user_paid_orders (user_id) is a left prefix of user_orders (user_id, created_at DESC):
    # one index serves both, and it is also the foreign key's index.
    ix = index_of(orders, "orders_user_id_created_at_idx")
    assert set(ix.serves) == {"user_orders", "user_paid_orders"}
    assert "orders_user_id_fkey" in ix.reason
    assert ["user_id"] not in index_columns(orders)


def test_every_foreign_key_is_indexed() -> None:
    orders = design(SHOP).table("orders")
    assert ["coupon_id"] in index_columns(orders)


def test_unique_constraint_serves_point_lookup() -> None:
    s = design(SHOP)
    q = next(q for q in s.queries if q.pattern == "login")
    assert q.index == "users_email_key"
    assert s.table("users").indexes == []


def test_covering_only_for_hot_projected_patterns() -> None:
    doc = {
        "entities": {"Product": {"volume": "1M"},
                     "Media": {"volume": "5M", "attributes": {
                         "position": "int", "mime": "string", "alt": "text"}}},
        "relationships": [{"from": "Media", "to": "Product", "kind": "many-to-one"}],
        "access_patterns": [{"name": "product_media", "entity": "Media",
                             "where": {"product": "eq"}, "order_by": "position",
                             "project": ["id", "mime", "position"], "rate": "1500/s"}],
    }
    ix = design(doc).table("media").indexes[0]
    assert ix.include == ["mime"]  # id is in every index already; position is a key column
    doc["access_patterns"][0]["rate"] = "10/s"
    assert design(doc).table("media").indexes[0].include == []


def test_text_search_is_a_gin_index_and_prefix_uses_pattern_ops() -> None:
    s = design({
        "entities": {"Post": {"volume": "1M", "attributes": {
            "body": "text", "slug": {"type": "string", "max_length": 100}}}},
        "access_patterns": [
            {"name": "search", "entity": "Post", "where": {"body": "text"}, "rate": "5/s"},
            {"name": "slug_prefix", "entity": "Post", "where": {"slug": "prefix"},
             "rate": "5/s"},
        ],
    })
    t = s.table("posts")
    gin = index_of(t, "posts_body_search_idx")
    assert gin.method == IndexMethod.gin and gin.serves == ["search"]
    prefix = index_of(t, "posts_slug_pattern_idx")
    assert prefix.columns[0].pattern_ops
    by_pattern = {q.pattern: q for q in s.queries}
    assert by_pattern["search"].filters[0].op == FilterOp.text
    assert by_pattern["search"].index == "posts_body_search_idx"


# --------------------------------------------------------------------------- partitioning

EVENTS = {
    "entities": {"Device": {"volume": "10k"},
                 "Event": {"volume": "200M", "growth": "300M/year", "append_only": True,
                           "attributes": {"kind": "string"}}},
    "relationships": [{"from": "Event", "to": "Device", "kind": "many-to-one", "owned": True}],
    "access_patterns": [{"name": "device_events", "entity": "Event",
                         "where": {"device": "eq", "created_at": "range"},
                         "order_by": "-created_at", "limit": 100, "rate": "20/s"}],
}


def test_large_append_only_table_is_range_partitioned_by_time() -> None:
    t = design(EVENTS).table("events")
    assert t.partitioning is not None
    assert t.partitioning.kind == PartitionKind.range
    assert t.partitioning.column == "created_at"
    # 300M/year = 822k/day: a month is 24.7M rows (under 50M), a year would be 300M
    assert t.partitioning.interval == "month"
    assert t.primary_key == ["id", "created_at"]
    assert "partition column" in t.key_reason
    assert "822k" in t.partitioning.reason


def test_referenced_or_small_tables_are_not_partitioned() -> None:
    doc = {**EVENTS, "entities": {**EVENTS["entities"], "Tag": {"volume": "10"}},
           "relationships": [*EVENTS["relationships"],
                             {"from": "Tag", "to": "Event", "kind": "many-to-one"}]}
    t = design(doc).table("events")
    assert t.partitioning is None
    assert any("refer to it" in n for n in t.notes)
    assert design(EVENTS).table("devices").partitioning is None


# --------------------------------------------------------------------------- queries

def test_one_query_per_read_pattern_naming_its_index() -> None:
    s = design(SHOP)
    q = {q.pattern: q for q in s.queries}
    assert set(q) == {"login", "user_orders", "user_paid_orders", "order_items"}
    uo = q["user_orders"]
    assert (uo.table, uo.limit, uo.rate) == ("orders", 20, 200.0)
    assert [(f.column, f.op) for f in uo.filters] == [("user_id", FilterOp.eq)]
    assert [(o.column, o.desc) for o in uo.order_by] == [("created_at", True)]
    assert uo.index == "orders_user_id_created_at_idx"


def test_aggregate_query_ranges_over_time_and_groups_without_filtering_on_groups() -> None:
    s = design({
        "entities": {"Payment": {"volume": "10M", "attributes": {
            "provider": {"type": "enum", "values": ["a", "b"]}, "amount": "money"}}},
        "access_patterns": [{"name": "revenue", "kind": "aggregate", "entity": "Payment",
                             "where": {"provider": "eq"},
                             "time": "created_at", "window": "1h", "group_by": ["currency"],
                             "measure": "sum(amount)", "rate": "1/min"}],
    } | {"entities": {"Payment": {"volume": "10M", "attributes": {
            "provider": {"type": "enum", "values": ["a", "b"]}, "currency": "string",
            "amount": "money"}}}})
    q = s.queries[0]
    # A group is what the rows are summed by, not a filter: every currency is read.
    assert [(f.column, f.op) for f in q.filters] == [
        ("provider", FilterOp.eq), ("created_at", FilterOp.range)]
    assert (q.group_by, q.aggregate, q.measured) == (["currency"], "sum", "amount")
    assert q.index == "payments_provider_created_at_idx"


# --------------------------------------------------------------------------- properties

def constraint_index_names(t: Table) -> set[str]:
    return {f"{t.name}_pkey", *(u.name for u in t.uniques)}


def assert_no_redundant_index(schema: Schema) -> None:
    for t in schema.tables:
        keyed = [(f"{t.name}_pkey", t.primary_key), *((u.name, u.columns) for u in t.uniques)]
        btrees = [(i.name, [(c.name, c.pattern_ops) for c in i.columns])
                  for i in t.indexes if i.method == IndexMethod.btree]
        for name, cols in btrees:
            for other, ocols in btrees:
                if other != name:
                    assert ocols[: len(cols)] != cols, f"{name} is a left prefix of {other}"
            for other, kcols in keyed:
                plain = [(c, False) for c in kcols]
                assert plain[: len(cols)] != cols, f"{name} duplicates constraint {other}"
        gins = [tuple(i.column_names) for i in t.indexes if i.method != IndexMethod.btree]
        assert len(gins) == len(set(gins)), t.name


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_have_no_redundant_index_and_every_query_has_one(name: str) -> None:
    spec = load_example(name)
    s = design_relational(spec, all_relational(spec))
    assert_no_redundant_index(s)
    names = [n for t in s.tables for n in
             [*(i.name for i in t.indexes), *constraint_index_names(t)]]
    assert len(names) == len(set(names)), "index names are unique across the schema"
    assert all(len(n) <= 63 for n in names)
    by_table = {t.name: t for t in s.tables}
    reads = [p.name for p in spec.access_patterns if p.kind.value != "write"]
    assert sorted(q.pattern for q in s.queries) == sorted(reads)
    for q in s.queries:
        t = by_table[q.table]
        assert q.index in {i.name for i in t.indexes} | constraint_index_names(t), q.pattern
        served = next((i for i in t.indexes if i.name == q.index), None)
        if served is not None:
            assert q.pattern in served.serves
    for t in s.tables:
        for fk in t.foreign_keys:
            leads = [i.column_names for i in t.indexes] + [t.primary_key] + [
                u.columns for u in t.uniques]
            assert any(cols[: len(fk.columns)] == fk.columns for cols in leads), fk.name


def test_only_relational_entities_are_designed() -> None:
    spec = load_example("shop")
    decisions = Decisions(system="shop", parts=[
        Decision(part="core", entities=[e for e in spec.entities if e != "Session"],
                 paradigm=Paradigm.relational, product="postgresql",
                 product_name="PostgreSQL"),
        Decision(part="sessions", entities=["Session"], paradigm=Paradigm.key_value,
                 product="redis", product_name="Redis"),
    ])
    s = design_relational(spec, decisions)
    assert "sessions" not in {t.name for t in s.tables}
    assert "session_get" not in {q.pattern for q in s.queries}


def synthetic_spec(n_entities: int, n_patterns: int) -> Spec:
    """A large spec: a chain of entities, four patterns on each."""
    entities: dict[str, Any] = {}
    rels = []
    patterns = []
    for i in range(n_entities):
        entities[f"Thing{i}"] = {"volume": "5M", "growth": "20%/year", "attributes": {
            "name": {"type": "string", "max_length": 100},
            "status": {"type": "enum", "values": ["a", "b", "c"]},
            "amount": "money", "note": {"type": "text", "required": False},
            "code": {"type": "string", "unique": True}}}
        if i:
            rels.append({"from": f"Thing{i}", "to": f"Thing{i - 1}", "kind": "many-to-one"})
    for j in range(n_patterns):
        i = j % n_entities
        e = f"Thing{i}"
        shape = j // n_entities % 4
        where: dict[str, str] = (
            {"code": "eq"} if shape == 0 else
            {"status": "eq", "amount": "range"} if shape == 1 else
            {f"thing{i - 1}" if i else "status": "eq"} if shape == 2 else
            {"name": "prefix"})
        patterns.append({"name": f"p{j}", "entity": e, "where": where,
                         "order_by": "-created_at" if shape == 2 else [], "rate": "10/s"})
    return Spec.model_validate({"system": "big", "entities": entities, "relationships": rels,
                                "access_patterns": patterns})


def test_500_entities_and_2000_patterns_design_and_render_fast() -> None:
    from dbarch.render.ddl import render_ddl

    spec = synthetic_spec(500, 2000)
    started = time.perf_counter()
    s = design_relational(spec, all_relational(spec))
    for dialect in ("postgresql", "mysql", "sqlite"):
        render_ddl(s, dialect)
    elapsed = time.perf_counter() - started
    assert len(s.tables) == 500 and len(s.queries) == 2000
    assert_no_redundant_index(s)
    assert elapsed < 2.0, f"{elapsed:.2f}s"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_one_pass_fields_equal_the_models_rule(name: str) -> None:
    from dbarch.design.relational import fields_of, references_by_child

    spec = load_example(name)
    refs = references_by_child(spec)
    for entity in spec.entities:
        assert fields_of(spec, entity, refs) == spec.fields_of(entity)


def test_patterns_another_store_serves_get_no_index() -> None:
    spec = Spec.model_validate({"system": "t", **{
        "entities": {"Post": {"volume": "1M", "attributes": {"body": "text"}}},
        "access_patterns": [
            {"name": "search", "entity": "Post", "where": {"body": "text"}, "rate": "50/s"},
            {"name": "recent", "entity": "Post", "where": {"created_at": "range"},
             "rate": "5/s"}]}})
    decisions = Decisions(system="t", parts=[
        Decision(part="core", entities=["Post"], patterns=["recent"],
                 paradigm=Paradigm.relational, product="postgresql", product_name="PostgreSQL"),
        Decision(part="search", entities=["Post"], patterns=["search"],
                 paradigm=Paradigm.search, product="opensearch", product_name="OpenSearch"),
    ])
    s = design_relational(spec, decisions)
    t = s.table("posts")
    assert [q.pattern for q in s.queries] == ["recent"]
    assert all(i.method == IndexMethod.btree for i in t.indexes)
    assert any("search: served by OpenSearch" in n for n in t.notes)


def test_reference_to_an_entity_in_another_store_has_no_foreign_key() -> None:
    spec = Spec.model_validate({"system": "t", **{
        "entities": {"Device": {"volume": "10k"}, "Reading": {"volume": "1B"}},
        "relationships": [{"from": "Device", "to": "Reading", "kind": "one-to-one",
                           "name": "last_reading", "required": False}]}})
    decisions = Decisions(system="t", parts=[
        Decision(part="core", entities=["Device"], paradigm=Paradigm.relational,
                 product="postgresql", product_name="PostgreSQL"),
        Decision(part="ts", entities=["Reading"], paradigm=Paradigm.time_series,
                 product="timescaledb", product_name="TimescaleDB"),
    ])
    t = design_relational(spec, decisions).table("devices")
    col = t.column("last_reading_id")
    assert col.nullable and col.comment and "no foreign key" in col.comment
    assert t.foreign_keys == []
    # one-to-one: the reference is unique
    assert [u.columns for u in t.uniques] == [["last_reading_id"]]


TENANTS = {
    "entities": {"Tenant": {"volume": "8k"}, "Project": {"volume": "300k"},
                 "Task": {"volume": "60M"}, "User": {"volume": "400k"}},
    "relationships": [
        {"from": "Project", "to": "Tenant", "kind": "many-to-one", "owned": True},
        {"from": "Task", "to": "Project", "kind": "many-to-one", "owned": True},
        {"from": "Task", "to": "Tenant", "kind": "many-to-one", "owned": True},
        {"from": "Task", "to": "User", "kind": "many-to-one", "name": "assignee"},
        {"from": "User", "to": "Tenant", "kind": "many-to-one", "owned": True},
    ],
    "access_patterns": [{"name": "board", "entity": "Task",
                         "where": {"tenant": "eq", "project": "eq"}, "rate": "400/s"}],
}


def test_repeated_reference_kept_when_reads_justify_it() -> None:
    notes = design(TENANTS).table("tasks").notes
    assert any(n.startswith("denormalized: tenant_id repeats projects.tenant_id") and
               "400/s" in n and "(project_id, tenant_id) → projects (id, tenant_id)" in n
               for n in notes), notes


def test_repeated_reference_flagged_when_no_read_needs_it() -> None:
    doc = {**TENANTS, "access_patterns": []}
    notes = design(doc).table("tasks").notes
    assert any("candidate to drop for 3NF" in n for n in notes), notes


def test_a_role_link_to_the_same_entity_is_not_a_repetition() -> None:
    # a task's assignee is a User of the same tenant, but not the project's user: no note
    notes = design(TENANTS).table("tasks").notes
    assert not any("assignee_id repeats" in n for n in notes)


def test_junction_name_never_collides_with_an_entity_table() -> None:
    s = design({
        "entities": {"Project": {}, "User": {}, "ProjectMember": {}},
        "relationships": [{"name": "members", "from": "Project", "to": "User",
                           "kind": "many-to-many"}],
    })
    names = [t.name for t in s.tables]
    assert "project_members" in names and "project_members_links" in names
    j = s.table("project_members_links")
    assert all(f.name.startswith("project_members_links_") for f in j.foreign_keys)
    assert_no_redundant_index(s)


def test_no_sort_column_when_the_group_fits_in_the_limit() -> None:
    doc = {
        "entities": {"Site": {"volume": "1k"}, "Device": {"volume": "25k", "attributes": {
            "name": "string", "last_seen_at": "timestamp"}}},
        "relationships": [{"from": "Device", "to": "Site", "kind": "many-to-one",
                           "fanout": 21, "max_fanout": 900}],
        "access_patterns": [
            {"name": "site_devices", "entity": "Device", "where": {"site": "eq"},
             "order_by": "name", "limit": 1000, "rate": "30/s"},
            {"name": "offline", "entity": "Device",
             "where": {"site": "eq", "last_seen_at": "range"}, "rate": "1/s"}],
    }
    t = design(doc).table("devices")
    assert index_columns(t) == [["site_id", "last_seen_at"]]
    assert set(t.indexes[0].serves) == {"site_devices", "offline"}
    assert "at most 900 rows share one site_id" in t.indexes[0].reason
    doc["access_patterns"][0]["limit"] = 50  # now the index order saves reading 850 rows
    assert ["site_id", "name"] in index_columns(design(doc).table("devices"))


def test_filters_on_json_are_not_index_keys() -> None:
    s = design({"entities": {"Doc": {"volume": "1M", "attributes": {
        "meta": "json", "kind": {"type": "enum", "values": ["a", "b"]}}}},
        "access_patterns": [
            {"name": "by_meta", "entity": "Doc", "where": {"meta": "eq"}, "rate": "1/s"},
            {"name": "by_kind_meta", "entity": "Doc", "where": {"kind": "eq", "meta": "eq"},
             "rate": "1/s"}]})
    q = {q.pattern: q for q in s.queries}
    assert q["by_meta"].index is None
    assert q["by_kind_meta"].index == "docs_kind_idx"
    assert index_columns(s.table("docs")) == [["kind"]]


def test_ttl_purge_uses_the_entitys_own_expiry_column() -> None:
    s = design({"entities": {"Session": {"volume": "200k", "ttl": "24h", "attributes": {
        "expires_at": "timestamp"}}}})
    t = s.table("sessions")
    assert index_columns(t) == [["expires_at"]]
    assert any("expires_at < now()" in n for n in t.notes)
    t2 = design({"entities": {"Cart": {"volume": "400k", "ttl": "30d"}}}).table("carts")
    assert index_columns(t2) == [["created_at"]]


def test_write_by_two_references_suggests_a_unique_pair() -> None:
    s = design({
        "entities": {"User": {}, "Post": {}, "PostLike": {}},
        "relationships": [{"from": "PostLike", "to": "Post", "kind": "many-to-one"},
                          {"from": "PostLike", "to": "User", "kind": "many-to-one"}],
        "access_patterns": [{"name": "unlike", "kind": "write", "entity": "PostLike",
                             "operation": "delete", "where": {"user": "eq", "post": "eq"}}],
    })
    notes = s.table("post_likes").notes
    assert any("declare UNIQUE (user_id, post_id)" in n for n in notes), notes


# --------------------------------------------------------------------------- unique groups

STOCK = {
    "entities": {
        "Product": {"volume": "80k", "attributes": {"name": "string"}},
        "Warehouse": {"volume": 3},
        "Inventory": {"volume": "240k", "attributes": {"on_hand": "int"},
                      "unique": [["product", "warehouse"]]},
    },
    "relationships": [
        {"from": "Inventory", "to": "Product", "kind": "many-to-one", "owned": True},
        {"from": "Inventory", "to": "Warehouse", "kind": "many-to-one"},
    ],
}


def stock(*patterns: dict[str, Any], unique: list[list[str]] | None = None) -> Schema:
    """The STOCK snippet with these read patterns on Inventory (and another unique)."""
    doc = {**STOCK, "access_patterns": [{"entity": "Inventory", **p} for p in patterns]}
    if unique is not None:
        doc["entities"] = {**STOCK["entities"], "Inventory": {
            **STOCK["entities"]["Inventory"], "unique": unique}}
    return design(doc)


def query(s: Schema, pattern: str) -> Any:
    return next(q for q in s.queries if q.pattern == pattern)


UNIQUE_GROUPS = [
    # group as written in the spec → the constraint's columns, in that order
    ([["product", "warehouse"]], [("inventory_product_id_warehouse_id_key",
                                   ["product_id", "warehouse_id"])]),
    ([["warehouse", "product"]], [("inventory_warehouse_id_product_id_key",
                                   ["warehouse_id", "product_id"])]),
    ([["warehouse", "on_hand", "created_at"]],
     [("inventory_warehouse_id_on_hand_created_at_key",
       ["warehouse_id", "on_hand", "created_at"])]),
]


@pytest.mark.parametrize(("groups", "expected"), UNIQUE_GROUPS)
def test_unique_group_is_a_named_constraint_on_its_columns(
        groups: list[list[str]], expected: list[tuple[str, list[str]]]) -> None:
    t = stock(unique=groups).table("inventory")
    assert [(u.name, u.columns) for u in t.uniques] == expected
    assert_no_redundant_index(stock(unique=groups))


# read pattern → the index that serves it, and every index of the table
SERVED_BY_UNIQUE = [
    ("equality on the leading column: the constraint, no product_id index",
     [{"name": "stock", "where": {"product": "eq"}}],
     {"stock": "inventory_product_id_warehouse_id_key"}, [["warehouse_id"]]),
    ("both columns in the other order, one an IN list: the constraint still",
     [{"name": "stock", "where": {"warehouse": "eq", "product": "in"}}],
     {"stock": "inventory_product_id_warehouse_id_key"}, [["warehouse_id"]]),
    ("point lookup on the whole group",
     [{"name": "row", "where": {"warehouse": "eq", "product": "eq"}}],
     {"row": "inventory_product_id_warehouse_id_key"}, [["warehouse_id"]]),
    ("the second column alone is not a prefix: an index of its own",
     [{"name": "by_wh", "where": {"warehouse": "eq"}, "order_by": "on_hand", "limit": 10}],
     {"by_wh": "inventory_warehouse_id_on_hand_idx"}, [["warehouse_id", "on_hand"]]),
    ("the constraint's leading columns then a sort on another: a longer index, the prefix "
     "read goes with it",
     [{"name": "stock", "where": {"product": "eq"}},
      {"name": "recent", "where": {"product": "eq"}, "order_by": "-created_at", "limit": 5}],
     {"stock": "inventory_product_id_created_at_idx",
      "recent": "inventory_product_id_created_at_idx"},
     [["product_id", "created_at"], ["warehouse_id"]]),
]


@pytest.mark.parametrize(("patterns", "served", "indexes"),
                         [(p, s, i) for _, p, s, i in SERVED_BY_UNIQUE],
                         ids=[name for name, *_ in SERVED_BY_UNIQUE])
def test_unique_constraint_counts_as_an_index(patterns: list[dict[str, Any]],
                                              served: dict[str, str],
                                              indexes: list[list[str]]) -> None:
    s = stock(*patterns)
    assert {q.pattern: q.index for q in s.queries} == served
    assert index_columns(s.table("inventory")) == indexes
    assert_no_redundant_index(s)


def test_declared_unique_pair_replaces_the_note_suggesting_it() -> None:
    doc: dict[str, Any] = {
        "entities": {"User": {}, "Post": {}, "PostLike": {}},
        "relationships": [{"from": "PostLike", "to": "Post", "kind": "many-to-one"},
                          {"from": "PostLike", "to": "User", "kind": "many-to-one"}],
        "access_patterns": [{"name": "unlike", "kind": "write", "entity": "PostLike",
                             "operation": "delete", "where": {"user": "eq", "post": "eq"}}],
    }
    before = design(doc).table("post_likes")
    assert any("`unique: [[user, post]]` on PostLike" in n for n in before.notes), before.notes
    doc["entities"]["PostLike"] = {"unique": [["post", "user"]]}
    after = design(doc).table("post_likes")
    assert [u.columns for u in after.uniques] == [["post_id", "user_id"]]
    assert not any("UNIQUE" in n for n in after.notes), after.notes
    # the post_id foreign key is served by the constraint; user_id keeps its own index
    assert index_columns(after) == [["user_id"]]


def readings(group: list[str]) -> Table:
    """A 12B-row, 7-day reading table (partitioned by day) with one unique group."""
    return design({
        "entities": {
            "Site": {"volume": 1200},
            "Device": {"volume": "25k"},
            "Reading": {"volume": "12B", "ttl": "7d", "append_only": True,
                        "attributes": {"metric": {"type": "enum", "values": ["t", "p"]},
                                       "value": "float", "recorded_at": "timestamp"},
                        "unique": [group]},
        },
        "relationships": [
            {"from": "Device", "to": "Site", "kind": "many-to-one"},
            {"from": "Reading", "to": "Device", "kind": "many-to-one", "owned": True},
            {"from": "Reading", "to": "Site", "kind": "many-to-one"},
        ],
        "access_patterns": [
            {"name": "series", "entity": "Reading",
             "where": {"device": "eq", "metric": "eq", "recorded_at": "range"}},
            {"name": "site_series", "entity": "Reading",
             "where": {"site": "eq", "device": "eq", "metric": "eq", "recorded_at": "range"}},
        ],
    }).table("readings")


def test_group_with_the_partition_column_keeps_the_table_partitioned() -> None:
    t = readings(["device", "metric", "recorded_at"])
    assert t.partitioning is not None and t.partitioning.column == "recorded_at"
    # append-only and unreferenced: the group is the key (tests/test_natural_keys.py)
    assert t.primary_key == ["device_id", "metric", "recorded_at"]
    t = readings(["device", "metric", "value"])
    assert t.partitioning is None
    assert t.primary_key == ["device_id", "metric", "value"]
    assert any("primary key (device_id, metric, value) must stay unique on its own" in n
               for n in t.notes)


def test_a_column_that_follows_from_another_does_not_keep_a_read_off_the_constraint() -> None:
    # Reading → Site repeats Reading → Device → Site: once device_id is fixed, site_id
    # narrows nothing, so the unique (device_id, metric, recorded_at) serves both reads.
    s = design({
        "entities": {
            "Site": {"volume": 1200},
            "Device": {"volume": "25k"},
            "Reading": {"volume": "50M", "attributes": {
                "metric": {"type": "enum", "values": ["t", "p"]}, "value": "float",
                "recorded_at": "timestamp"}, "unique": [["device", "metric", "recorded_at"]]},
        },
        "relationships": [
            {"from": "Device", "to": "Site", "kind": "many-to-one"},
            {"from": "Reading", "to": "Device", "kind": "many-to-one", "owned": True},
            {"from": "Reading", "to": "Site", "kind": "many-to-one"},
        ],
        "access_patterns": [
            {"name": "series", "entity": "Reading",
             "where": {"device": "eq", "metric": "eq", "recorded_at": "range"}},
            {"name": "site_series", "entity": "Reading",
             "where": {"site": "eq", "device": "eq", "metric": "eq", "recorded_at": "range"}},
        ],
    })
    key = "readings_device_id_metric_recorded_at_key"
    assert {q.pattern: q.index for q in s.queries} == {"series": key, "site_series": key}
    assert index_columns(s.table("readings")) == [["site_id"]]


def test_optional_field_in_a_group_is_noted() -> None:
    t = design({
        "entities": {"Rack": {}, "Tag": {"attributes": {"label": "string"},
                                         "unique": [["rack", "label"]]}},
        "relationships": [{"from": "Tag", "to": "Rack", "kind": "many-to-one",
                           "required": False}],
    }).table("tags")
    assert [u.columns for u in t.uniques] == [["rack_id", "label"]]
    assert any(n.startswith("UNIQUE (rack_id, label) checks only rows where rack_id is set")
               for n in t.notes), t.notes


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_unique_group_is_a_constraint(name: str) -> None:
    spec = load_example(name)
    s = design_relational(spec, all_relational(spec))
    groups = [(e, g) for e, entity in spec.entities.items() for g in entity.unique]
    assert groups, f"{name} declares no unique group"
    for entity, group in groups:
        t = next(t for t in s.tables if t.entity == entity)
        cols = [f"{f}_id" if spec.fields_of(entity)[f] == "reference" else f for f in group]
        # a natural primary key (tests/test_natural_keys.py) enforces the group itself
        assert cols in [t.primary_key, *(u.columns for u in t.uniques)], (entity, group)
        assert not any("declare UNIQUE" in n for n in t.notes), t.notes


@pytest.mark.parametrize(("where", "method"), [
    ({}, IndexMethod.brin),                     # a window over creation time alone: BRIN
    ({"kind": "eq"}, IndexMethod.btree),        # an equality first: a B-tree leads with it
])
def test_a_time_window_aggregate_gets_brin_only_on_creation_time(
    where: dict[str, str], method: IndexMethod
) -> None:
    s = design({
        "entities": {"Event": {"volume": "500M", "append_only": True, "attributes": {
            "kind": {"type": "enum", "values": ["a", "b", "c"]}, "size": "int"}}},
        "access_patterns": [{"name": "per_hour", "kind": "aggregate", "entity": "Event",
                             "where": where, "time": "created_at", "window": "1h",
                             "group_by": ["kind"], "measure": "count", "rate": "1/min"}],
    })
    (q,) = s.queries
    index = index_of(s.table("events"), q.index)
    assert index.method == method
    assert index.column_names[-1] == "created_at"
