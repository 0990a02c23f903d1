"""Database selection: spec snippets in, parts and products out.

Pure logic: no server. Each table row is a small spec built inline and the part / product it
must produce; the five examples are checked against the outcome an architect expects.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dbarch.select import recommend
from dbarch.select.catalogue import catalogue
from dbarch.select.model import Decisions
from dbarch.select.tuning import tuning
from dbarch.spec.load import load_spec
from dbarch.spec.model import Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def spec(extra_entities: dict[str, Any] | None = None, patterns: list[dict] | None = None,
         relationships: list[dict] | None = None, **top: Any) -> Spec:
    """A small shop core (users and orders in one transaction) plus whatever a test adds."""
    body: dict[str, Any] = {
        "system": "t",
        "entities": {
            "User": {"volume": "100k", "attributes": {"email": {"type": "email", "unique": True}}},
            "Order": {"volume": "1M", "attributes": {"total": "money"}},
            "OrderItem": {"volume": "3M", "attributes": {"quantity": "int"}},
            **(extra_entities or {}),
        },
        "relationships": [
            {"from": "Order", "to": "User", "kind": "many-to-one"},
            {"from": "OrderItem", "to": "Order", "kind": "many-to-one", "owned": True},
            *(relationships or []),
        ],
        "access_patterns": [
            {"name": "login", "entity": "User", "where": {"email": "eq"}, "rate": "50/s"},
            {"name": "user_orders", "entity": "Order", "where": {"user": "eq"},
             "order_by": "-created_at", "limit": 20, "rate": "100/s"},
            {"name": "place_order", "kind": "write", "touches": ["Order", "OrderItem"],
             "transaction": True, "rate": "10/s"},
            *(patterns or []),
        ],
    }
    body.update(top)
    return Spec.model_validate(body)


SESSION = {"Session": {"volume": "50k", "ttl": "24h", "attributes": {"data": "string"}}}


def session_get(rate: str) -> list[dict]:
    return [{"name": "session_get", "entity": "Session", "key": "id", "rate": rate}]


def where(d: Decisions, entity: str) -> tuple[str, str]:
    """(paradigm, product) of the part holding `entity`'s records of truth."""
    part = d.part_of(entity)
    return part.paradigm.value, part.product


# --- consolidation: a specialist store must beat its operational cost ------------------------

@pytest.mark.parametrize(
    ("rate", "deployment", "expected"),
    [
        ("5/s", {}, ("relational", "postgresql")),             # 5/s: no reason for a second store
        ("5000/s", {}, ("key-value", "redis")),                 # 5k/s key lookups with a TTL
        ("300/s", {}, ("relational", "postgresql")),            # gain below a new product's cost
        ("300/s", {"existing": ["postgresql", "redis"]}, ("key-value", "redis")),  # team runs it
        ("5/s", {"existing": ["postgresql", "redis"]}, ("relational", "postgresql")),
    ],
)
def test_ttl_key_lookups_split_only_when_they_pay(
        rate: str, deployment: dict, expected: tuple[str, str]) -> None:
    d = recommend(spec(SESSION, session_get(rate), deployment=deployment))
    assert where(d, "Session") == expected
    assert d.parts[0].product == "postgresql"
    if expected[0] == "key-value":
        part = d.part_of("Session")
        assert part.split_gain > part.split_cost > 0
        assert any("gain" in n and f"{part.split_cost:.2f}" in n for n in d.notes)
    else:
        assert len(d.parts) == 1
        assert d.parts[0].entities == ["User", "Order", "OrderItem", "Session"]


def test_entities_bound_by_a_transaction_move_together_or_not_at_all() -> None:
    # Session is hot enough for Redis on its own, but one transaction writes it with Order:
    # moving it would split the transaction across stores.
    pats = [*session_get("5000/s"),
            {"name": "checkout", "kind": "write", "touches": ["Order", "Session"],
             "transaction": True, "rate": "10/s"}]
    d = recommend(spec(SESSION, pats))
    assert where(d, "Session") == ("relational", "postgresql")
    assert where(d, "Order") == ("relational", "postgresql")


