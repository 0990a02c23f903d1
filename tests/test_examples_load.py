"""Every example spec loads, and every name it uses resolves to something the spec declares.

The model checks each pattern on its own; these tests check the cross-references a loader may
leave to later stages: fields against `Spec.fields_of`, entities, relationship names, and that
each example exercises what it exists to show (a TTL key lookup, a traversal, a text search …).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dbarch.spec.load import load_spec, load_spec_text
from dbarch.spec.model import AttrType, PatternKind, RelKind, Spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NAMES = ["shop", "saas", "social", "iot", "catalog"]


def load(name: str) -> Spec:
    """Load an example the way users do, through the located loader."""
    return load_spec(EXAMPLES / f"{name}.yaml")


def unresolved(spec: Spec) -> list[str]:
    """Every reference in `spec` that names nothing; empty when the spec is consistent."""
    bad: list[str] = []
    for rel in spec.relationships:
        for end in (rel.from_, rel.to):
            if end not in spec.entities:
                bad.append(f"relationship {rel.from_}->{rel.to}: unknown entity {end}")
    for p in spec.access_patterns:
        where = f"pattern {p.name}"
        if p.entity is not None and p.entity not in spec.entities:
            bad.append(f"{where}: unknown entity {p.entity}")
            continue
        bad += [f"{where}: touches unknown {e}" for e in p.touches if e not in spec.entities]
        if p.entity is None:
            continue
        fields = spec.fields_of(p.entity)
        used = [*p.where, *(f for f, _ in p.sort), *p.project, *p.group_by]
        if p.key:
            used.append(p.key)
        if p.time:
            used.append(p.time)
        if p.measure:
            used += re.findall(r"\((\w+)\)", p.measure)
        bad += [f"{where}: {p.entity} has no field {f}" for f in used if f not in fields]
        if p.via is not None:
            names = {r.name or r.field_name for r in spec.relationships_of(p.entity)}
            if p.via not in names:
                bad.append(f"{where}: {p.entity} has no relationship {p.via} (has {names})")
    return bad


@pytest.mark.parametrize("name", NAMES)
def test_example_loads_and_resolves(name: str) -> None:
    spec = load(name)
    assert spec.system == name
    assert unresolved(spec) == []


@pytest.mark.parametrize("name", NAMES)
def test_example_is_realistic(name: str) -> None:
    spec = load(name)
    assert len(spec.entities) >= 5
    assert len(spec.access_patterns) >= 10
    assert len({p.name for p in spec.access_patterns}) == len(spec.access_patterns)
    kinds = {p.kind for p in spec.access_patterns}
    assert {PatternKind.read, PatternKind.write} <= kinds
    for p in spec.access_patterns:
        assert p.p99 is not None, f"{p.name} has no latency target"
        assert p.rate > 0
    for entity_name, entity in spec.entities.items():
        assert entity.volume > 0, f"{entity_name} has no volume"
        # An attribute that shadows a builtin or a reference would make two columns one name.
        taken = {"id", "created_at", "updated_at"}
        taken |= {r.field_name for r in spec.references_of(entity_name)}
        clash = taken & set(entity.attributes)
        assert not clash, f"{entity_name}: {clash}"
    assert spec.scale.rpo is not None and spec.scale.rto is not None


def test_aggregates_window_over_timestamps() -> None:
    for name in NAMES:
        spec = load(name)
        for p in spec.access_patterns:
            if p.kind != PatternKind.aggregate:
                continue
            assert p.entity is not None and p.time is not None and p.window
            attr = spec.entities[p.entity].attributes.get(p.time)
            assert p.time in ("created_at", "updated_at") or (
                attr is not None and attr.type == AttrType.timestamp
            ), f"{name}.{p.name}: {p.time} is not a timestamp"


def test_shop_has_a_key_value_candidate() -> None:
    spec = load("shop")
    session = spec.entities["Session"]
    assert session.ttl == 24 * 3600
    get = next(p for p in spec.access_patterns if p.name == "session_get")
    assert get.where == {"id": "eq"} and get.rate == 2000
    place = next(p for p in spec.access_patterns if p.name == "place_order")
    assert place.transaction
    assert {"Order", "OrderItem", "Inventory", "Payment"} <= set(place.touches)


def test_saas_filters_every_pattern_by_tenant() -> None:
    spec = load("saas")
    assert spec.compliance.audit and spec.compliance.pii
    assert spec.entities["AuditLog"].append_only
    for p in spec.access_patterns:
        if p.kind == PatternKind.write or p.entity == "Tenant":
            continue
        assert "tenant" in p.where, f"{p.name} is not filtered by tenant"
        assert p.where["tenant"] == "eq"
    for entity in spec.entities:
        if entity != "Tenant":
            assert "tenant" in spec.fields_of(entity), f"{entity} has no tenant reference"


def test_social_follows_and_traversal() -> None:
    spec = load("social")
    follows = next(r for r in spec.relationships if r.name == "follows")
    assert follows.kind == RelKind.many_to_many
    assert follows.from_ == follows.to == "User"
    assert "created_at" in follows.attributes
    fof = next(p for p in spec.access_patterns if p.kind == PatternKind.traversal and p.hops == 2)
    assert fof.via == "follows"


def test_iot_is_append_only_and_huge() -> None:
    spec = load("iot")
    reading = spec.entities["Reading"]
    assert reading.append_only
    assert reading.volume >= 1_000_000_000
    ingest = max(
        (p for p in spec.access_patterns if p.kind == PatternKind.write and "Reading" in p.touches),
        key=lambda p: p.rate,
    )
    assert ingest.rate >= 20_000
    hourly = [p for p in spec.access_patterns
              if p.kind == PatternKind.aggregate and p.window == 3600 and "device" in
              [*p.group_by, *p.where]]
    assert hourly and hourly[0].measure is not None and hourly[0].measure.startswith("avg(")


def test_catalog_varies_searches_and_stores_blobs() -> None:
    spec = load("catalog")
    attrs = [a for e in spec.entities.values() for a in e.attributes.values()]
    assert any(a.type == AttrType.map and a.varies for a in attrs)
    assert any(a.type == AttrType.blob and a.avg_size for a in attrs)
    assert any("text" in p.where.values() for p in spec.access_patterns)
    parent = [r for r in spec.relationships if r.from_ == r.to == "Category"]
    assert parent and parent[0].kind == RelKind.many_to_one


def test_unresolved_catches_a_bad_reference() -> None:
    """The checker itself: a misspelt field is reported, not silently accepted."""
    spec = load("shop")
    broken = spec.model_copy(deep=True)
    broken.access_patterns[0].where = {"idd": "eq"}
    assert unresolved(broken) == ["pattern session_get: Session has no field idd"]


def _bench() -> ModuleType:
    """bench/ is scripts, not a package: import design_scale.py by its path."""
    if "design_scale" in sys.modules:
        return sys.modules["design_scale"]
    path = ROOT / "bench" / "design_scale.py"
    spec = importlib.util.spec_from_file_location("design_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["design_scale"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def test_benchmark_spec_is_valid_at_full_size() -> None:
    """The benchmark's 500-entity spec validates and every reference in it resolves."""
    bench = _bench()
    spec = Spec.model_validate(bench.generate_spec(500, 2000, seed=7))
    assert len(spec.entities) == 500
    assert len(spec.access_patterns) == 2000
    assert unresolved(spec) == []
    kinds = {p.kind for p in spec.access_patterns}
    assert kinds == set(PatternKind)
    types = {a.type for e in spec.entities.values() for a in e.attributes.values()}
    assert types == set(AttrType)
    assert any(r.kind == RelKind.many_to_many for r in spec.relationships)
    # References only point at entities declared earlier: the reference graph is a DAG.
    order = {name: i for i, name in enumerate(spec.entities)}
    for rel in spec.relationships:
        if rel.kind == RelKind.many_to_one:
            assert order[rel.parent] < order[rel.child]


