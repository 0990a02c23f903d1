"""The document (MongoDB) designer: embed or reference per relationship, bounded arrays, the
named schema patterns, validators, ESR indexes, TTL, the shard key and mongodb.js, as facts
about small specs (each a Decision built here), and the cms example placed in MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dbarch import api
from dbarch.design.document import design_part
from dbarch.design.parts import PartDesign, design_parts
from dbarch.select.model import Decision, Paradigm
from dbarch.spec.load import load_spec_text
from dbarch.spec.model import Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

SPEC = """
system: shop
entities:
  Customer:
    volume: 1M
    attributes: {name: string, email: {type: email, unique: true}}
  Order:
    volume: 10M
    growth: 5M/year
    attributes:
      status: {type: enum, values: [pending, paid, shipped]}
      total: money
      tags: {type: list, items: string}
      coupons: {type: list, items: string, max_length: 5}
      score: int
  OrderLine:
    volume: 30M
    attributes: {sku: string, quantity: int, price: money}
  Note:
    volume: 5M
    attributes: {body: text}
  Review:
    volume: 40M
    attributes: {stars: int, body: {type: text, avg_size: 300}}
  Attachment:
    volume: 2M
    attributes: {url: string}
  Reading:
    volume: 500M
    append_only: true
    attributes: {value: float}
  Hold:
    volume: 100k
    ttl: 1h
    attributes: {reason: string}
  Folder:
    volume: 100k
    attributes: {name: string}
  Label:
    volume: 1k
    attributes: {name: string}
relationships:
  - {from: Order, to: Customer, kind: many-to-one, fanout: 10}
  - {from: OrderLine, to: Order, kind: many-to-one, owned: true, fanout: 3, max_fanout: 50}
  - {from: Note, to: Order, kind: many-to-one, owned: true, fanout: 2}
  - {from: Review, to: Order, kind: many-to-one, fanout: 4, max_fanout: 90k}
  - {from: Attachment, to: Order, kind: many-to-one, owned: true, fanout: 2, max_fanout: 4000}
  - {from: Reading, to: Order, kind: many-to-one, fanout: 50, max_fanout: 1M}
  - {from: Hold, to: Order, kind: many-to-one, owned: true, fanout: 1, max_fanout: 3}
  - {from: Folder, to: Folder, kind: many-to-one, name: parent, required: false, fanout: 5}
  - {from: Order, to: Label, kind: many-to-many, fanout: 2, max_fanout: 10}
  - {from: Folder, to: Label, kind: many-to-many, fanout: 2}
access_patterns:
  - {name: order_by_id, entity: Order, key: id, rate: 2000/s}
  - {name: customer_orders, entity: Order, where: {customer: eq}, order_by: -created_at,
     limit: 20, rate: 300/s}
  - {name: orders_by_status, entity: Order, where: {status: eq, created_at: range},
     order_by: -score, rate: 20/s}
  - {name: order_lines, entity: OrderLine, where: {order: eq}, rate: 2000/s}
  - {name: latest_reviews, entity: Review, where: {order: eq}, order_by: -created_at, limit: 10,
     rate: 500/s}
  - {name: order_readings, entity: Reading, where: {order: eq}, order_by: -created_at, rate: 5/s}
  - {name: subtree, kind: traversal, entity: Folder, via: parent, hops: 4, rate: 10/s}
  - {name: place_order, kind: write, touches: [Order, OrderLine], transaction: true, rate: 20/s}
  - {name: add_reading, kind: write, touches: [Reading], rate: 500/s}
