"""Reasons built from entity and product names read as English: "an Order", not "a Order"."""

from __future__ import annotations

import re

import pytest

from dbarch.design.keys import a_or_an
from dbarch.design.relational import design_relational
from tests.test_design_relational import (
    EXAMPLE_NAMES,
    all_relational,
    design,
    load_example,
)


@pytest.mark.parametrize(("word", "expected"), [
    ("Order", "an Order"),
    ("OrderItem", "an OrderItem"),
    ("Inventory", "an Inventory"),
    ("OpenSearch", "an OpenSearch"),
    ("Event", "an Event"),
    ("Asset", "an Asset"),
    ("Update", "an Update"),
    ("User", "a User"),
    ("Unit", "a Unit"),
    ("Usage", "a Usage"),
    ("Product", "a Product"),
    ("PostgreSQL", "a PostgreSQL"),
    ("S3-compatible object storage", "an S3-compatible object storage"),
    ("SQL", "an SQL"),
    ("NFS", "an NFS"),
    ("MySQL", "a MySQL"),
    ("Session", "a Session"),
    ("UUID", "a UUID"),
])
def test_indefinite_article_by_sound(word: str, expected: str) -> None:
    assert a_or_an(word) == expected


WRONG_ARTICLE = re.compile(r"\ba [AEIO][A-Za-z]")


def test_foreign_key_reasons_take_an_before_a_vowel() -> None:
    schema = design({
        "entities": {"User": {"volume": "1k", "attributes": {"name": "string"}},
                     "Order": {"volume": "10k", "attributes": {"total": "money"}},
                     "Item": {"volume": "30k", "attributes": {"sku": "string"}}},
        "relationships": [{"from": "Order", "to": "User", "kind": "many-to-one"},
                          {"from": "Item", "to": "Order", "kind": "many-to-one"}],
        "access_patterns": [],
    })
    reasons = {f.name: f.reason for t in schema.tables for f in t.foreign_keys}
    assert reasons["orders_user_id_fkey"] == (
        "a User cannot be deleted while an Order refers to it")
    assert reasons["items_order_id_fkey"] == (
        "an Order cannot be deleted while an Item refers to it")


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_no_reason_in_an_example_schema_says_a_before_a_vowel(name: str) -> None:
    spec = load_example(name)
    schema = design_relational(spec, all_relational(spec))
    reasons = [f.reason for t in schema.tables for f in t.foreign_keys]
    reasons += [i.reason for t in schema.tables for i in t.indexes]
    assert [r for r in reasons if WRONG_ARTICLE.search(r or "")] == []