# --- product choice: what the team runs, where it is hosted --------------------------------

@pytest.mark.parametrize(
    ("deployment", "primary", "offering"),
    [
        ({}, "postgresql", "managed (Amazon RDS for PostgreSQL (aws)"),
        ({"existing": ["mysql"]}, "mysql", ""),
        ({"existing": ["MariaDB"]}, "mariadb", ""),
        ({"existing": ["postgres"], "hosting": "cloud", "cloud": "aws"}, "postgresql",
         "Amazon RDS for PostgreSQL"),
        ({"existing": ["mysql"], "hosting": "cloud", "cloud": "gcp"}, "mysql",
         "Cloud SQL for MySQL"),
        ({"hosting": "cloud", "cloud": "azure"}, "postgresql",
         "Azure Database for PostgreSQL flexible server"),
        ({"hosting": "self-hosted"}, "postgresql", "self-hosted"),
    ],
)
def test_primary_product_follows_existing_and_cloud(
        deployment: dict, primary: str, offering: str) -> None:
    d = recommend(spec(deployment=deployment))
    assert d.parts[0].paradigm == "relational"
    assert d.parts[0].product == primary
    assert d.parts[0].offering.startswith(offering)


def test_a_capability_overrides_the_existing_product() -> None:
    # Writes in two regions: single-primary PostgreSQL cannot, whatever the team runs.
    d = recommend(spec(deployment={"existing": ["postgresql"]},
                       scale={"regions": ["eu-west-1", "us-east-1"], "multi_region_writes": True}))
    core = d.parts[0]
    assert core.product in {"cockroachdb", "spanner"}
    assert "multi_region_writes" in catalogue().products[core.product].capabilities
    pg = next(r for r in core.rejected if r.product == "postgresql")
    assert "writes accepted in several regions" in pg.reason


@pytest.mark.parametrize(
    ("deployment", "p99", "product", "offering"),
    [
        # aws, no latency target: serverless DynamoDB costs less to run than a Redis cluster
        ({"hosting": "cloud", "cloud": "aws"}, None, "dynamodb", "Amazon DynamoDB"),
        # a 2 ms target is below DynamoDB's typical p99: in-memory Redis
        ({"hosting": "cloud", "cloud": "aws"}, "2ms", "redis", "Amazon ElastiCache"),
        ({"hosting": "cloud", "cloud": "gcp"}, None, "redis", "Memorystore for Redis"),
        ({"hosting": "cloud", "cloud": "azure"}, None, "redis", "Azure Managed Redis"),
        ({"hosting": "self-hosted", "existing": ["redis"]}, None, "redis", "self-hosted"),
    ],
)
def test_key_value_product_per_cloud(
        deployment: dict, p99: str | None, product: str, offering: str) -> None:
    pats = session_get("5000/s")
    if p99:
        pats[0]["p99"] = p99
    d = recommend(spec(SESSION, pats, deployment=deployment))
    part = d.part_of("Session")
    assert (part.product, part.offering.startswith(offering)) == (product, True)
    if deployment.get("cloud") == "gcp":
        dynamo = next(r for r in part.rejected if r.product == "dynamodb")
        assert dynamo.reason == "not offered on gcp; deployment.hosting is cloud"
    if p99:
        dynamo = next(r for r in part.rejected if r.product == "dynamodb")
        assert "above the 2 ms target of session_get" in dynamo.reason


def test_a_self_hosted_team_keeps_hot_sessions_in_postgresql_unless_it_runs_redis() -> None:
    # Operating a new product yourself costs 5 points: 5k/s key lookups gain 5.0, not more.
    d = recommend(spec(SESSION, session_get("5000/s"), deployment={"hosting": "self-hosted"}))
    assert where(d, "Session") == ("relational", "postgresql")
    assert any("Session stays in PostgreSQL: key-value on Redis would gain 5.00" in n
               for n in d.notes)