"""

ENTITIES = ["Order", "OrderLine", "Note", "Review", "Attachment", "Reading", "Hold", "Folder",
            "Label"]


def decision(spec: Spec, entities: list[str], product: str = "mongodb") -> Decision:
    """The document part a recommendation would hand the designer."""
    members = set(entities)
    patterns = [p.name for p in spec.access_patterns
                if p.entity in members or members & set(p.touches)]
    return Decision(part="documents", entities=entities, patterns=patterns,
                    paradigm=Paradigm.document, product=product,
                    product_name="MongoDB" if product == "mongodb" else product)


@pytest.fixture(scope="module")
def shop() -> PartDesign:
    spec = load_spec_text(SPEC)
    return design_part(spec, decision(spec, ENTITIES))


def link(part: PartDesign, child: str) -> dict[str, Any]:
    return next(lk for lk in part.model["links"] if lk["child"] == child)


def collection(part: PartDesign, name: str) -> dict[str, Any]:
    return next(c for c in part.model["collections"] if c["name"] == name)


def schema_of(part: PartDesign, name: str) -> dict[str, Any]:
    return collection(part, name)["validator"]["$jsonSchema"]  # type: ignore[no-any-return]


def index_keys(part: PartDesign, name: str) -> list[list[list[Any]]]:
    return [ix["keys"] for ix in collection(part, name)["indexes"]]


# --- embed or reference, one relationship each -----------------------------------------------

@pytest.mark.parametrize(("child", "kind", "bound"), [
    ("OrderLine", "embed", 50),          # one-to-few, owned, read with the order
    ("Note", "reference", None),         # would embed, but no max_fanout: unbounded
    ("Review", "subset", 10),            # one-to-squillions, the newest 10 read together
    ("Attachment", "outlier", 100),      # avg 2, max 4,000: embed 100, overflow the rest
    ("Reading", "bucket", 200),          # append-only squillions
    ("Hold", "reference", 3),            # expires: a TTL index deletes documents, not elements
    ("Folder", "tree", 4),               # self-reference, deepest traversal 4 hops
    ("Label", "refs", 10),               # many-to-many, at most 10 per order
])
def test_link(shop: PartDesign, child: str, kind: str, bound: int | None) -> None:
    lk = next(lk for lk in shop.model["links"] if lk["child"] == child
              and (child != "Label" or lk["parent"] == "Order"))
    assert (lk["kind"], lk["bound"]) == (kind, bound), lk["reason"]


def test_many_to_many_without_bound_is_a_link_collection(shop: PartDesign) -> None:
    lk = next(lk for lk in shop.model["links"] if lk["parent"] == "Folder"
              and lk["child"] == "Label")
    assert lk["kind"] == "link"
    keys = index_keys(shop, "folder_labels")
    assert [["folder_id", 1]] in keys and [["label_id", 1]] in keys


def test_embedded_array_is_bounded_in_the_validator(shop: PartDesign) -> None:
    props = schema_of(shop, "orders")["properties"]
    assert props["order_lines"]["maxItems"] == 50
    assert set(props["order_lines"]["items"]["required"]) >= {"_id", "sku", "quantity", "price"}
    assert props["recent_reviews"]["maxItems"] == 10
    assert props["attachments"]["maxItems"] == 100
    assert props["has_more_attachments"]["bsonType"] == "bool"
    assert props["label_ids"] == {"bsonType": "array", "maxItems": 10,
                                  "items": {"bsonType": "objectId"}}
    assert [["label_ids", 1]] in index_keys(shop, "orders")   # multikey: orders of a label
    assert "order_lines" not in {c["name"] for c in shop.model["collections"]}
    assert "reviews" in {c["name"] for c in shop.model["collections"]}   # subset keeps all


def test_unbounded_arrays_are_findings(shop: PartDesign) -> None:
    messages = [f.message for f in shop.findings]
    assert any("Note would be embedded in Order" in m and "no max_fanout" in m
               for m in messages)
    assert any("orders.tags is an array with no bound" in m for m in messages)
    assert not any("coupons" in m for m in messages)
    assert schema_of(shop, "orders")["properties"]["coupons"]["maxItems"] == 5


def test_bucket_tree_and_ttl(shop: PartDesign) -> None:
    bucket = schema_of(shop, "reading_buckets")
    assert bucket["properties"]["items"]["maxItems"] == 200
    assert set(bucket["required"]) >= {"order_id", "bucket_start", "count", "items"}
    assert [["order_id", 1], ["bucket_start", -1]] in index_keys(shop, "reading_buckets") or \
        [["order_id", 1], ["items.created_at", -1]] in index_keys(shop, "reading_buckets")
    folders = schema_of(shop, "folders")["properties"]
    assert folders["ancestors"]["maxItems"] == 4
    assert [["ancestors", 1]] in index_keys(shop, "folders")
    ttl = [ix for ix in collection(shop, "holds")["indexes"]
           if "expireAfterSeconds" in ix["options"]]
    assert [ix["options"]["expireAfterSeconds"] for ix in ttl] == [3600]


def test_esr_order(shop: PartDesign) -> None:
    """Equality first, then the sort, then the range."""
    q = next(q for q in shop.model["queries"] if q["name"] == "orders_by_status")
    ix = next(ix for ix in collection(shop, "orders")["indexes"]
              if ix["options"]["name"] == q["index"])
    assert ix["keys"] == [["status", 1], ["score", -1], ["created_at", 1]]
    customer = next(q for q in shop.model["queries"] if q["name"] == "customer_orders")
    assert customer["index"] == "customer_id_1_created_at_-1"
    lines = next(q for q in shop.model["queries"] if q["name"] == "order_lines")
    assert (lines["index"], lines["embedded"]) == ("_id_", "order_lines")


def test_named_patterns(shop: PartDesign) -> None:
    named = {p["pattern"] for c in shop.model["collections"] for p in c["patterns"]}
    assert {"embedded", "subset", "outlier", "bucket", "tree", "schema versioning",
            "references array", "link collection", "extended reference"} <= named
    for name in ("subset", "outlier", "bucket", "tree", "extended reference"):
        assert f"*{name}*" in shop.section


def test_extended_reference_to_another_database(shop: PartDesign) -> None:
    """Customer stays elsewhere: orders keep its id and a copy of its name, not its email."""
    props = schema_of(shop, "orders")["properties"]
    assert props["customer_id"]["bsonType"] == "long"
    assert list(props["customer"]["properties"]) == ["name"]


def test_transaction_and_sizes(shop: PartDesign) -> None:
    notes = " ".join(shop.model["notes"])
    assert "place_order writes Order, OrderLine in one document of orders" in notes
    orders = collection(shop, "orders")
    assert 0 < orders["avg_bytes"] < orders["max_bytes"] < shop.model["max_document_bytes"]
    assert "| orders | Order |" in shop.section


def test_shard_key(shop: PartDesign) -> None:
    keys = {k["collection"]: k["key"] for k in shop.model["shard"]["keys"]}
    assert keys["reading_buckets"] == {"order_id": 1, "_id": 1}


def test_mongodb_js(shop: PartDesign) -> None:
    js = shop.artifacts["schema/mongodb.js"]
    for c in shop.model["collections"]:
        assert f'db.createCollection("{c["name"]}", ' in js
    assert '"$jsonSchema"' in js and '"validationAction": "error"' in js
    assert 'createIndex({status: 1, score: -1, created_at: 1}' in js
    assert '"expireAfterSeconds": 3600' in js
    assert '// sh.shardCollection("shop.reading_buckets", {"order_id": 1, "_id": 1});' in js


# --- findings where the spec asks for what MongoDB cannot do ---------------------------------

def test_document_over_16_mib_is_an_error() -> None:
    spec = load_spec_text("""
