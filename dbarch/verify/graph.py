"""Verification of a graph part on Kuzu, embedded (no URL: it always runs).

The part's Kuzu DDL is applied in a throwaway database; a sample graph is loaded: background
nodes with the spec's average degrees (capped small), one hub per relationship type with a
supernode's degree, and for each traversal a planted path longer than its hops, isolated from
the rest, whose answer is known. Every traversal query is then run from the planted start, from
a neighbour of the hub and from random nodes, and its rows are compared with a breadth-first
walk over the same edges in Python: the same nodes at the same distances, closest first, at
most LIMIT of them. The Neo4j file is checked to carry the very queries that ran.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from dbarch.design.graph import (
    KUZU_FILE,
    NEO4J_FILE,
    GraphModel,
    GraphProperty,
    NodeTable,
    Traversal,
    cypher_name,
    graph_data,
)
from dbarch.design.parts import PartDesign
from dbarch.engines.kuzu import KuzuGraph
from dbarch.errors import EngineError
from dbarch.verify.parts import Check, PartCheck

SCHEMES: tuple[str, ...] = ()
# Planted paths take node numbers from here up, far above the background's.
_PLANTED_BASE = 1_000_000

Node = tuple[str, int]  # (label, number)


@dataclass
class SampleGraph:
    """Nodes by label and edges by relationship type, with the planted starts."""

    nodes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    edges: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    planted: dict[str, tuple[Node, int]] = field(default_factory=dict)
    hubs: dict[str, Node] = field(default_factory=dict)
    _next: int = _PLANTED_BASE

    def new_node(self, label: str) -> int:
        """A fresh planted node of `label`."""
        self._next += 1
        self.nodes[label].append(self._next)
        return self._next


def _value(prop: GraphProperty, n: int) -> Any:
    """A sample value of a property's type for node (or edge) number n; unique per n."""
    t = prop.type
    if t == "uuid":
        return str(uuid.UUID(int=n))
    if t in ("int", "bigint"):
        return n
    if t in ("float", "decimal", "money"):
        return f"{n % 10000}.25"
    if t == "bool":
        return "true" if n % 7 == 0 else "false"
    if t == "date":
        return f"2024-01-{n % 28 + 1:02d}"
    if t == "timestamp":
        return f"2024-01-{n % 28 + 1:02d} {n % 24:02d}:00:00"
    if t == "list":
        return f"[a{n},b{n}]"
    if t == "geo":
        return f"[{n % 180}.5,{n % 90}.5]"
    if t == "blob":
        return f"b{n}"
    return f"{prop.name}-{n}"


def key_value(node: NodeTable, n: int) -> Any:
    """The key of node number n as the engine takes it (a UUID or an int)."""
    return uuid.UUID(int=n) if node.key_type == "uuid" else n


def _plant_path(g: SampleGraph, model: GraphModel, t: Traversal) -> None:
    """A path from a fresh start, longer than the walk, that the multiplicities allow."""
    rel = model.rel(t.rel_type)
    single_out = rel.kind in ("many-to-one", "one-to-one")
    single_in = rel.kind == "one-to-one"
    outs: dict[int, int] = defaultdict(int)
    ins: dict[int, int] = defaultdict(int)
    start = g.new_node(t.start)
    label, here, path = t.start, start, [start]
    for _ in range(t.hops + 2):
        if rel.from_label == rel.to_label:
            # A self-relationship is walked the way it points (design: direction "out").
            nxt_label = label
            nxt = g.new_node(nxt_label)
            frm, to = here, nxt
        else:
            nxt_label = rel.to_label if label == rel.from_label else rel.from_label
            nxt = g.new_node(nxt_label)
            frm, to = (here, nxt) if label == rel.from_label else (nxt, here)
        if (single_out and outs[frm]) or (single_in and ins[to]):
            g.nodes[nxt_label].remove(nxt)
            break
        g.edges[rel.type].append((frm, to))
        outs[frm] += 1
        ins[to] += 1
        label, here = nxt_label, nxt
        path.append(nxt)
    if rel.from_label == rel.to_label and t.direction == "out" and len(path) > 2:
        if not single_out or not outs[path[2]]:
            g.edges[rel.type].append((path[2], start))  # a cycle back: the start is never returned
        g.edges[rel.type].append((g.new_node(t.start), start))  # walked against its direction
    g.planted[t.pattern] = ((t.start, start), t.hops)


