"""Graph parts verified on Kuzu, embedded (dbarch/verify/graph.py, dbarch/engines/kuzu.py).

Every test here runs the real engine. A correct design passes; a query that walks the wrong
way, stops a hop short, or a DDL Kuzu rejects, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch import api
from dbarch.design.graph import KUZU_FILE, NEO4J_FILE, GraphModel, cypher_name, design_part
from dbarch.design.parts import PartDesign
from dbarch.engines.kuzu import KuzuGraph, statements
from dbarch.errors import EngineError
from dbarch.select import recommend
from dbarch.select.model import Paradigm
from dbarch.spec.load import load_spec
from dbarch.verify.graph import SampleGraph, reference_walk, verify_part
from dbarch.verify.parts import VERIFIERS, verify_parts
from tests.test_design_graph import ORG, ORG_PATTERNS, graph_decision, spec_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def fraud() -> PartDesign:
    spec = load_spec(EXAMPLES / "fraud.yaml")
    decision = next(d for d in recommend(spec).parts if d.paradigm == Paradigm.graph)
    return design_part(spec, decision)


def mutated(part: PartDesign, pattern: str, old: str, new: str) -> PartDesign:
    """The part with one traversal's query (as verify runs it) edited."""
    model = GraphModel.model_validate(part.model)
    t = next(t for t in model.traversals if t.pattern == pattern)
    assert old in t.cypher
    t.cypher = t.cypher.replace(old, new)
    return part.model_copy(update={"model": model.model_dump(mode="json")})


def failed(part: PartDesign) -> list[str]:
    check = verify_part(part, None)
    assert check.ran and check.error is None, check.error
    return [c.name for c in check.checks if not c.ok]


def test_graph_verifier_is_registered_and_embedded() -> None:
    assert VERIFIERS["graph"] == "dbarch.verify.graph"


def test_fraud_graph_verifies_on_kuzu(fraud: PartDesign) -> None:
    check = verify_part(fraud, None)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
    assert check.engine.startswith("kuzu ") and check.engine.endswith("(embedded)")
    assert [c.name for c in check.checks] == [
        "schema", "sample", "traversal shared_device_ring", "traversal mule_chain",
        "neo4j queries"]
    ring = check.checks[2].detail
    # the planted path: account, device, account, device, account: 2 accounts within 4 hops
    assert "planted start reaches 2 Account node(s), the farthest at 4 of 4 hops" in ring


def test_org_shapes_verify_on_kuzu() -> None:
    """Many-to-one walks up a self-reference, across a bipartite reference and against it."""
    part = design_part(spec_of(ORG), graph_decision(["Employee", "Team"], ORG_PATTERNS))
    check = verify_part(part, None)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
    assert len([c for c in check.checks if c.name.startswith("traversal ")]) == 3


def test_social_follow_graph_verifies_on_kuzu() -> None:
    spec = load_spec(EXAMPLES / "social.yaml")
    part = design_part(spec, graph_decision(["User"], ["following_list", "friends_of_friends"]))
    assert verify_part(part, None).ok


def test_a_walk_in_the_wrong_direction_fails(fraud: PartDesign) -> None:
    part = mutated(fraud, "mule_chain", "]->(other", "]-(other")
    assert failed(part) == ["traversal mule_chain", "neo4j queries"]


def test_a_walk_one_hop_short_fails(fraud: PartDesign) -> None:
    part = mutated(fraud, "shared_device_ring", "*1..4]", "*1..2]")
    assert "traversal shared_device_ring" in failed(part)


def test_a_walk_that_returns_its_start_fails(fraud: PartDesign) -> None:
    part = mutated(fraud, "mule_chain", "WHERE other.id <> start.id\n", "")
    assert "traversal mule_chain" in failed(part)


def test_a_neo4j_file_without_the_query_fails(fraud: PartDesign) -> None:
    artifacts = dict(fraud.artifacts)
    artifacts[NEO4J_FILE] = artifacts[NEO4J_FILE].replace("LIMIT 500", "LIMIT 50")
    assert failed(fraud.model_copy(update={"artifacts": artifacts})) == ["neo4j queries"]


def test_ddl_kuzu_rejects_is_an_error(fraud: PartDesign) -> None:
    artifacts = dict(fraud.artifacts)
    artifacts[KUZU_FILE] = artifacts[KUZU_FILE].replace("MANY_MANY", "MANY_SOME", 1)
    check = verify_part(fraud.model_copy(update={"artifacts": artifacts}), None)
    assert check.ran and not check.ok
    assert check.error and "kuzu" in check.error and "CREATE REL TABLE USES" in check.error


