"""The document part's verifier: MongoDB validators checked as JSON Schema against sample
documents (valid ones accepted, broken ones refused), BSON sizes measured with the driver's
encoder, index and pattern paths checked; a validator spoiled on purpose fails its check; a
mongodb:// URL where no server answers is reported as an error, never as passed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId

from dbarch import api
from dbarch.design.document import design_part
from dbarch.design.parts import PartDesign
from dbarch.spec.load import load_spec_text
from dbarch.verify.document import (
    SCHEMES,
    query_filter,
    to_json,
    to_json_schema,
    verify_part,
)
from dbarch.verify.parts import verify_parts
from tests.test_design_document import ENTITIES, SPEC, decision

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def cms() -> PartDesign:
    design = api.plan(EXAMPLES / "cms.yaml")
    (part,) = [p for p in design.parts if p.paradigm == "document"]
    return part


@pytest.fixture(scope="module")
def shop() -> PartDesign:
    spec = load_spec_text(SPEC)
    return design_part(spec, decision(spec, ENTITIES))


def failed(part: PartDesign) -> list[str]:
    check = verify_part(part, None)
    assert check.ran and check.error is None, check.error
    return [f"{c.name}: {c.detail}" for c in check.checks if not c.ok]


def spoiled(part: PartDesign, collection: str) -> tuple[PartDesign, dict[str, Any]]:
    """A copy of `part` and the $jsonSchema of one of its collections, to spoil."""
    bad = part.model_copy(deep=True)
    coll = next(c for c in bad.model["collections"] if c["name"] == collection)
    return bad, coll["validator"]["$jsonSchema"]


# --- the translation, as facts ---------------------------------------------------------------

@pytest.mark.parametrize(("bson_type", "value", "ok"), [
    ("objectId", ObjectId("0123456789abcdef01234567"), True),
    ("objectId", "not-an-id", False),
    ("int", 7, True),
    ("int", 2**31, False),
    ("int", "7", False),
    ("long", 2**40, True),
    ("double", 1.5, True),
    ("bool", True, True),
    ("bool", "true", False),
    ("string", "x", True),
    ("string", 1, False),
    ("object", {"a": 1}, True),
    ("array", [1], True),
])
def test_bson_type_translation(bson_type: str, value: Any, ok: bool) -> None:
    from jsonschema import Draft4Validator

    schema = to_json_schema({"bsonType": bson_type})
    assert Draft4Validator(schema).is_valid(to_json(value)) is ok


def test_translation_keeps_the_fields_own_bounds() -> None:
    from jsonschema import Draft4Validator

    schema = to_json_schema({"bsonType": "int", "minimum": 1})
    v = Draft4Validator(schema)
    assert v.is_valid(1) and not v.is_valid(0)


def test_query_filter_from_a_sample() -> None:
    doc = {"_id": 1, "status": "paid", "score": 5, "lines": [{"sku": "A1"}]}
    q = {"filter": {"status": "eq", "score": "range", "lines.sku": "in"}, "sort": []}
    assert query_filter(q, doc) == {"status": "paid", "score": {"$gte": 5},
                                    "lines.sku": {"$in": ["A1"]}}


# --- the offline verification ----------------------------------------------------------------

def test_cms_verifies(cms: PartDesign) -> None:
    check = verify_part(cms, None)
    assert check.ok, [c for c in check.checks if not c.ok]
    names = [c.name for c in check.checks]
    assert names.count("entries: broken documents refused") == 1
    assert len(check.checks) == 10
    assert "bsonType translated" in check.note


def test_every_shape_verifies(shop: PartDesign) -> None:
    """Embedded arrays of subdocuments, buckets, trees, link collections, extended references."""
    assert failed(shop) == []


def test_broken_kinds_are_all_tried(shop: PartDesign) -> None:
    check = verify_part(shop, None)
    detail = next(c.detail for c in check.checks if c.name == "orders: broken documents refused")
    for kind in ("missing required field", "wrong type", "value outside the enum",
                 "array over its bound", "unknown field"):
        assert kind in detail


def test_runs_without_an_engine_url(cms: PartDesign) -> None:
    assert SCHEMES == ()
    (check,) = verify_parts([cms], ["sqlite://"])
    assert check.ran and check.ok


# --- every check can fail ---------------------------------------------------------------------

def test_a_missing_bound_is_caught(cms: PartDesign) -> None:
    bad, schema = spoiled(cms, "entries")
    del schema["properties"]["tags"]["maxItems"]
    assert any("array over its bound: tags" in f for f in failed(bad))


def test_a_dropped_required_field_is_caught(cms: PartDesign) -> None:
    bad, schema = spoiled(cms, "entries")
    schema["required"].remove("slug")
    assert any("missing required field: slug" in f for f in failed(bad))


def test_an_open_validator_is_caught(cms: PartDesign) -> None:
    bad, schema = spoiled(cms, "revisions")
    schema["additionalProperties"] = True
    assert any("unknown field: misspelt_field" in f for f in failed(bad))


def test_a_keyword_mongodb_refuses_is_caught(cms: PartDesign) -> None:
    bad, schema = spoiled(cms, "entries")
    schema["properties"]["published_at"]["format"] = "date-time"
    assert any("not accepted by MongoDB: format" in f for f in failed(bad))


def test_a_wrong_type_in_the_validator_is_caught(cms: PartDesign) -> None:
    bad, schema = spoiled(cms, "entries")
    schema["properties"]["comment_count"]["bsonType"] = "string"
    assert any("valid documents accepted" in f for f in failed(bad))


def test_an_index_on_an_unknown_field_is_caught(cms: PartDesign) -> None:
    bad = copy.deepcopy(cms)
    coll = next(c for c in bad.model["collections"] if c["name"] == "entries")
    coll["indexes"][0]["keys"] = [["slgu", 1]]
    assert any("unknown: slug_1: slgu" in f for f in failed(bad))


def test_a_server_that_does_not_answer_is_an_error(cms: PartDesign) -> None:
    """The mongodb:// path is not exercised here (no server can be installed); a URL where
    nothing listens must fail the verification, not pass it."""
    check = verify_part(cms, "mongodb://127.0.0.1:1/?connectTimeoutMS=500")
    assert check.error is not None and "cannot connect" in check.error
    assert not check.ok


def test_attribute_pattern_documents_verify() -> None:
    spec = load_spec_text("""