def build_sample(model: GraphModel) -> SampleGraph:
    """The sample graph: background, one hub per relationship type, a planted path per walk."""
    cfg = graph_data()["sample"]
    rng = random.Random(cfg["seed"])
    g = SampleGraph()
    n = int(cfg["nodes_per_label"])
    for node in model.nodes:
        g.nodes[node.label] = list(range(1, n + 1))
    for rel in model.rels:
        frm, to = g.nodes[rel.from_label][:n], g.nodes[rel.to_label][:n]
        pairs: set[tuple[int, int]] = set()
        if rel.kind == "one-to-one":
            # node i to node i (to i + 1 on a self-relationship: no node is its own partner)
            shift = 1 if rel.from_label == rel.to_label else 0
            pairs = {(a, a + shift) for a in frm[1:-1]}
        else:
            per = 1 if rel.kind == "many-to-one" else max(1, min(
                round(rel.out_degree), int(cfg["max_sample_degree"])))
            for a in frm[1:]:
                for b in rng.sample(to[1:], min(per, len(to) - 1)):
                    if not (a == b and rel.from_label == rel.to_label):
                        pairs.add((a, b))
            # Node 1 is the hub: on the side the spec's max degree is on (for a
            # self-relationship, the side a walk leaves from).
            hub_degree = min(rel.max_degree or 0, int(cfg["supernode_sample"]))
            on_from = rel.from_label == rel.to_label and rel.kind == "many-to-many"
            if hub_degree:
                others = rng.sample(range(2, n + 1), min(hub_degree, n - 1))
                if on_from:
                    pairs |= {(1, b) for b in others}
                    g.hubs[rel.type] = (rel.from_label, 1)
                else:
                    pairs = {(a, b) for a, b in pairs if a not in others or
                             rel.kind != "many-to-one"} | {(a, 1) for a in others}
                    g.hubs[rel.type] = (rel.to_label, 1)
        g.edges[rel.type] = sorted(pairs)
    for t in model.traversals:
        _plant_path(g, model, t)
    return g


def reference_walk(g: SampleGraph, model: GraphModel, t: Traversal,
                   start: int) -> list[tuple[int, int]]:
    """(node, distance) of every `t.end` node within `t.hops` of start, closest first: what the
    query must return, before its LIMIT."""
    rel = model.rel(t.rel_type)
    adj: dict[Node, list[Node]] = defaultdict(list)
    for a, b in g.edges[t.rel_type]:
        if t.direction in ("out", "both"):
            adj[(rel.from_label, a)].append((rel.to_label, b))
        if t.direction in ("in", "both"):
            adj[(rel.to_label, b)].append((rel.from_label, a))
    origin = (t.start, start)
    dist = {origin: 0}
    queue = deque([origin])
    while queue:
        here = queue.popleft()
        if dist[here] == t.hops:
            continue
        for nxt in adj[here]:
            if nxt not in dist:
                dist[nxt] = dist[here] + 1
                queue.append(nxt)
    found = [(node[1], d) for node, d in dist.items()
             if node[0] == t.end and node != origin and d > 0]
    return sorted(found, key=lambda x: (x[1], x[0]))


def _number(value: Any) -> int:
    return value.int if isinstance(value, uuid.UUID) else int(value)


def _starts(g: SampleGraph, model: GraphModel, t: Traversal, rng: random.Random) -> list[int]:
    cfg = graph_data()["sample"]
    starts = [g.planted[t.pattern][0][1]]
    hub = g.hubs.get(t.rel_type)
    if hub is not None:
        rel = model.rel(t.rel_type)
        if hub[0] == t.start:
            starts.append(hub[1])
        else:
            # a neighbour of the hub: its walk crosses the supernode at the second hop
            near = [a if hub[0] == rel.to_label else b for a, b in g.edges[t.rel_type]
                    if (b if hub[0] == rel.to_label else a) == hub[1]]
            starts += near[:1]
    background = [x for x in g.nodes[t.start] if x < _PLANTED_BASE]
    starts += rng.sample(background, min(int(cfg["starts_per_pattern"]), len(background)))
    return list(dict.fromkeys(starts))