def test_item_size_limit_rejects_a_product() -> None:
    big = {"Session": {"volume": "50k", "ttl": "24h",
                       "attributes": {"data": {"type": "json", "avg_size": "600k"}}}}
    d = recommend(spec(big, session_get("5000/s"), deployment={"hosting": "cloud", "cloud": "aws"}))
    part = d.part_of("Session")
    assert part.product == "redis"
    dynamo = next(r for r in part.rejected if r.product == "dynamodb")
    assert "400 KiB limit" in dynamo.reason


def test_memcached_cannot_meet_the_availability_target() -> None:
    d = recommend(spec(SESSION, session_get("5000/s"), scale={"availability": 99.95}))
    memcached = next(r for r in d.part_of("Session").rejected if r.product == "memcached")
    assert "automatic failover" in memcached.reason and "replication" in memcached.reason


# --- projections: search, blobs, graph ------------------------------------------------------

PRODUCT = {"Product": {"volume": "2M", "growth": "30%/year", "attributes": {
    "title": {"type": "string", "searchable": True}, "status": "string"}}}


@pytest.mark.parametrize(
    ("rate", "cloud", "search_part"),
    [
        ("20/s", "aws", None),              # PostgreSQL full-text is enough
        ("2000/s", "aws", ("opensearch", "Amazon OpenSearch Service")),
        ("2000/s", "gcp", ("opensearch", "Aiven for OpenSearch")),
    ],
)
def test_text_search_gets_an_engine_only_at_scale(
        rate: str, cloud: str, search_part: tuple[str, str] | None) -> None:
    pats = [{"name": "search", "entity": "Product", "where": {"title": "text", "status": "eq"},
             "rate": rate, "consistency": "eventual"}]
    d = recommend(spec(PRODUCT, pats, deployment={"hosting": "cloud", "cloud": cloud}))
    parts = [p for p in d.parts if p.paradigm == "search"]
    assert where(d, "Product") == ("relational", "postgresql")   # records of truth stay
    if search_part is None:
        assert not parts
        assert any("Full-text search served by PostgreSQL" in r for r in d.parts[0].reasons)
        assert "search" in d.parts[0].patterns
    else:
        (part,) = parts
        assert (part.product, part.offering) == search_part
        assert part.projection_of == "core"
        assert part.fields == {"Product": ["title", "status"]}
        assert part.patterns == ["search"]
        assert "search" not in d.parts[0].patterns


@pytest.mark.parametrize(
    ("avg_size", "deployment", "expected"),
    [
        ("8k", {}, None),                                          # thumbnails: keep in the row
        ("2M", {"hosting": "cloud", "cloud": "aws"}, "Amazon S3"),
        ("2M", {"hosting": "cloud", "cloud": "gcp"}, "Google Cloud Storage"),
        ("2M", {"hosting": "self-hosted"}, "self-hosted (MinIO or Ceph RGW)"),
    ],
)
def test_large_binaries_go_to_object_storage(
        avg_size: str, deployment: dict, expected: str | None) -> None:
    media = {"Media": {"volume": "1M", "attributes": {
        "content": {"type": "blob", "avg_size": avg_size}, "mime": "string"}}}
    d = recommend(spec(media, deployment=deployment))
    blobs = [p for p in d.parts if p.paradigm == "blob"]
    if expected is None:
        assert not blobs
    else:
        (part,) = blobs
        assert part.product == "s3" and part.offering.startswith(expected)
        assert part.fields == {"Media": ["content"]}
        assert where(d, "Media") == ("relational", "postgresql")


FOLLOWS = [{"name": "follows", "from": "User", "to": "User", "kind": "many-to-many",
            "fanout": 150}]


