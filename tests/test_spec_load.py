"""Loading specs: a valid spec loads; every bad one is refused with EVERY problem, each located.

Tables of facts: a YAML input (a fixture file or inline text) → the problems expected, each as
(line, column, path, a fragment of the message, the hint). Lines and columns are 1-based.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from dbarch.errors import InputError, Problem
from dbarch.spec import Spec, load_spec, load_spec_text, spec_json_schema
from dbarch.spec.located import LIBYAML, LocatedMap, LocatedSeq, parse
from dbarch.spec.model import AttrType, Op, PatternKind, RelKind

SPECS = Path(__file__).parent / "fixtures" / "specs"
Expected = tuple[int, int, str, str, str | None]


def problems_of(text: str, filename: str = "spec.yaml") -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_spec_text(text, filename)
    return caught.value.problems


def assert_problems(problems: list[Problem], expected: list[Expected]) -> None:
    """Exactly the expected problems, in order: place, path and hint exact, message contains."""
    got = [(p.line, p.column, p.path) for p in problems]
    assert got == [(line, col, path) for line, col, path, _, _ in expected], "\n".join(
        str(p) for p in problems
    )
    for problem, (_, _, _, fragment, hint) in zip(problems, expected, strict=True):
        assert fragment in problem.message, str(problem)
        assert problem.hint == hint, str(problem)


# --- fixture files: each kind of error, and several at once -----------------------------------

TYPES = ("string, text, int, bigint, decimal, money, float, bool, date, timestamp, uuid, email, "
         "enum, json, map, list, blob, geo")

FIXTURES: dict[str, list[Expected]] = {
    "unknown_key": [
        (4, 5, "entities.User.volumn", "unknown key 'volumn'", "did you mean 'volume'?"),
    ],
    "bad_enum": [
        (6, 15, "entities.User.attributes.email.type",
         f"expected one of: {TYPES}; got 'emial'", "did you mean 'email'?"),
        (7, 13, "entities.User.attributes.name.type", "got 'strng'", "did you mean 'string'?"),
        (8, 15, "entities.User.attributes.active.type", "got 'boolean'", "did you mean 'bool'?"),
    ],
    "indentation": [
        (5, 16, "", "YAML syntax: unexpected ':'",
         "quote a value that contains ': ', or check the indentation of this line"),
    ],
    "tab": [(3, 1, "", "YAML syntax: a tab character", "YAML indents with spaces, never tabs")],
    "duplicate_keys": [
        (7, 7, "entities.User.attributes.email", "duplicate key 'email' (first at line 6)",
         "a key may appear once in a mapping; the first one is used, merge the two"),
        (9, 3, "entities.User", "duplicate key 'User' (first at line 3)",
         "a key may appear once in a mapping; the first one is used, merge the two"),
    ],
    "empty": [(1, 1, "", "the spec is empty",
               "a spec needs at least `system: name` and `entities:`")],
    "top_list": [(1, 1, "", "expected a mapping (system, entities, …) at the top, got a list",
                  "a spec starts with `system: name` and `entities:`")],
    "many_errors": [
        (3, 17, "scale.availability", "expected a number < 100, got 100", None),
        (4, 3, "scale.horizon", "unknown key 'horizon'", "did you mean 'horizon_years'?"),
        (7, 13, "entities.User.volume", "expected a count such as 500k or 2M, got 'lots'", None),
        (8, 13, "entities.User.growth", "expected growth such as 40%/year", None),
        (10, 7, "entities.User.attributes.status", "an enum needs its values", None),
        (11, 7, "entities.User.attributes.bad-name", "'bad-name' is not a valid name",
         "e.g. 'bad_name'"),
        (12, 37, "entities.User.attributes.nick.default",
         "expected text, a number or true/false, got a list", None),
        (14, 5, "relationships[0].kind", "missing required key 'kind'",
         "one of: one-to-one, one-to-many, many-to-one, many-to-many"),
        (16, 48, "access_patterns[0].where.email",
         "expected one of: eq, in, range, prefix, text; got 'equals'", "did you mean 'eq'?"),
        (16, 63, "access_patterns[0].rate", "expected a rate such as 200/s", None),
        (16, 75, "access_patterns[0].p99", "expected a duration such as 20ms", None),
        (17, 5, "access_patterns[1]", "a write names the entities it changes", None),
    ],
    "cross_references": [
        (13, 23, "relationships[0].to", "to 'Usr' is not an entity of this spec",
         "did you mean 'User'?"),
        (14, 5, "relationships[1]",
         "relationship Order → User is the field 'user' of Order, and Order already has an "
         "attribute 'user'",
         "name the relationship for its role (e.g. name: user_ref) or drop the attribute: "
         "the reference already is a field"),
        (18, 13, "access_patterns[0].where.emial",
         "pattern 'login': where 'emial' is not a field of User", "did you mean 'email'?"),
        (18, 31, "access_patterns[0].where.score",
         "text search needs a string or text attribute; User.score is an int attribute",
         "use eq, in, range or prefix here, or search a text attribute"),
        (19, 15, "access_patterns[0].order_by", "order_by 'created' is not a field of User",
         "did you mean 'created_at'?"),
        (20, 22, "access_patterns[0].project[1]", "project 'nme' is not a field of User",
         "fields of User: id, created_at, updated_at, email, score"),
        (21, 12, "access_patterns[1].name", "duplicate access pattern name 'login'",
         "each pattern needs its own name: it labels indexes and reports"),
        (21, 27, "access_patterns[1].entity", "entity 'Usr' is not an entity",
         "did you mean 'User'?"),
        (22, 49, "access_patterns[2].touches[1]", "touches 'Ordr' is not an entity",
         "did you mean 'Order'?"),
        (23, 59, "access_patterns[3].time",
         "an aggregate windows over a timestamp or date; Order.total is a money attribute",
         "timestamps of Order: created_at, updated_at, placed"),
        (23, 85, "access_patterns[3].group_by[1]", "group_by 'stauts' is not a field of Order",
         "fields of Order: id, created_at, updated_at, usr, user, total, placed"),
        (24, 59, "access_patterns[4].via", "via 'orders' is not a relationship of User",
         "did you mean 'Order'?"),
        (25, 40, "access_patterns[5].key", "key 'uid' is not a field of Order",
         "did you mean 'id'?"),
    ],
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_broken_fixture_reports_every_problem_located(name: str) -> None:
    path = SPECS / "broken" / f"{name}.yaml"
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert {p.file for p in caught.value.problems} == {str(path)}
    assert_problems(caught.value.problems, FIXTURES[name])


def test_every_broken_fixture_is_in_the_table() -> None:
    assert {p.stem for p in (SPECS / "broken").glob("*.yaml")} == set(FIXTURES)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_pure_python_parser_locates_the_same(name: str) -> None:
    # Without libyaml the loader runs ruamel's pure-Python parser: same data, same positions.
    text = (SPECS / "broken" / f"{name}.yaml").read_text()
    try:
        fast, fast_dups = parse(text, "f")
    except InputError as error:
        with pytest.raises(InputError) as pure_error:
            parse(text, "f", pure=True)
        assert [(p.line, p.column) for p in pure_error.value.problems] == [
            (p.line, p.column) for p in error.problems
        ]
        return
    pure, pure_dups = parse(text, "f", pure=True)
    assert fast == pure
    assert [(d.key, d.at) for d in fast_dups] == [(d.key, d.at) for d in pure_dups]
    assert positions(fast) == positions(pure)


def test_pure_python_parser_reads_the_valid_spec_alike() -> None:
    text = (SPECS / "valid" / "shop.yaml").read_text()
    fast, _ = parse(text, "f")
    pure, _ = parse(text, "f", pure=True)
    assert fast == pure and positions(fast) == positions(pure)


def test_libyaml_is_installed() -> None:
    # ruamel.yaml.clib is a dependency: without it every load is about 5x slower (pure Python).
    assert LIBYAML, "ruamel.yaml.clib is missing: pip install -e . should bring it"


def positions(node: object) -> list[object]:
    if isinstance(node, LocatedMap):
        return [node.at, node.keys_at, node.values_at, *(positions(v) for v in node.values())]
    if isinstance(node, LocatedSeq):
        return [node.at, node.items_at, *(positions(v) for v in node)]
    return []


# --- inline cases: one problem each -----------------------------------------------------------

HEAD = "system: shop\nentities:\n  User:\n    attributes:\n      email: email\n      age: int\n"
SHOP = HEAD + """  Order:
    attributes:
      total: money
      placed: date