def test_benchmark_spec_loads_from_yaml() -> None:
    """The YAML the benchmark times goes through the same loader as a user's file."""
    bench = _bench()
    text = bench.spec_yaml(bench.generate_spec(40, 160, seed=3))
    spec = load_spec_text(text, "bench.yaml")
    assert len(spec.entities) == 40 and len(spec.access_patterns) == 160


def test_readme_spec_sample_loads() -> None:
    """The spec shown in README.md is a valid spec, not an approximation of one."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    spec = load_spec_text(block.group(1), "README.md")
    assert unresolved(spec) == []


def test_readme_spec_reference_names_every_field() -> None:
    """Every field of the spec model appears in README.md's reference, so the two stay in step."""
    from dbarch.spec import model

    readme = (ROOT / "README.md").read_text()
    reference = readme[readme.index("## The spec"):readme.index("## What verification")]
    classes = (model.Spec, model.Scale, model.Deployment, model.Compliance, model.Entity,
               model.Attribute, model.Relationship, model.AccessPattern)
    missing = [
        f"{cls.__name__}.{info.alias or name}"
        for cls in classes for name, info in cls.model_fields.items()
        if f"| `{info.alias or name}` |" not in reference
    ]
    assert missing == []
    enums = (model.AttrType, model.RelKind, model.Op, model.PatternKind, model.Consistency,
             model.WriteOp, model.Hosting)
    assert [f"{e.__name__}.{v.value}" for e in enums for v in e
            if f"`{v.value}`" not in reference] == []