def test_design_then_verify_the_fraud_example(tmp_path: Path) -> None:
    """`dbarch design` writes the graph files and proves them; `dbarch verify` reruns them."""
    out = tmp_path / "fraud"
    _, report, _ = api.design(EXAMPLES / "fraud.yaml", out, ["sqlite://"])
    assert report is not None
    assert [(p.part, p.ok) for p in report.parts] == [("graph", True)]
    assert (out / NEO4J_FILE).read_text().startswith("// fraud: graph schema for Neo4j 5")
    doc = (out / "ARCHITECTURE.md").read_text()
    assert "Verified on kuzu" in doc and "5 of 5 checks passed" in doc
    again = api.verify(out, ["sqlite://"])
    assert [(p.part, p.ran, p.ok) for p in again.parts] == [("graph", True, True)]
    assert again.ok
    # verify runs the files in OUT, as the user edited them, not the copies in design.json
    edited = (out / KUZU_FILE).read_text().replace("MANY_MANY", "MANY_SOME", 1)
    (out / KUZU_FILE).write_text(edited)
    (broken,) = api.verify(out, ["sqlite://"]).parts
    assert broken.ran and not broken.ok and "MANY_SOME" in (broken.error or "")


def test_verify_parts_runs_kuzu_without_an_engine_url(fraud: PartDesign) -> None:
    (check,) = verify_parts([fraud], [])
    assert check.ran and check.url is None and check.ok


# --- the adapter and the reference walk --------------------------------------------------


def test_statements_drop_comments_and_split() -> None:
    text = "// a comment; with a semicolon\nCREATE NODE TABLE A(id INT64, PRIMARY KEY (id));\n" \
           "\n// q\nMATCH (a:A) RETURN a;\n"
    assert statements(text) == ["CREATE NODE TABLE A(id INT64, PRIMARY KEY (id))",
                                "MATCH (a:A) RETURN a"]


def test_names_yaml_would_read_as_values_are_quoted_where_kuzu_needs_it() -> None:
    names = ["on", "true", "false", "null", "Order"]
    assert [cypher_name(n) for n in names] == [f"`{n}`" for n in names]
    columns = ", ".join(f"{cypher_name(n)} STRING" for n in names)
    with KuzuGraph() as g:
        g.apply(f"CREATE NODE TABLE A(id INT64, {columns}, PRIMARY KEY (id));")
        with pytest.raises(EngineError):  # bare, Kuzu refuses them
            g.apply("CREATE NODE TABLE B(id INT64, on STRING, PRIMARY KEY (id));")


def test_kuzu_graph_is_thrown_away() -> None:
    with KuzuGraph() as g:
        folder = g._dir
        g.apply("CREATE NODE TABLE A(id INT64, PRIMARY KEY (id));")
        assert g.copy("A", [[1], [2], [3]]) == 3
        assert g.execute("MATCH (a:A) RETURN count(*)") == [[3]]
        with pytest.raises(EngineError, match="in: MATCH"):
            g.execute("MATCH (b:Missing) RETURN b")
    assert not folder.exists()


def test_reference_walk_counts_distances() -> None:
    part = design_part(spec_of(ORG), graph_decision(["Employee", "Team"], ORG_PATTERNS))
    model = GraphModel.model_validate(part.model)
    g = SampleGraph()
    # 1 → 2 → 3 → 4 → 5 → 6 up the manager chain; 7 reports to 1 (below the start)
    g.edges["MANAGER"] = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (7, 1)]
    chain = next(t for t in model.traversals if t.pattern == "chain_of_command")
    assert reference_walk(g, model, chain, 1) == [(2, 1), (3, 2), (4, 3), (5, 4)]
    # teammates: 1 and 2 in team 10, 3 in team 11
    g.edges["EMPLOYEE_TEAM"] = [(1, 10), (2, 10), (3, 11)]
    mates = next(t for t in model.traversals if t.pattern == "teammates")
    assert reference_walk(g, model, mates, 1) == [(2, 2)]


KEYWORDS = """
system: keywords
entities:
  Order:
    volume: 1M
    attributes: {end: {type: enum, values: [open, done]}, desc: string}
  Item: {volume: 5M}
relationships:
  - {from: Order, to: Item, kind: many-to-many, name: group, fanout: 5, max_fanout: 100,
     attributes: {order: int}}
access_patterns:
  - {name: co_items, kind: traversal, entity: Order, via: group, hops: 3, limit: 50, rate: 10/s}
"""


def test_names_that_are_cypher_keywords_are_quoted_and_run() -> None:
    part = design_part(spec_of(KEYWORDS), graph_decision(["Order"], ["co_items"]))
    ddl = part.artifacts[KUZU_FILE].splitlines()
    assert "CREATE NODE TABLE `Order`(id INT64, `end` STRING, PRIMARY KEY (id));" in ddl
    assert "CREATE REL TABLE `GROUP`(FROM `Order` TO Item, `order` INT64, MANY_MANY);" in ddl
    assert "MATCH p = (start:`Order` {id: $id})-[:`GROUP`*1..3]-(other:Item)" \
        in part.artifacts[NEO4J_FILE]
    check = verify_part(part, None)
    assert check.ok, [c for c in check.checks if not c.ok] or check.error