relationships:
  - {from: Order, to: User, kind: many-to-one}
"""

STOCK = """system: shop
entities:
  Product: {attributes: {sku: {type: string, unique: true}}}
  Warehouse: {}
  Inventory:
    attributes: {on_hand: int, meta: json, code: {type: string, unique: true}}
    unique: %s
relationships:
  - {from: Inventory, to: Product, kind: many-to-one}
  - {from: Inventory, to: Warehouse, kind: many-to-one}
  - {from: Inventory, to: Product, kind: one-to-one, name: label_of}
"""

INLINE: list[tuple[str, str, list[Expected]]] = [
    ("top-level typo", "system: s\nentites: {}\n", [
        (1, 1, "entities", "missing required key 'entities'", None),
        (2, 1, "entites", "unknown key 'entites'", "did you mean 'entities'?"),
    ]),
    ("no close key: list the valid ones", "system: s\nentities: {}\nzzz: 1\n", [
        (3, 1, "zzz", "unknown key 'zzz'",
         "valid keys: system, description, scale, deployment, compliance, entities, "
         "relationships, access_patterns"),
    ]),
    ("alias key of a relationship", SHOP.replace("{from: Order", "{form: Order"), [
        (12, 5, "relationships[0].from", "missing required key 'from'", None),
        (12, 6, "relationships[0].form", "unknown key 'form'", "did you mean 'from'?"),
    ]),
    ("relationship kind from an ORM", SHOP.replace("many-to-one", "belongs_to"), [
        (12, 35, "relationships[0].kind", "expected one of: one-to-one, one-to-many, "
         "many-to-one, many-to-many; got 'belongs_to'", "did you mean 'many-to-one'?"),
    ]),
    ("bad system name", "system: my shop\nentities: {}\n", [
        (1, 9, "system", "'my shop' is not a valid system name", None),
    ]),
    ("pattern name with a space", "system: s\nentities: {A: {}}\naccess_patterns:\n"
     "  - {name: find user, entity: A, key: id}\n", [
        (4, 12, "access_patterns[0].name", "'find user' is not a valid name",
         "e.g. 'find_user'"),
    ]),
    ("entity not a mapping", "system: s\nentities:\n  User: [a, b]\n", [
        (3, 9, "entities.User", "expected a mapping (volume, growth, ttl, append_only, …), "
         "got a list", "write `key: value` lines indented under this one, or {key: value, …}"),
    ]),
    ("ttl garbage", "system: s\nentities:\n  S: {ttl: forever}\n", [
        (3, 12, "entities.S.ttl", "expected a duration such as 20ms, 24h or 30d, got 'forever'",
         None),
    ]),
    ("items only for list", HEAD + "      tags: {type: string, items: string}\n", [
        (7, 7, "entities.User.attributes.tags", "items is only for type list", None),
    ]),
    ("a where field must be a name", SHOP + "access_patterns:\n"
     "  - {name: p, entity: User, where: {1: eq}}\n", [
        (14, 37, "access_patterns[0].where[1]", "expected a name (text) as the key, got 1",
         None),
    ]),
    ("limit must be positive", SHOP + "access_patterns:\n"
     "  - {name: p, entity: User, key: id, limit: 0}\n", [
        (14, 45, "access_patterns[0].limit", "expected a number > 0, got 0", None),
    ]),
    ("order_by given as one name", SHOP + "access_patterns:\n"
     "  - {name: p, entity: Order, order_by: -placd}\n", [
        (14, 40, "access_patterns[0].order_by", "order_by 'placd' is not a field of Order",
         "did you mean 'placed'?"),
    ]),
    ("text search on a reference", SHOP + "access_patterns:\n"
     "  - {name: p, entity: Order, where: {user: text}}\n", [
        (14, 44, "access_patterns[0].where.user",
         "text search needs a string or text attribute; Order.user is a reference",
         "use eq, in, range or prefix here, or search a text attribute"),
    ]),
    ("aggregate over a reference", SHOP + "access_patterns:\n"
     "  - {name: p, kind: aggregate, entity: Order, time: user}\n", [
        (14, 53, "access_patterns[0].time",
         "an aggregate windows over a timestamp or date; Order.user is a reference",
         "timestamps of Order: created_at, updated_at, placed"),
    ]),
    ("aggregate over a builtin timestamp is fine, over id is not", SHOP + "access_patterns:\n"
     "  - {name: p, kind: aggregate, entity: Order, time: created_at}\n"
     "  - {name: q, kind: aggregate, entity: Order, time: id}\n", [
        (15, 53, "access_patterns[1].time", "Order.id is a builtin",
         "timestamps of Order: created_at, updated_at, placed"),
    ]),
    ("write names an unknown entity once", SHOP + "access_patterns:\n"
     "  - {name: w, kind: write, entity: Ordr}\n", [
        (14, 36, "access_patterns[0].entity", "entity 'Ordr' is not an entity",
         "did you mean 'Order'?"),
    ]),
    ("via by field name, by entity, unknown", SHOP + "access_patterns:\n"
     "  - {name: a, kind: traversal, entity: Order, via: user}\n"
     "  - {name: b, kind: traversal, entity: User, via: Order}\n"
     "  - {name: c, kind: traversal, entity: User, via: wishes}\n", [
        (16, 51, "access_patterns[2].via", "via 'wishes' is not a relationship of User",
         "relationships of User: Order, user"),
    ]),
    ("via with no relationship at all", HEAD + "access_patterns:\n"
     "  - {name: t, kind: traversal, entity: User, via: friends}\n", [
        (8, 51, "access_patterns[0].via", "via 'friends' is not a relationship of User",
         "declare a relationship of User under relationships first"),
    ]),
    ("via by entity when two relationships link them", SHOP.replace(
        "  - {from: Order, to: User, kind: many-to-one}\n",
        "  - {from: Order, to: User, kind: many-to-one, name: buyer}\n"
        "  - {from: Order, to: User, kind: many-to-one, name: seller}\n")
     + "access_patterns:\n"
     "  - {name: sold, kind: traversal, entity: User, via: seller}\n"
     "  - {name: any, kind: traversal, entity: User, via: Order}\n", [
        (16, 53, "access_patterns[1].via",
         "via 'Order' is ambiguous: User and Order are linked by 2 relationships",
         "name one by its field name: 'buyer', 'seller'"),
    ]),
    ("relationship name collides with an attribute", SHOP.replace(
        "kind: many-to-one}", "kind: many-to-one, name: total}"), [
        (12, 54, "relationships[0].name",
         "relationship Order → User is the field 'total' of Order, and Order already has an "
         "attribute 'total'", "rename the attribute or the relationship"),
    ]),
    ("a relationship named like a builtin field", SHOP.replace(
        "kind: many-to-one}", "kind: many-to-one, name: created_at}"), [
        (12, 54, "relationships[0].name", "would be the field 'created_at' of Order, which "
         "every entity has already", "name it for its role, or drop the name to get 'user'"),
    ]),
    ("a many-to-many named like an attribute", SHOP
     + "  - {from: User, to: Order, kind: many-to-many, name: age}\n", [
        (13, 55, "relationships[1].name",
         "relationship User ↔ Order is called 'age', and User has an attribute 'age'",
         "rename the attribute or the relationship"),
    ]),
    ("two references with one name", SHOP + "  - {from: Order, to: User, kind: many-to-one}\n", [
        (13, 5, "relationships[1]", "Order already has a reference called 'user' "
         "(relationships[0])",
         "give each a name for its role (e.g. name: author, name: reviewer)"),
    ]),
    ("measure names a field", SHOP + "access_patterns:\n"
     "  - {name: r, kind: aggregate, entity: Order, time: placed, measure: sum(totl)}\n"
     "  - {name: n, kind: aggregate, entity: Order, time: placed, measure: count(*)}\n", [
        (14, 70, "access_patterns[0].measure", "measure 'totl' is not a field of Order",
         "did you mean 'total'?"),
    ]),
    ("patterns written as a mapping", "system: s\nentities: {A: {}}\n"
     "access_patterns:\n  login: {entity: A, key: id}\n", [
        (4, 3, "access_patterns", "expected a list, got a mapping",
         "start each item with '- ', e.g. '- name: …'"),
    ]),
    ("entities written as a list", "system: s\nentities:\n  - User: {}\n", [
        (3, 3, "entities", "expected a mapping, got a list",
         "write `name: …` lines here, without '- '"),
    ]),
    ("an empty section is shown at its key", "system: s\nentities:\n", [
        (2, 1, "entities", "expected a mapping, got nothing", None),
    ]),
    ("a number as a top-level key", "system: s\nentities: {A: {}}\n7: x\n", [
        (3, 1, "[7]", "unknown key 7: keys are names",
         "valid keys: system, description, scale, deployment, compliance, entities, "
         "relationships, access_patterns"),
    ]),
    ("a negative count", "system: s\nentities: {A: {volume: -5}}\n", [
        (2, 24, "entities.A.volume", "got -5: it must be a finite number >= 0", None),
    ]),
    ("one-to-many is read from the child side", SHOP.replace(
        "{from: Order, to: User, kind: many-to-one}", "{from: User, to: Ordr, kind: one-to-many}"
    ), [
        (12, 22, "relationships[0].to", "to 'Ordr' is not an entity", "did you mean 'Order'?"),
    ]),
    # --- unique groups: line 7 is `    unique: …`, its list opens at column 13
    ("a unique group names a field that is not there", STOCK % "[[prodcut, warehouse]]", [
        (7, 15, "entities.Inventory.unique[0][0]",
         "unique group of Inventory: 'prodcut' is not a field of Inventory",
         "did you mean 'product'?"),
    ]),
    ("an empty unique group", STOCK % "[[]]", [
        (7, 14, "entities.Inventory.unique[0]", "unique group of Inventory: it names no field",
         "list two or more fields that are unique together, e.g. [product, warehouse]"),
    ]),
    ("a one-field group repeats the attribute's unique: true", STOCK % "[[code]]", [
        (7, 14, "entities.Inventory.unique[0]", "it has one field, 'code'; a group is for two "
         "or more fields together", "drop the group: code is declared unique: true"),
    ]),
    ("a one-field group on an attribute belongs on the attribute", STOCK % "[[on_hand]]", [
        (7, 14, "entities.Inventory.unique[0]", "it has one field, 'on_hand'",
         "write `unique: true` on the attribute on_hand"),
    ]),
    ("a one-field group on a reference is a one-to-one", STOCK % "[[product]]", [
        (7, 14, "entities.Inventory.unique[0]", "it has one field, 'product'",
         "declare the relationship behind product one-to-one"),
    ]),
    ("a one-field group on id", STOCK % "[[id]]", [
        (7, 14, "entities.Inventory.unique[0]", "it has one field, 'id'",
         "drop the group: id is the primary key"),
    ]),
    ("a field twice in a group", STOCK % "[[product, product]]", [
        (7, 24, "entities.Inventory.unique[0][1]", "'product' is named twice", "name it once"),
    ]),
    ("a json attribute in a group", STOCK % "[[product, meta]]", [
        (7, 24, "entities.Inventory.unique[0][1]", "Inventory.meta is a json attribute, which "
         "no engine compares whole in a unique index",
         "make it unique through a scalar attribute (a hash, a code)"),
    ]),
    ("updated_at in a group", STOCK % "[[product, updated_at]]", [
        (7, 24, "entities.Inventory.unique[0][1]", "updated_at changes on every write",
         "name the fields that identify the row"),
    ]),
    ("a group with the primary key in it", STOCK % "[[product, id]]", [
        (7, 24, "entities.Inventory.unique[0][1]",
         "Inventory.id is the primary key, so the group is unique already",
         "drop the group, or drop the field from it"),
    ]),
    ("a group with a one-to-one reference in it", STOCK % "[[label_of, on_hand]]", [
        (7, 15, "entities.Inventory.unique[0][0]",
         "Inventory.label_of is a one-to-one reference, so the group is unique already",
         "drop the group, or drop the field from it"),
    ]),
    ("a group with a unique attribute in it: per-tenant uniqueness left global",
     STOCK % "[[product, code]]", [
        (7, 24, "entities.Inventory.unique[0][1]",
         "Inventory.code is declared unique: true, so the group is unique already",
         "drop the group, or drop `unique: true` from the attribute if it is unique only "
         "together with the others"),
    ]),
    ("the same group twice, in another order",
     STOCK % "[[product, warehouse], [warehouse, product]]", [
        (7, 36, "entities.Inventory.unique[1]",
         "unique[1] names the same fields as unique[0] (product, warehouse)",
         "drop this group: one constraint is enough"),
    ]),
    ("a group implied by a smaller one",
     STOCK % "[[product, warehouse], [warehouse, on_hand, product]]", [
        (7, 36, "entities.Inventory.unique[1]",
         "unique[1] is implied by unique[0] (product, warehouse)",
         "drop this group: a superset of unique fields is unique already"),
    ]),
    ("one group written without its own brackets", STOCK % "[product, warehouse]", [
        (7, 5, "entities.Inventory.unique", "unique is a list of groups, each a list of "
         "fields: [[product, warehouse]] for one constraint over them together", None),
    ]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in INLINE],
                         ids=[name for name, _, _ in INLINE])
def test_inline_problem(text: str, expected: list[Expected]) -> None:
    assert_problems(problems_of(text), expected)


PARTIAL: list[tuple[str, str, list[Expected]]] = [
    ("a model error and a broken reference, in one run",
     "system: s\nentities:\n  User:\n    volumn: 2M\n  Order: {}\n"
     "relationships:\n  - {from: Order, to: Usr, kind: many-to-one}\n", [
        (4, 5, "entities.User.volumn", "unknown key 'volumn'", "did you mean 'volume'?"),
        (7, 23, "relationships[0].to", "to 'Usr' is not an entity", "did you mean 'User'?"),
    ]),
    ("an entity that did not validate still exists; its fields are not guessed",
     "system: s\nentities:\n  User: {volume: lots, attributes: {email: email}}\n"
     "access_patterns:\n"
     "  - {name: login, entity: User, key: email}\n"
     "  - {name: broken, entity: User, rate: often}\n"
     "  - {name: login, entity: Usr, key: id}\n", [
        (3, 18, "entities.User.volume", "expected a count", None),
        (6, 40, "access_patterns[1].rate", "expected a rate", None),
        (7, 12, "access_patterns[2].name", "duplicate access pattern name 'login'",
         "each pattern needs its own name: it labels indexes and reports"),
        (7, 27, "access_patterns[2].entity", "entity 'Usr' is not an entity",
         "did you mean 'User'?"),
    ]),
    ("a relationship that did not validate leaves both ends' fields unknown",
     "system: s\nentities:\n  User: {}\n  Order: {attributes: {total: money}}\n"
     "relationships:\n  - {from: Order, to: User}\n"
     "access_patterns:\n  - {name: mine, entity: Order, where: {user: eq}}\n"
     "  - {name: who, entity: User, where: {nme: eq}}\n", [
        (6, 5, "relationships[0].kind", "missing required key 'kind'",
         "one of: one-to-one, one-to-many, many-to-one, many-to-many"),
    ]),
    ("unique groups are checked where the entity's fields are known, and only there",
     "system: s\nentities:\n  User: {}\n  Order: {unique: [[user, number]]}\n"
     "  Tag: {volume: lots, unique: [[nme, user]]}\n  Label: {unique: [[nme, id]]}\n"
     "relationships:\n  - {from: Order, to: User}\n", [
        (5, 17, "entities.Tag.volume", "expected a count", None),
        (6, 21, "entities.Label.unique[0][0]", "'nme' is not a field of Label",
         "fields of Label: id, created_at, updated_at"),
        (8, 5, "relationships[0].kind", "missing required key 'kind'",
         "one of: one-to-one, one-to-many, many-to-one, many-to-many"),
    ]),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in PARTIAL],
                         ids=[name for name, _, _ in PARTIAL])
def test_references_checked_on_the_parts_that_validate(text: str,
                                                        expected: list[Expected]) -> None:
    assert_problems(problems_of(text), expected)


YAML_SYNTAX = [
    ("a: b: c\n", 1, 5, "unexpected ':'"),
    ("system: s\nentities:\n  User:\n    volume: 2M\n   attributes: {}\n", 5, 4,
     "does not line up"),
    ("system: s\nentities: [User, Order\n", 3, 1, "a [ ] list is not closed"),
    ("system: s\nentities: {User: {}\n", 3, 1, "a { } mapping is not closed"),
    ("system: 'shop\n", 2, 1, "the file ends inside a quoted string"),
    ("system: *name\n", 1, 9, "an alias (*name) with no anchor"),
    ("system: s\n---\nsystem: t\n", 2, 1, "more than one YAML document"),
    ("system: !shop s\n", 1, 9, "an unknown tag"),
    ("system: s\x07\n", 1, 10, "character U+0007 is not allowed"),
    ("system: " + "[" * 3000 + "]" * 3000 + "\n", 1, 1, "nested too deeply"),
]


YAML_OPENED = [
    ("system: s\nentities:\n  User: {volume: 2M\n  Order: {}\n",
     "the '{' opened at line 3, column 9"),
    ("system: s\nentities: [A,\n  B\nc: 1\n", "the '[' opened at line 2, column 11"),
    ("system: 'shop\n\n", "the quote opened at line 1, column 9; close the quote"),
]


@pytest.mark.parametrize(("text", "hint"), YAML_OPENED)
def test_yaml_error_names_where_the_unclosed_thing_opened(text: str, hint: str) -> None:
    [problem] = problems_of(text)
    assert problem.hint == hint


@pytest.mark.parametrize(("text", "line", "column", "fragment"), YAML_SYNTAX)
def test_yaml_syntax_error_is_one_located_problem(text: str, line: int, column: int,
                                                   fragment: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].column) == (line, column), str(problems[0])
    assert fragment in problems[0].message


def test_file_problems(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as caught:
        load_spec(missing)
    assert caught.value.problems == [Problem(str(missing), "no such file")]
    with pytest.raises(InputError) as caught:
        load_spec(tmp_path)
    assert "is a directory" in caught.value.problems[0].message
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("system: café\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load_spec(latin1)
    assert caught.value.problems[0].hint == "save the spec as UTF-8"


def test_problems_print_as_file_line_column_path() -> None:
    error = InputError(problems_of(HEAD.replace("email: email", "email: emial"), "shop.yaml"))
    assert str(error).startswith(
        "shop.yaml:5:14: entities.User.attributes.email.type: expected one of: string, "
    )
    assert str(error).endswith("(did you mean 'email'?)")


# --- a valid spec ----------------------------------------------------------------------------

def test_valid_spec_loads_with_quantities_parsed() -> None:
    spec = load_spec(str(SPECS / "valid" / "shop.yaml"))
    assert isinstance(spec, Spec)
    user, product, order = spec.entities["User"], spec.entities["Product"], spec.entities["Order"]
    assert user.volume == 2_000_000 and user.growth.fraction == pytest.approx(0.4)
    assert product.growth.fraction == pytest.approx(1.03**12 - 1)
    assert order.growth.absolute == 5_000_000
    assert spec.entities["Session"].ttl == 86400
    assert spec.scale.rpo == 300 and spec.compliance.retention == 7 * 365 * 86400
    assert user.attributes["name"].type == AttrType.string  # `name: string` shorthand
    assert order.attributes["status"].default == "pending"
    assert spec.relationships[1].kind == RelKind.many_to_one and spec.relationships[1].owned
    patterns = {p.name: p for p in spec.access_patterns}
    assert patterns["login"].rate == 50 and patterns["login"].p99 == pytest.approx(0.02)
    assert patterns["user_orders"].sort == [("created_at", True)]
    assert patterns["order_items"].rate == 300
    assert patterns["track_view"].rate == pytest.approx(3e6 / 86400)
    assert patterns["session_get"].where == {"id": Op.eq}
    assert patterns["reports_to"].kind == PatternKind.traversal
    assert patterns["place_order"].touches == ["Order", "OrderItem", "Product"]


def test_yaml_1_2_scalars() -> None:
    # YAML 1.2, as ruamel reads it: `yes`/`no` and `on` stay words, so enum values survive.
    spec = load_spec_text(
        "system: s\nentities:\n  Vote:\n    attributes:\n"
        "      answer: {type: enum, values: [yes, no, on, off]}\n"
        "      since: {type: date, default: 2024-01-01}\n"
    )
    assert spec.entities["Vote"].attributes["answer"].values == ["yes", "no", "on", "off"]
    assert spec.entities["Vote"].attributes["since"].default == "2024-01-01"


def test_merge_keys_are_not_duplicates() -> None:
    spec = load_spec_text(
        "system: s\n"
        "entities:\n"
        "  Base: &base {volume: 1k, attributes: {name: string}}\n"
        "  Item:\n"
        "    <<: *base\n"
        "    volume: 2k\n"
    )
    assert spec.entities["Item"].volume == 2000
    assert spec.entities["Item"].attributes["name"].type == AttrType.string


def test_large_spec_loads_whole() -> None:
    """500 entities and 2,000 patterns load; bench/design_scale.py measures how fast."""
    lines = ["system: big", "entities:"]
    for i in range(500):
        lines += [f"  E{i}:", "    volume: 2M", "    growth: 40%/year", "    attributes:",
                  "      email: {type: email, unique: true}", "      name: string",
                  "      status: {type: enum, values: [new, active, closed]}",
                  "      amount: money", "      seen_at: timestamp"]
    lines.append("relationships:")
    lines += [f"  - {{from: E{i}, to: E{i - 1}, kind: many-to-one}}" for i in range(1, 500)]
    lines.append("access_patterns:")
    for j in range(2000):
        i = j % 500
        lines += [f"  - name: p{j}", f"    entity: E{i}", "    where: {email: eq, status: in}",
                  "    order_by: -created_at", "    limit: 20", "    rate: 200/s",
                  "    p99: 20ms"]
    text = "\n".join(lines) + "\n"
    spec = load_spec_text(text, "big.yaml")
    assert len(spec.entities) == 500 and len(spec.access_patterns) == 2000


# --- JSON Schema -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = spec_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def plain(text: str) -> object:
    """YAML text as the JSON an editor validates (plain dicts, lists, scalars)."""
    data, _ = parse(text, "x")
    return json.loads(json.dumps(data))


def test_schema_has_dialect_id_titles_and_descriptions() -> None:
    schema = spec_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("urn:dbarch:spec")
    assert schema["title"] and schema["description"]
    defs = schema["$defs"]
    for name, definition in defs.items():
        assert definition.get("description"), name
        for prop, body in definition.get("properties", {}).items():
            # An editor shows a property's own description, else its $ref target's.
            target = body.get("$ref", "").rsplit("/", 1)[-1]
            assert body.get("description") or defs.get(target, {}).get("description"), (
                f"{name}.{prop}")
    assert spec_json_schema() is not spec_json_schema()  # callers may mutate their copy


def test_schema_accepts_the_valid_spec(validator: jsonschema.Draft202012Validator) -> None:
    errors = list(validator.iter_errors(plain((SPECS / "valid" / "shop.yaml").read_text())))
    assert errors == [], [e.message for e in errors]


SCHEMA_ACCEPTS = [
    "system: s\nentities: {U: {volume: 2000000, growth: 5000, ttl: 3600}}\n",
    "system: s\nentities: {U: {volume: 2M, growth: 3%/month, ttl: 1h}}\n",
    "system: s\nentities: {U: {attributes: {email: email}}}\n",
    "system: s\nentities: {U: {}}\naccess_patterns:\n"
    "  - {name: p, entity: U, order_by: -created_at, project: id, rate: 5k/min, p99: 20}\n",
    # unique groups over references, attributes and builtins
    STOCK % "[[product, warehouse], [warehouse, created_at, on_hand]]",
]
SCHEMA_REJECTS = [
    ("system: s\nentities: {U: {volumn: 2M}}\n", "Additional properties"),
    ("system: s\nentities: {U: {attributes: {email: emial}}}\n", "is not valid under any"),
    ("system: s\nentities: {U: {volume: lots}}\n", "is not valid under any"),
    ("system: s\nentities: {U: {growth: fast}}\n", "is not valid under any"),
    ("system: s\nentities: {bad-name: {}}\n", "does not match any of the regexes"),
    ("system: s\nentities: {U: {}}\naccess_patterns: [{name: p, entity: U, rate: often}]\n",
     "is not valid under any"),
    ("system: s\nentities: {U: {}}\nrelationships: [{from: U, to: U, kind: belongs_to}]\n",
     "is not one of"),
    ("system: s\n", "'entities' is a required property"),
]


@pytest.mark.parametrize("text", SCHEMA_ACCEPTS)
def test_schema_accepts_numbers_and_text_forms(text: str,
                                              validator: jsonschema.Draft202012Validator) -> None:
    assert [e.message for e in validator.iter_errors(plain(text))] == []
    load_spec_text(text)  # and the loader agrees


@pytest.mark.parametrize(("text", "fragment"), SCHEMA_REJECTS)
def test_schema_rejects_what_the_loader_rejects(text: str, fragment: str,
                                                validator: jsonschema.Draft202012Validator
                                                ) -> None:
    messages = [e.message for e in validator.iter_errors(plain(text))]
    assert any(fragment in m for m in messages), messages
    with pytest.raises(InputError):
        load_spec_text(text)


def test_schema_accepts_every_example_the_loader_accepts(
    validator: jsonschema.Draft202012Validator,
) -> None:
    examples = sorted((Path(__file__).parent.parent / "examples").glob("*.yaml"))
    assert examples
    for example in examples:
        text = example.read_text()
        load_spec_text(text, str(example))
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(plain(text))]
        assert errors == [], f"{example.name}: {errors}"