@pytest.mark.parametrize(
    ("hops", "rate", "graph"),
    [
        (2, "50/s", False),      # friends of friends at a modest rate: a self-join
        (2, "200/s", False),
        (3, "500/s", True),      # three fanning-out hops at 500/s: ≈3.4M edges per query
        (4, "100/s", True),
    ],
)
def test_traversals_go_to_a_graph_only_when_deep_and_hot(hops: int, rate: str, graph: bool) -> None:
    pats = [{"name": "suggest", "kind": "traversal", "entity": "User", "via": "follows",
             "hops": hops, "rate": rate, "consistency": "eventual"}]
    d = recommend(spec(patterns=pats, relationships=FOLLOWS))
    parts = [p for p in d.parts if p.paradigm == "graph"]
    assert bool(parts) == graph
    if graph:
        assert parts[0].product == "neo4j"
        assert parts[0].fields == {"User": ["follows"]}
    else:
        assert "suggest" in d.parts[0].patterns


def test_walking_up_a_tree_is_not_a_graph_workload() -> None:
    # Six hops up a parent reference touch six rows, however deep.
    cat = {"Category": {"volume": "12k", "attributes": {"name": "string"}}}
    rels = [{"from": "Category", "to": "Category", "kind": "many-to-one", "name": "parent",
             "fanout": 8}]
    pats = [{"name": "breadcrumbs", "kind": "traversal", "entity": "Category", "via": "parent",
             "hops": 6, "rate": "5000/s"}]
    d = recommend(spec(cat, pats, rels))
    assert [p.paradigm for p in d.parts] == ["relational"]


# --- time series ------------------------------------------------------------------------------

def telemetry(**top: Any) -> Spec:
    ents = {"Device": {"volume": "20k", "attributes": {"serial": {"type": "string",
                                                                  "unique": True}}},
            "Reading": {"volume": "2B", "append_only": True, "ttl": "30d",
                        "attributes": {"value": "float", "at": "timestamp"}}}
    rels = [{"from": "Reading", "to": "Device", "kind": "many-to-one", "owned": True}]
    pats = [{"name": "ingest", "kind": "write", "entity": "Reading", "rate": "10k/s"},
            {"name": "hourly", "kind": "aggregate", "entity": "Reading",
             "where": {"device": "eq", "at": "range"}, "time": "at", "window": "1h",
             "measure": "avg(value)", "rate": "20/s"},
            {"name": "device_by_serial", "entity": "Device", "where": {"serial": "eq"},
             "rate": "10/s"},
            {"name": "site_devices", "entity": "Device", "where": {"serial": "prefix"},
             "rate": "1/s"}]
    return spec(ents, pats, rels, **top)


@pytest.mark.parametrize(
    ("deployment", "product"),
    [
        ({"hosting": "self-hosted", "existing": ["postgresql"]}, "timescaledb"),
        ({"existing": ["postgresql"]}, "timescaledb"),
        # Amazon RDS does not offer the timescaledb extension: partitioned PostgreSQL instead.
        ({"hosting": "cloud", "cloud": "aws", "existing": ["postgresql"]}, "postgresql"),
        ({"hosting": "cloud", "cloud": "azure"}, "timescaledb"),
    ],
)
def test_time_series_stays_next_to_postgresql(deployment: dict, product: str) -> None:
    d = recommend(telemetry(deployment=deployment))
    assert where(d, "Reading") == ("time-series", product)
    assert where(d, "Device") == ("relational", "postgresql")
    part = d.part_of("Reading")
    # Co-located with the primary: the owned relationship and its foreign key survive.
    assert any("keeps its foreign key" in r for r in part.reasons)
    assert part.split_cost <= tuning().cost.extension_of_primary


def test_a_spec_with_nothing_relational_gets_a_specialist_primary() -> None:
    kv = Spec.model_validate({
        "system": "cache",
        "entities": {"Session": {"volume": "1M", "ttl": "1h", "attributes": {"data": "json"}}},
        "access_patterns": [{"name": "get", "entity": "Session", "key": "id",
                             "rate": "5000/s"}]})
    d = recommend(kv)
    assert [(p.paradigm.value, p.product) for p in d.parts] == [("key-value", "redis")]
    assert d.parts[0].reasons[0].startswith("Redis is the primary store for 1 of 1 entities")


