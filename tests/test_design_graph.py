"""The graph designer (dbarch/design/graph.py): pure, no engine. Facts about the Cypher and
Kuzu DDL it writes, the degree arithmetic behind its supernode findings, and the fraud example
the selector places in a graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from dbarch.design.graph import (
    KUZU_FILE,
    NEO4J_FILE,
    GraphModel,
    GraphProperty,
    NodeTable,
    RelTable,
    _walk_cost,
    design_part,
    store_bytes,
)
from dbarch.design.parts import DESIGNERS, PartDesign
from dbarch.select import recommend
from dbarch.select.model import Decision, Paradigm
from dbarch.spec.load import load_spec
from dbarch.spec.model import Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

ORG = """
system: org
entities:
  Employee:
    volume: 100k
    attributes:
      email: {type: email, unique: true}
      ssn: {type: string, unique: true, sensitive: true}
      level: {type: enum, values: [ic, manager]}
      bio: text
  Team: {volume: 2k, attributes: {name: string}}
relationships:
  - {from: Employee, to: Employee, kind: many-to-one, name: manager, required: false,
     fanout: 8, max_fanout: 40}
  - {from: Employee, to: Team, kind: many-to-one, fanout: 50, max_fanout: 30k}
access_patterns:
  - {name: chain_of_command, kind: traversal, entity: Employee, via: manager, hops: 4,
     limit: 10, rate: 20/s, p99: 20ms}
  - {name: teammates, kind: traversal, entity: Employee, via: team, hops: 2, limit: 100,
     rate: 50/s, p99: 20ms}
  - {name: team_members, kind: traversal, entity: Team, via: Employee, hops: 1, rate: 5/s}