system: big
entities:
  Album: {volume: 1k, attributes: {title: string}}
  Photo: {volume: 100k, attributes: {data: {type: text, avg_size: 400k}}}
relationships:
  - {from: Photo, to: Album, kind: many-to-one, owned: true, fanout: 20, max_fanout: 60}
access_patterns:
  - {name: album, entity: Album, key: id, rate: 10/s}
""")
    part = design_part(spec, decision(spec, ["Album", "Photo"]))
    errors = [f.message for f in part.findings if f.severity == "error"]
    assert any("albums: the largest document is ≈27.5 MiB, above MongoDB's 16 MiB limit" in m
               for m in errors), errors


def test_transaction_across_databases_is_an_error() -> None:
    spec = load_spec_text("""
system: split
entities:
  Account: {volume: 1k, attributes: {balance: money}}
  Event: {volume: 1M, attributes: {payload: json}}
access_patterns:
  - {name: event, entity: Event, key: id, rate: 10/s}
  - {name: charge, kind: write, touches: [Event, Account], transaction: true, rate: 1/s}
""")
    part = design_part(spec, decision(spec, ["Event"]))
    assert [f.pattern for f in part.findings if f.severity == "error"] == ["charge"]


def test_other_product_is_said() -> None:
    spec = load_spec_text(SPEC)
    part = design_part(spec, decision(spec, ["Hold"], product="postgresql"))
    assert any(f.severity == "info" and "postgresql" in f.message for f in part.findings)


# --- the example ---------------------------------------------------------------------------

def test_cms_places_entries_in_mongodb() -> None:
    design = api.plan(EXAMPLES / "cms.yaml")
    (doc,) = [d for d in design.decisions.parts if d.paradigm == Paradigm.document]
    assert (doc.product, doc.entities) == ("mongodb", ["Entry", "Revision"])
    (part,) = [p for p in design_parts(design.spec, design.decisions)
               if p.paradigm == "document"]
    named = {p["pattern"] for c in part.model["collections"] for p in c["patterns"]}
    assert {"polymorphic", "computed", "schema versioning"} <= named
    assert link(part, "Revision")["kind"] == "reference"   # expires after 90 days
    assert part.model["shard"]["needed"]
    assert part.model["shard"]["keys"][0]["key"] == {"slug": "hashed"}
    assert "≤ 20" in part.section and "entries.tags" in part.section
    assert part.findings == []


def test_cms_without_mongodb_in_house_stays_relational() -> None:
    """The split pays only because the team already runs MongoDB (cost 1.5, not 4)."""
    text = (EXAMPLES / "cms.yaml").read_text()
    assert "existing: [postgresql, mongodb]" in text
    spec = load_spec_text(text.replace("existing: [postgresql, mongodb]", "existing: [postgresql]"))
    assert [d.product for d in api.recommend(spec).parts] == ["postgresql"]


def test_attribute_and_computed_patterns() -> None:
    """A varying map that reads filter on becomes [{k, v}] under one index; a windowed
    aggregate is kept as a summary on write."""
    spec = load_spec_text("""
system: catalog
entities:
  Item:
    volume: 1M
    attributes:
      specs: {type: map, varies: true, max_length: 40}
      price: money
access_patterns:
  - {name: by_spec, entity: Item, where: {specs: eq}, rate: 50/s}
  - {name: daily_items, kind: aggregate, entity: Item, time: created_at, window: 1d,
     measure: count, rate: 1/s}
""")
    part = design_part(spec, decision(spec, ["Item"]))
    named = {p["pattern"] for p in collection(part, "items")["patterns"]}
    assert {"attribute", "computed"} <= named
    specs = schema_of(part, "items")["properties"]["specs"]
    assert (specs["bsonType"], specs["maxItems"]) == ("array", 40)
    assert [["specs.k", 1], ["specs.v", 1]] in index_keys(part, "items")
    assert [["created_at", 1]] in index_keys(part, "items")