def _check_walk(engine: KuzuGraph, g: SampleGraph, model: GraphModel,
                t: Traversal) -> list[Check]:
    rng = random.Random(graph_data()["sample"]["seed"])
    start_node = model.node(t.start)
    problems: list[str] = []
    rows_seen = 0
    planted_detail = ""
    starts = _starts(g, model, t, rng)
    for s in starts:
        rows = engine.execute(t.cypher, {"id": key_value(start_node, s)})
        got = [(_number(r[0]), int(r[1])) for r in rows]
        rows_seen += len(got)
        expected = reference_walk(g, model, t, s)
        want = expected[: t.limit] if t.limit else expected
        if t.limit and len(expected) > t.limit:
            # Ties at the cut-off distance may be broken by key order differently.
            ok = (len(got) == t.limit and set(got) <= set(expected)
                  and [d for _, d in got] == [d for _, d in want])
        else:
            ok = got == want
        if not ok:
            problems.append(f"from {s}: {len(got)} rows, expected {len(want)}")
        if s == g.planted[t.pattern][0][1]:
            far = max((d for _, d in expected), default=0)
            planted_detail = (f"planted start reaches {len(expected)} {t.end} node(s), the "
                              f"farthest at {far} of {t.hops} hops")
            if not expected:
                problems.append("the planted path gives the walk nothing to find")
    return [
        Check(name=f"traversal {t.pattern}", ok=not problems,
              detail="; ".join(problems) if problems else
              f"{rows_seen} rows from {len(starts)} starts equal "
              f"a breadth-first walk of {t.hops} hop(s); {planted_detail}"),
    ]


def verify_part(part: PartDesign, url: str | None) -> PartCheck:
    """Create the graph on Kuzu, load the sample and run every traversal against the reference."""
    check = PartCheck(part=part.part, paradigm=part.paradigm, url=None, ran=False)
    model = GraphModel.model_validate(part.model)
    ddl = part.artifacts.get(KUZU_FILE, "")
    neo4j = part.artifacts.get(NEO4J_FILE, "")
    try:
        with KuzuGraph() as engine:
            check.ran, check.engine = True, f"kuzu {engine.version} (embedded)"
            applied = engine.apply(ddl)
            check.checks.append(Check(
                name="schema", ok=len(applied) == len(model.nodes) + len(model.rels),
                detail=f"{KUZU_FILE}: {len(model.nodes)} node tables, {len(model.rels)} "
                       f"relationship tables created"))
            g = build_sample(model)
            loaded_nodes = sum(engine.copy(cypher_name(n.label), (
                [str(key_value(n, i)), *(_value(p, i) for p in n.properties[1:])]
                for i in g.nodes[n.label])) for n in model.nodes)
            loaded_rels = 0
            for r in model.rels:
                frm, to = model.node(r.from_label), model.node(r.to_label)
                loaded_rels += engine.copy(cypher_name(r.type), (
                    [str(key_value(frm, a)), str(key_value(to, b)),
                     *(_value(p, k) for p in r.properties)]
                    for k, (a, b) in enumerate(g.edges[r.type])))
            counted = sum(
                int(engine.execute(f"MATCH (n:{cypher_name(n.label)}) RETURN count(*)")[0][0])
                for n in model.nodes)
            check.checks.append(Check(
                name="sample", ok=counted == loaded_nodes,
                detail=f"{loaded_nodes} nodes and {loaded_rels} relationships loaded, with a "
                       f"hub on {', '.join(sorted(g.hubs)) or 'no relationship'}"))
            for t in model.traversals:
                check.checks += _check_walk(engine, g, model, t)
            missing = [t.pattern for t in model.traversals if t.cypher not in neo4j]
            check.checks.append(Check(
                name="neo4j queries", ok=not missing,
                detail=f"{NEO4J_FILE} carries the {len(model.traversals)} queries run here"
                       if not missing else f"{NEO4J_FILE} lacks {', '.join(missing)}"))
    except EngineError as exc:
        check.error = str(exc)
    return check