def test_a_search_that_must_see_its_own_writes_stays_in_the_primary() -> None:
    pats = [{"name": "search", "entity": "Product", "where": {"title": "text"},
             "rate": "2000/s", "consistency": "strong"}]
    d = recommend(spec(PRODUCT, pats))
    assert [p.paradigm.value for p in d.parts] == ["relational"]
    assert any("consistency: strong" in s.evidence for ps in d.parts[0].scores
               for s in ps.signals)


# --- every decision explains itself -------------------------------------------------------------

ALL = ["shop", "saas", "social", "iot", "catalog"]


@pytest.fixture(scope="module")
def examples() -> dict[str, Decisions]:
    return {name: recommend(load_spec(EXAMPLES / f"{name}.yaml")) for name in ALL}


def test_examples_give_the_expected_architecture(examples: dict[str, Decisions]) -> None:
    layout = {name: [(p.paradigm.value, p.product, tuple(p.entities)) for p in d.parts]
              for name, d in examples.items()}
    shop_core = ("User", "Address", "Category", "Product", "Warehouse", "Inventory", "Cart",
                 "CartItem", "Order", "OrderItem", "Payment")
    assert layout["shop"] == [("relational", "postgresql", shop_core),
                              ("key-value", "redis", ("Session",))]
    assert layout["saas"] == [("relational", "postgresql",
                               ("Tenant", "User", "Project", "Task", "Comment", "AuditLog"))]
    assert layout["social"] == [("relational", "postgresql",
                                 ("User", "Post", "Comment", "PostLike", "Notification"))]
    # aws + RDS: time-series as partitioned PostgreSQL (TimescaleDB is not offered on RDS)
    assert layout["iot"] == [
        ("relational", "postgresql", ("Site", "Device", "AlertRule", "Alert")),
        ("time-series", "postgresql", ("Reading", "ReadingHourly"))]
    # the team runs MySQL: MySQL core; 550 searches/s get a search engine; images to GCS
    assert layout["catalog"] == [
        ("relational", "mysql", ("Category", "Brand", "Product", "Variant", "Media", "Review")),
        ("search", "opensearch", ("Product", "Review")),
        ("blob", "s3", ("Media",))]
    assert examples["catalog"].parts[2].offering.startswith("Google Cloud Storage")


def test_parts_in_the_primary_database_are_its_tables(examples: dict[str, Decisions]) -> None:
    """A time-series part on the primary PostgreSQL is tables of the same schema; Redis,
    a search engine or object storage are not."""
    tables = {name: [p.part for p in d.parts if p.in_primary_schema]
              for name, d in examples.items()}
    assert tables == {"shop": ["core"], "saas": ["core"], "social": ["core"],
                      "iot": ["core", "time-series"], "catalog": ["core"]}
    assert "Reading" in examples["iot"].relational_entities
    assert "Session" not in examples["shop"].relational_entities


def test_social_graph_and_search_stay_in_postgresql_with_numbers(
        examples: dict[str, Decisions]) -> None:
    reasons = " ".join(examples["social"].parts[0].reasons)
    assert re.search(r"Neo4j would gain 0\.\d+, not more than its cost 4\.00", reasons)
    assert "friends_of_friends: 2 hops via follows at 200/s, fanout 150" in " ".join(
        s.evidence for ps in examples["social"].parts[0].scores for s in ps.signals)