system: catalog
entities:
  Item:
    volume: 1M
    attributes: {specs: {type: map, varies: true, max_length: 40}, where: geo}
access_patterns:
  - {name: by_spec, entity: Item, where: {specs: eq}, rate: 50/s}
""")
    assert failed(design_part(spec, decision(spec, ["Item"]))) == []


def test_a_mongodb_url_given_reaches_the_verifier() -> None:
    # the offline checks always run; a mongodb:// URL given with --engine is handed over too
    from dbarch.verify import parts as verify_parts_module

    seen: list[str | None] = []

    class Probe:
        SCHEMES: tuple[str, ...] = ()
        OPTIONAL_SCHEMES = ("mongodb",)

        @staticmethod
        def verify_part(part: object, url: str | None) -> object:
            seen.append(url)
            return verify_parts_module.PartCheck(part="p", paradigm="document", ran=True)

    original = verify_parts_module.verifier_for
    verify_parts_module.verifier_for = lambda name: Probe  # type: ignore[assignment,return-value]
    try:
        from dbarch.design.parts import PartDesign

        part = PartDesign(part="p", paradigm="document", product="mongodb")
        verify_parts_module.verify_parts([part], ["sqlite://", "mongodb://db.example:27017/x"])
        verify_parts_module.verify_parts([part], ["sqlite://"])
    finally:
        verify_parts_module.verifier_for = original
    assert seen == ["mongodb://db.example:27017/x", None]