"""
ORG_PATTERNS = ["chain_of_command", "teammates", "team_members"]


def spec_of(text: str) -> Spec:
    """A spec from YAML text, validated by the model (references unchecked on purpose)."""
    return Spec.model_validate(YAML(typ="safe").load(text))


def graph_decision(entities: list[str], patterns: list[str],
                   projection_of: str | None = "core") -> Decision:
    """A graph part as the selector would hand it over, built by hand."""
    return Decision(part="graph", entities=entities, patterns=patterns, paradigm=Paradigm.graph,
                    product="neo4j", product_name="Neo4j", projection_of=projection_of)


@pytest.fixture(scope="module")
def org() -> PartDesign:
    return design_part(spec_of(ORG), graph_decision(["Employee", "Team"], ORG_PATTERNS))


def test_graph_designer_is_registered() -> None:
    assert DESIGNERS["graph"] == "dbarch.design.graph:design_part"


# --- the fraud example: the selector's own signals choose graph -------------------------


def test_fraud_example_puts_rings_and_mule_chains_in_a_graph() -> None:
    spec = load_spec(EXAMPLES / "fraud.yaml")
    graph = [d for d in recommend(spec).parts if d.paradigm == Paradigm.graph]
    assert len(graph) == 1
    assert graph[0].entities == ["Account"]
    assert graph[0].patterns == ["shared_device_ring", "mule_chain"]
    assert graph[0].projection_of == "core"


def test_fraud_design_numbers() -> None:
    spec = load_spec(EXAMPLES / "fraud.yaml")
    decision = next(d for d in recommend(spec).parts if d.paradigm == Paradigm.graph)
    part = design_part(spec, decision)
    model = GraphModel.model_validate(part.model)
    assert [n.label for n in model.nodes] == ["Account", "Device"]
    assert [(r.type, r.from_label, r.to_label) for r in model.rels] == [
        ("USES", "Account", "Device"), ("PAYS", "Account", "Account")]
    uses = model.rel("USES")
    # 2 devices per account; 30M accounts over 45M devices: 1.33 accounts per device
    assert (uses.out_degree, uses.in_degree, uses.rels_now) == (2.0, 1.33, 60_000_000)
    ring = model.traversals[0]
    assert ring.degrees == [2.0, 1.33, 2.0, 1.33]
    assert "| shared_device_ring | Account -USES×4- Account | 1.5k/s | 50ms | 17.1 | 283k " \
           "| 50k |" in part.section
    assert "| mule_chain | Account -PAYS×3-> Account | 400/s | 150ms | 1.88k | 471M | 150k |" \
        in part.section
    warnings = {f.pattern: f.message for f in part.findings if f.severity == "warning"}
    assert set(warnings) == {"shared_device_ring", "mule_chain"}
    assert "25k USES relationships" in warnings["shared_device_ring"]
    assert "3140× the 150k its p99 of 150ms allows" in warnings["mule_chain"]
    # holder_name is sensitive: not copied into the graph
    assert "holder_name" not in part.artifacts[KUZU_FILE]


# --- Cypher and DDL as facts -------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "cypher"), [
    ("chain_of_command",
     "MATCH p = (start:Employee {id: $id})-[:MANAGER*1..4]->(other:Employee)\n"
     "WHERE other.id <> start.id\n"
     "RETURN other.id AS id, min(length(p)) AS hops\nORDER BY hops, id\nLIMIT 10"),
    ("teammates",
     "MATCH p = (start:Employee {id: $id})-[:EMPLOYEE_TEAM*1..2]-(other:Employee)\n"
     "WHERE other.id <> start.id\n"
     "RETURN other.id AS id, min(length(p)) AS hops\nORDER BY hops, id\nLIMIT 100"),
    ("team_members",
     "MATCH p = (start:Team {id: $id})<-[:EMPLOYEE_TEAM]-(other:Employee)\n"
     "RETURN other.id AS id, min(length(p)) AS hops\nORDER BY hops, id"),
])
def test_traversal_cypher(org: PartDesign, pattern: str, cypher: str) -> None:
    model = GraphModel.model_validate(org.model)
    assert next(t for t in model.traversals if t.pattern == pattern).cypher == cypher
    assert cypher + ";" in org.artifacts[NEO4J_FILE]
    assert cypher + ";" in org.artifacts[KUZU_FILE]


@pytest.mark.parametrize("line", [
    # ssn is sensitive and bio is neither a key, a filter nor a status: both stay behind
    "CREATE NODE TABLE Employee(id INT64, email STRING, level STRING, PRIMARY KEY (id));",
    "CREATE NODE TABLE Team(id INT64, PRIMARY KEY (id));",
    "CREATE REL TABLE MANAGER(FROM Employee TO Employee, MANY_ONE);",
    # `team` would be TEAM, which Kuzu's case-insensitive catalogue confuses with Team
    "CREATE REL TABLE EMPLOYEE_TEAM(FROM Employee TO Team, MANY_ONE);",
])
def test_kuzu_ddl(org: PartDesign, line: str) -> None:
    assert line in org.artifacts[KUZU_FILE].splitlines()


@pytest.mark.parametrize("line", [
    "CREATE CONSTRAINT employee_id_unique IF NOT EXISTS FOR (n:Employee) REQUIRE n.id IS UNIQUE;",
    "CREATE CONSTRAINT employee_email_unique IF NOT EXISTS FOR (n:Employee) "
    "REQUIRE n.email IS UNIQUE;",
    "CREATE CONSTRAINT team_id_unique IF NOT EXISTS FOR (n:Team) REQUIRE n.id IS UNIQUE;",
])
def test_neo4j_constraints(org: PartDesign, line: str) -> None:
    assert line in org.artifacts[NEO4J_FILE].splitlines()


def test_uuid_keys_follow_the_primary_store() -> None:
    spec = load_spec(EXAMPLES / "fraud.yaml")
    decision = next(d for d in recommend(spec).parts if d.paradigm == Paradigm.graph)
    ddl = design_part(spec, decision).artifacts[KUZU_FILE]
    assert "CREATE NODE TABLE Account(id UUID," in ddl   # public_id: true
    assert "CREATE NODE TABLE Device(id INT64," in ddl


# --- degrees, costs, findings ------------------------------------------------------------


@pytest.mark.parametrize(("degrees", "worst", "avg", "worst_reads"), [
    ([2.0, 1.5], [None, None], 2 + 3, None),
    ([12.0, 12.0, 12.0], [3e6, 3e6, 3e6], 12 + 144 + 1728, 3e6 * (1 + 12 + 144)),
    ([1.0, 50.0], [None, 30_000.0], 51, 1 + 30_000),
    ([5.0], [4.0], 5, None),   # a max below the average changes nothing
])
def test_walk_cost(degrees: list[float], worst: list[float | None], avg: float,
                   worst_reads: float | None) -> None:
    assert _walk_cost(degrees, worst) == (avg, worst_reads)


def test_org_findings(org: PartDesign) -> None:
    by_pattern = {(f.pattern, f.severity): f.message for f in org.findings}
    # teammates crosses a team of up to 30k: 1 + 30k reads against 20k in 20 ms
    assert "30k EMPLOYEE_TEAM relationships" in by_pattern["teammates", "warning"]
    assert "turns teammates into ≈30k relationship reads" in by_pattern["teammates", "warning"]
    assert "no limit" in by_pattern["team_members", "warning"]
    # walking up a manager chain reads one relationship per hop, whatever max_fanout says
    assert ("chain_of_command", "warning") not in by_pattern


def test_a_walk_the_engine_cannot_find_is_an_error() -> None:
    text = ORG.replace("via: manager", "via: mentor")
    part = design_part(spec_of(text), graph_decision(["Employee", "Team"], ORG_PATTERNS))
    errors = [f for f in part.findings if f.severity == "error"]
    assert [f.pattern for f in errors] == ["chain_of_command"]
    assert "mentor" in errors[0].message
    assert "chain_of_command" not in part.artifacts[NEO4J_FILE]


def test_a_strong_read_on_a_projection_is_flagged() -> None:
    text = ORG.replace("rate: 50/s, p99: 20ms}", "rate: 50/s, p99: 20ms, consistency: strong}")
    part = design_part(spec_of(text), graph_decision(["Employee", "Team"], ORG_PATTERNS))
    assert any(f.pattern == "teammates" and "projection of core" in f.message
               for f in part.findings)
    store = design_part(spec_of(text), graph_decision(["Employee", "Team"], ORG_PATTERNS,
                                                      projection_of=None))
    assert not any("projection" in f.message for f in store.findings)


def test_unknown_max_degree_is_said() -> None:
    text = ORG.replace(", max_fanout: 30k", "")
    part = design_part(spec_of(text), graph_decision(["Employee", "Team"], ORG_PATTERNS))
    assert any(f.severity == "info" and "no max_fanout" in f.message for f in part.findings)


def test_social_follow_graph_from_a_hand_made_decision() -> None:
    """No example's selection puts social in a graph: the designer works from any Decision."""
    spec = load_spec(EXAMPLES / "social.yaml")
    part = design_part(spec, graph_decision(["User"], ["following_list", "friends_of_friends"]))
    model = GraphModel.model_validate(part.model)
    assert [n.label for n in model.nodes] == ["User"]
    assert [r.type for r in model.rels] == ["FOLLOWS"]
    fof = model.traversals[1]
    assert (fof.direction, fof.avg_reads) == ("out", 150 + 150 * 150)
    assert any(f.pattern == "friends_of_friends" and "12M FOLLOWS" in f.message
               for f in part.findings)


def test_store_size_from_record_sizes() -> None:
    props = [GraphProperty(name="id", type="bigint"), GraphProperty(name="x", type="int")]
    model = GraphModel(
        nodes=[NodeTable(label="A", entity="A", key_type="bigint", nodes_now=1000,
                         nodes_horizon=2000, properties=props)],
        rels=[RelTable(type="R", relationship="r", from_label="A", to_label="A",
                       kind="many-to-many", rels_now=3000, rels_horizon=6000)],
        traversals=[])
    size = store_bytes(model, horizon=False)
    # 1000 nodes × 15 B, 3000 relationships × 34 B, 1000 property records × 41 B, +20%
    assert size == {"nodes": 15_000, "relationships": 102_000, "properties": 41_000,
                    "indexes": 31_600.0, "total": 189_600.0}