@pytest.mark.parametrize("name", ALL)
def test_every_decision_has_reasons_rejections_and_a_tradeoff(
        examples: dict[str, Decisions], name: str) -> None:
    d = examples[name]
    assert d.parts[0].paradigm == "relational"
    for part in d.parts:
        assert len(part.reasons) >= 3
        assert part.tradeoff.startswith(part.product_name)
        paradigms = {r.paradigm for r in part.rejected}
        assert len(paradigms - {part.paradigm}) >= 1, "runner-up paradigm"
        assert any(r.paradigm == part.paradigm and r.product != part.product
                   for r in part.rejected), "runner-up product"
        assert all(r.reason for r in part.rejected)
        scores = [s.score for s in part.scores]
        assert scores == sorted(scores, reverse=True)
        assert part.scores[0].paradigm == part.paradigm
        for s in part.scores:
            for sig in s.signals:
                assert re.search(r"\d", sig.evidence), f"no number in {sig.name}: {sig.evidence}"
        covered = {e for p in d.parts for e in p.entities}
    assert covered == set(load_spec(EXAMPLES / f"{name}.yaml").entities)
    assert d.notes and "Consolidation" in d.notes[0]


def test_recommend_is_deterministic() -> None:
    s = load_spec(EXAMPLES / "catalog.yaml")
    assert recommend(s).model_dump() == recommend(s).model_dump()


def test_500_entities_and_2000_patterns_in_well_under_a_second() -> None:
    ents: dict[str, Any] = {}
    rels: list[dict] = []
    pats: list[dict] = []
    for i in range(500):
        ents[f"E{i}"] = {"volume": "1M", "ttl": "1d" if i % 10 == 0 else None,
                         "attributes": {"name": {"type": "string", "unique": True},
                                        "at": "timestamp"}}
        if i:
            rels.append({"from": f"E{i}", "to": f"E{i // 2}", "kind": "many-to-one",
                         "owned": i % 3 == 0})
        pats += [
            {"name": f"get{i}", "entity": f"E{i}", "key": "id", "rate": f"{i * 10}/s"},
            {"name": f"by_name{i}", "entity": f"E{i}", "where": {"name": "prefix"}},
            {"name": f"recent{i}", "entity": f"E{i}", "where": {"at": "range"},
             "order_by": "-at"},
            {"name": f"write{i}", "kind": "write", "touches": [f"E{i}", f"E{(i + 1) % 500}"],
             "transaction": i % 7 == 0},
        ]
    for e in ents.values():
        if e["ttl"] is None:
            del e["ttl"]
    big = Spec.model_validate({"system": "big", "entities": ents, "relationships": rels,
                               "access_patterns": pats})
    d = recommend(big)  # how fast: bench/design_scale.py
    assert sum(len(p.entities) for p in d.parts if p.projection_of is None) == 500


# --- the catalogue as data ---------------------------------------------------------------------

def test_catalogue_is_consistent() -> None:
    cat = catalogue()
    required = {"postgresql", "mysql", "mariadb", "sqlite", "mongodb", "dynamodb", "redis",
                "memcached", "neo4j", "timescaledb", "influxdb", "elasticsearch", "opensearch",
                "cassandra", "s3"}
    assert required <= set(cat.products)
    for p in cat.products.values():
        assert set(p.capabilities) <= set(cat.capabilities), p.id
        assert all(0 < f <= 1 for f in p.fit.values()), p.id
        assert all(limit.source for limit in p.limits.values()), p.id
        assert p.self_hostable or p.managed, p.id
        assert p.extends is None or p.extends in cat.products
    limits = {pid: {k: v.value for k, v in p.limits.items()} for pid, p in cat.products.items()}
    assert limits["dynamodb"]["max_item_bytes"] == 400 * 1024
    assert limits["dynamodb"]["partition_write_units"] == 1000
    assert limits["dynamodb"]["partition_read_units"] == 3000
    assert limits["mongodb"]["max_item_bytes"] == 16 * 1024 * 1024
    assert limits["redis"]["max_value_bytes"] == 512 * 1024 * 1024
    for caps in tuning().requires.values():
        assert set(caps) <= set(cat.capabilities)
    assert cat.find("Postgres").id == "postgresql" and cat.find("valkey").id == "redis"
    assert cat.find("oracle") is None


def test_unknown_existing_product_is_named() -> None:
    d = recommend(spec(deployment={"existing": ["oracle", "postgresql"]}))
    assert d.parts[0].product == "postgresql"
    assert any("oracle" in r for r in d.parts[0].reasons)
