"""Graph design: the part of a workload `dbarch recommend` places on a graph database.

The selector puts entities in a graph part when their traversals fan out several hops deep
(`traversal_work`, `traversal_depth`); usually as a projection whose records of truth stay in
the primary store. This module turns that part into a property graph: a node table per entity
(the part's entities and the ones at the other end of the relationships they traverse), a
relationship table per spec relationship between them, each traversal pattern as one Cypher
query, and the constraints and indexes those queries need. It renders Neo4j Cypher (the
product) and Kuzu DDL (the embedded engine `dbarch verify` runs the same queries on), sizes the
store from Neo4j's record sizes, and estimates each traversal's relationship reads from the
spec's degrees, so that a supernode (a device farm, a payroll account) becomes a finding
instead of a p99 surprise. Figures come from `dbarch/data/graph.yaml`.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from dbarch.data_files import load_yaml
from dbarch.design.keys import uuid_reason
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.queries import resolve_via
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision
from dbarch.select.tuning import tuning
from dbarch.spec.model import (
    AccessPattern,
    AttrType,
    Consistency,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    snake,
)
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

NEO4J_FILE = "schema/graph.neo4j.cypher"
KUZU_FILE = "schema/graph.kuzu.cypher"
# Attribute types a walk prunes on (a status, a flag): small, so they ride along on the node.
_FILTER_TYPES = frozenset({AttrType.enum, AttrType.bool})


@cache
def graph_data() -> dict[str, Any]:
    """The parsed `dbarch/data/graph.yaml` (loaded once)."""
    data: dict[str, Any] = load_yaml("graph.yaml")
    return data


class GraphProperty(BaseModel):
    """A property of a node or relationship table, with why the projection carries it."""

    name: str
    type: str = Field(description="The spec's attribute type (AttrType value)")
    unique: bool = False
    indexed: bool = False
    reason: str = ""


class NodeTable(BaseModel):
    """One node label: an entity of the spec."""

    label: str
    entity: str
    key_type: str = Field(description="bigint or uuid: the primary store's key type")
    properties: list[GraphProperty] = Field(default_factory=list)
    nodes_now: int = 0
    nodes_horizon: int = 0
    member: bool = Field(True, description="In the part's entities (else a traversed neighbour)")


class RelTable(BaseModel):
    """One relationship type: a spec relationship, stored FROM the referring side."""

    type: str
    relationship: str = Field(description="The spec relationship's name or field name")
    from_label: str
    to_label: str
    kind: str = Field(description="RelKind value read FROM → TO")
    properties: list[GraphProperty] = Field(default_factory=list)
    rels_now: int = 0
    rels_horizon: int = 0
    out_degree: float = Field(1.0, description="Average relationships per FROM node")
    in_degree: float = Field(1.0, description="Average relationships per TO node")
    max_degree: int | None = Field(None, description="The spec's max_fanout: the worst node")
    max_side: Literal["from", "to", "both"] = "both"
    traversed_by: list[str] = Field(default_factory=list)


class Traversal(BaseModel):
    """One traversal access pattern as a Cypher query, with its estimated cost."""

    pattern: str
    start: str
    rel_type: str
    direction: Literal["out", "in", "both"]
    hops: int
    end: str
    limit: int | None
    rate: float
    p99: float | None
    degrees: list[float] = Field(description="Average relationships read per node, per hop")
    avg_reads: float
    worst_reads: float | None
    budget: float | None = Field(None, description="Relationship reads a p99 allows")
    cypher: str


class GraphModel(BaseModel):
    """A graph part's design as data: what `dbarch verify` rebuilds on Kuzu."""

    nodes: list[NodeTable]
    rels: list[RelTable]
    traversals: list[Traversal]

    def node(self, label: str) -> NodeTable:
        """The node table of `label`."""
        return next(n for n in self.nodes if n.label == label)

    def rel(self, type_: str) -> RelTable:
        """The relationship table of `type_`."""
        return next(r for r in self.rels if r.type == type_)


# --- the model ---------------------------------------------------------------------------


def _ends(r: Relationship) -> tuple[str, str]:
    """(FROM, TO) as stored: a reference points from the child to its parent."""
    if r.kind == RelKind.many_to_many:
        return r.from_, r.to
    return r.child, r.parent


def _rel_name(r: Relationship) -> str:
    return r.name or (r.field_name if r.kind != RelKind.many_to_many else snake(r.to))


def _traversals(spec: Spec, decision: Decision) -> list[AccessPattern]:
    names = set(decision.patterns)
    return [p for p in spec.access_patterns
            if p.kind == PatternKind.traversal and p.name in names]


def _node_properties(spec: Spec, entity: str, patterns: list[AccessPattern]) -> list[GraphProperty]:
    """The key, natural keys a walk starts from, what traversals filter on, and status flags.

    Sensitive attributes stay in the primary store: a projection is one more copy of PII to
    secure and erase, and no walk needs them.
    """
    key = "uuid" if uuid_reason(spec, entity) else "bigint"
    props = [GraphProperty(name="id", type=key, unique=True, indexed=True,
                           reason="primary key, shared with the primary store")]
    used = {f for p in patterns if p.entity == entity
            for f in (*p.where, *(s for s, _ in p.sort), *p.project)}
    for name, attr in spec.entities[entity].attributes.items():
        if attr.sensitive:
            continue
        if attr.unique:
            props.append(GraphProperty(name=name, type=attr.type.value, unique=True, indexed=True,
                                       reason="natural key: a walk may start from it"))
        elif name in used:
            props.append(GraphProperty(name=name, type=attr.type.value, indexed=True,
                                       reason="a traversal filters or sorts on it"))
        elif attr.type in _FILTER_TYPES:
            props.append(GraphProperty(name=name, type=attr.type.value,
                                       reason="a status a walk prunes on, read on visited nodes"))
    return props


def _rel_table(spec: Spec, r: Relationship, taken: set[str]) -> RelTable:
    frm, to = _ends(r)
    name = _rel_name(r)
    rtype = name.upper()
    if rtype.lower() in taken:
        # Kuzu's catalogue is case-insensitive across node and relationship tables.
        rtype = f"{snake(frm).upper()}_{rtype}"
    taken.add(rtype.lower())
    default = tuning().number("traversal_default_fanout")
    horizon = spec.scale.horizon_years
    vol_f, vol_t = spec.entities[frm].volume, spec.entities[to].volume
    hor_f = spec.entities[frm].volume_at(horizon)
    if r.kind == RelKind.many_to_many:
        out = float(r.fanout or default)
        inn = out * vol_f / vol_t if vol_t else out
        side: Literal["from", "to", "both"] = "both"
    elif r.kind == RelKind.one_to_one:
        out, inn, side = 1.0, 1.0, "both"
    else:
        out = 1.0
        inn = float(r.fanout or (vol_f / vol_t if vol_t else default))
        side = "to"
    props = [GraphProperty(name=a, type=attr.type.value)
             for a, attr in r.attributes.items() if not attr.sensitive]
    return RelTable(
        type=rtype, relationship=name, from_label=frm, to_label=to,
        kind=r.kind.value if r.kind != RelKind.one_to_many else RelKind.many_to_one.value,
        properties=props, rels_now=int(vol_f * out), rels_horizon=int(hor_f * out),
        out_degree=round(out, 2), in_degree=round(inn, 2), max_degree=r.max_fanout,
        max_side=side)


def _walk_cost(degrees: list[float], worst: list[float | None]) -> tuple[float, float | None]:
    """Relationships read by a walk: the sum of the frontiers (average), and the largest sum
    when one node on the way is the worst node of its hop."""
    def total(ds: list[float]) -> float:
        frontier, reads = 1.0, 0.0
        for d in ds:
            reads += frontier * d
            frontier *= d
        return reads

    avg = total(degrees)
    swaps = [total([*degrees[:j], w, *degrees[j + 1:]])
             for j, w in enumerate(worst) if w is not None and w > degrees[j]]
    return avg, (max(swaps) if swaps else None)


def cypher_name(identifier: str) -> str:
    """A label, type or property name as Cypher reads it: backquoted when it is a keyword
    (an entity `Order`, a relationship `group`), which Neo4j and Kuzu reject bare."""
    reserved: list[str] = graph_data()["reserved_words"]
    return f"`{identifier}`" if identifier.upper() in reserved else identifier


def traversal_cypher(t: Traversal) -> str:
    """The Cypher of a traversal: the distinct nodes within `hops`, closest first.

    The same text runs on Neo4j and Kuzu: `$id` is the start node's key, `min(length(p))` its
    distance (walks, trails and shortest paths agree on it), and the start is excluded when
    the walk can come back to it.
    """
    span = "" if t.hops == 1 else f"*1..{t.hops}"
    rt, start, end = cypher_name(t.rel_type), cypher_name(t.start), cypher_name(t.end)
    rel = {"out": f"-[:{rt}{span}]->", "in": f"<-[:{rt}{span}]-",
           "both": f"-[:{rt}{span}]-"}[t.direction]
    lines = [f"MATCH p = (start:{start} {{id: $id}}){rel}(other:{end})"]
    if t.end == t.start:
        lines.append("WHERE other.id <> start.id")
    lines.append("RETURN other.id AS id, min(length(p)) AS hops")
    lines.append("ORDER BY hops, id")
    if t.limit:
        lines.append(f"LIMIT {t.limit}")
    return "\n".join(lines)


def _traversal(spec: Spec, p: AccessPattern, rel: RelTable, data: dict[str, Any]) -> Traversal:
    assert p.entity is not None
    self_rel = rel.from_label == rel.to_label
    if self_rel:
        # A self-relationship is walked the way it points: who an account pays, a manager chain.
        direction: Literal["out", "in", "both"] = "out"
        end = p.entity
        sides = ["from"] * p.hops
    elif p.hops == 1:
        direction = "out" if p.entity == rel.from_label else "in"
        end = rel.to_label if direction == "out" else rel.from_label
        sides = ["from" if direction == "out" else "to"]
    else:
        # Each hop crosses to the other label, so a walk alternates: undirected is exact.
        direction = "both"
        other = rel.to_label if p.entity == rel.from_label else rel.from_label
        end = p.entity if p.hops % 2 == 0 else other
        first = "from" if p.entity == rel.from_label else "to"
        flip = {"from": "to", "to": "from"}
        sides = [first if k % 2 == 0 else flip[first] for k in range(p.hops)]
    degrees = [rel.out_degree if s == "from" else rel.in_degree for s in sides]
    worst: list[float | None] = [
        float(rel.max_degree) if rel.max_degree and rel.max_side in (s, "both") else None
        for s in sides]
    avg, worst_reads = _walk_cost(degrees, worst)
    budget = p.p99 * float(data["expand_per_second"]) if p.p99 else None
    t = Traversal(pattern=p.name, start=p.entity, rel_type=rel.type, direction=direction,
                  hops=p.hops, end=end, limit=p.limit, rate=p.rate, p99=p.p99, degrees=degrees,
                  avg_reads=round(avg, 1),
                  worst_reads=round(worst_reads, 1) if worst_reads is not None else None,
                  budget=budget, cypher="")
    t.cypher = traversal_cypher(t)
    return t


def build_model(spec: Spec, decision: Decision) -> tuple[GraphModel, list[PartFinding]]:
    """The graph of a part: its node and relationship tables and traversal queries."""
    data = graph_data()
    findings: list[PartFinding] = []
    patterns = _traversals(spec, decision)
    labels = [e for e in decision.entities if e in spec.entities]
    resolved: dict[str, Relationship] = {}
    for p in patterns:
        assert p.entity is not None and p.via is not None
        r = resolve_via(spec, p.entity, p.via)
        if r is None:
            findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} follows {p.via!r}, which is no relationship of {p.entity}: "
                        "there is nothing to traverse."))
            continue
        resolved[p.name] = r
        labels += [e for e in (r.from_, r.to) if e not in labels]
    taken = {label.lower() for label in labels}
    nodes = []
    for e in labels:
        size = entity_size(spec, e)
        nodes.append(NodeTable(
            label=e, entity=e, key_type="uuid" if uuid_reason(spec, e) else "bigint",
            properties=_node_properties(spec, e, patterns), nodes_now=size.rows_now,
            nodes_horizon=size.rows_horizon, member=e in decision.entities))
    rels: list[RelTable] = []
    by_rel: dict[int, RelTable] = {}
    for r in spec.relationships:
        if r.from_ in labels and r.to in labels:
            table = _rel_table(spec, r, taken)
            rels.append(table)
            by_rel[id(r)] = table
    traversals = []
    for p in patterns:
        if p.name not in resolved:
            continue
        table = by_rel[id(resolved[p.name])]
        table.traversed_by.append(p.name)
        traversals.append(_traversal(spec, p, table, data))
    return GraphModel(nodes=nodes, rels=rels, traversals=traversals), findings


# --- findings ----------------------------------------------------------------------------


def _findings(spec: Spec, decision: Decision, model: GraphModel) -> list[PartFinding]:
    data = graph_data()
    out: list[PartFinding] = []
    threshold = int(data["supernode_degree"])
    rate = float(data["expand_per_second"])
    for t in model.traversals:
        rel = model.rel(t.rel_type)
        if t.budget is not None and t.avg_reads > t.budget:
            out.append(PartFinding(
                severity="warning", pattern=t.pattern,
                message=f"{t.pattern}: the average {t.hops}-hop walk reads "
                        f"≈{human_count(t.avg_reads)} relationships, more than the "
                        f"{human_count(t.budget)} a p99 of {human_duration(t.p99 or 0)} allows at "
                        f"{human_count(rate)} expansions/s: fewer hops, or precompute the "
                        "neighbourhood (a nightly ring id on each node)."))
        if t.worst_reads is not None and (rel.max_degree or 0) >= threshold:
            over = (f", {t.worst_reads / t.budget:.0f}× the {human_count(t.budget)} its p99 of "
                    f"{human_duration(t.p99 or 0)} allows" if t.budget and t.worst_reads > t.budget
                    else "")
            out.append(PartFinding(
                severity="warning", pattern=t.pattern,
                message=f"supernode: a {rel.to_label if rel.max_side == 'to' else 'node'} with "
                        f"{human_count(rel.max_degree or 0)} {rel.type} relationships (max_fanout) "
                        f"turns {t.pattern} into ≈{human_count(t.worst_reads)} relationship reads"
                        f"{over}. Keep a degree count on the node and stop the walk at nodes "
                        f"above {human_count(threshold)} (report them as hubs instead), or split "
                        "the hub's relationships by time."))
        if t.limit is None:
            out.append(PartFinding(
                severity="warning", pattern=t.pattern,
                message=f"{t.pattern} has no limit: the result grows with the neighbourhood "
                        f"(≈{human_count(t.avg_reads)} relationships on average); give it one."))
        p = next(a for a in spec.access_patterns if a.name == t.pattern)
        if decision.projection_of and p.consistency == Consistency.strong \
                and "consistency" in p.model_fields_set:
            out.append(PartFinding(
                severity="warning", pattern=t.pattern,
                message=f"{t.pattern} must see the latest write, but this graph is a projection "
                        f"of {decision.projection_of} fed asynchronously: serve it from the "
                        "primary or accept the sync lag."))
    traversed = {t.rel_type for t in model.traversals}
    for rel in model.rels:
        if rel.type not in traversed and (rel.max_degree or 0) >= threshold:
            out.append(PartFinding(
                severity="info",
                message=f"{rel.type} nodes reach {human_count(rel.max_degree or 0)} relationships "
                        "(max_fanout); no traversal crosses them now, a new one would."))
        if rel.type in traversed and rel.max_degree is None:
            out.append(PartFinding(
                severity="info",
                message=f"{rel.relationship} gives no max_fanout: the supernode risk of the "
                        f"walks over {rel.type} is unknown; state the largest degree in the spec."))
    limit = (load_yaml("products.yaml").get(decision.product, {}).get("limits", {})
             .get("max_nodes", {}).get("value"))
    total = sum(n.nodes_horizon for n in model.nodes)
    if limit and total > limit:
        out.append(PartFinding(
            severity="error",
            message=f"{human_count(total)} nodes at the horizon exceed {decision.product_name}'s "
                    f"{human_count(limit)} node limit."))
    return out


# --- sizes -------------------------------------------------------------------------------


def store_bytes(model: GraphModel, horizon: bool = True) -> dict[str, float]:
    """Estimated Neo4j store size: node, relationship and property records, and indexes."""
    data = graph_data()
    rec = data["record_bytes"]
    per = int(data["properties_per_record"])
    nodes = sum((n.nodes_horizon if horizon else n.nodes_now) for n in model.nodes)
    node_props = sum((n.nodes_horizon if horizon else n.nodes_now)
                     * math.ceil(len(n.properties) / per) for n in model.nodes)
    rels = sum((r.rels_horizon if horizon else r.rels_now) for r in model.rels)
    rel_props = sum((r.rels_horizon if horizon else r.rels_now)
                    * math.ceil(len(r.properties) / per) for r in model.rels)
    out = {"nodes": nodes * rec["node"], "relationships": rels * rec["relationship"],
           "properties": (node_props + rel_props) * rec["property_record"]}
    out["indexes"] = sum(out.values()) * float(data["index_share"])
    out["total"] = sum(out.values())
    return out


# --- rendering ---------------------------------------------------------------------------


def render_neo4j(model: GraphModel, system: str) -> str:
    """Neo4j 5 Cypher: uniqueness constraints, range indexes, and the traversal queries."""
    lines = [f"// {system}: graph schema for Neo4j 5 (generated by dbarch design)",
             "// Uniqueness constraints (Community edition); each is backed by a range index,",
             "// which is also how a walk finds its start node.", ""]
    for n in model.nodes:
        for prop in n.properties:
            if prop.unique:
                lines.append(f"CREATE CONSTRAINT {snake(n.label)}_{prop.name}_unique IF NOT EXISTS "
                             f"FOR (n:{cypher_name(n.label)}) "
                             f"REQUIRE n.{cypher_name(prop.name)} IS UNIQUE;")
    indexes = [(n, p) for n in model.nodes for p in n.properties if p.indexed and not p.unique]
    if indexes:
        lines += ["", "// Range indexes on what traversals filter their start by."]
        lines += [f"CREATE INDEX {snake(n.label)}_{p.name} IF NOT EXISTS "
                  f"FOR (n:{cypher_name(n.label)}) ON (n.{cypher_name(p.name)});"
                  for n, p in indexes]
    lines += ["", "// Relationship types (created with the first relationship; listed for review):"]
    for r in model.rels:
        props = ", ".join(f"{p.name}: {p.type}" for p in r.properties) or "no properties"
        lines.append(f"//   (:{r.from_label})-[:{r.type}]->(:{r.to_label})  {r.kind}; {props}")
    for t in model.traversals:
        lines += ["", f"// {t.pattern}: {t.hops} hop(s) over {t.rel_type} at {human_rate(t.rate)}"
                      + (f", p99 {human_duration(t.p99)}" if t.p99 else "")
                      + f"; ≈{human_count(t.avg_reads)} relationships read per query",
                  f"// :param id => <{t.start} id>", t.cypher + ";"]
    return "\n".join(lines) + "\n"


def kuzu_type(prop: GraphProperty) -> str:
    """The Kuzu column type of a property."""
    types: dict[str, str] = graph_data()["kuzu_types"]
    return types[prop.type]


def render_kuzu(model: GraphModel, system: str) -> str:
    """Kuzu DDL: a NODE TABLE per label, a REL TABLE per relationship type, and the queries."""
    mult = graph_data()["kuzu_multiplicity"]
    lines = [f"// {system}: graph schema for Kuzu (generated by dbarch design)",
             "// Kuzu indexes the primary key only (a hash index); uniqueness of the other",
             "// natural keys is enforced by the store of record this graph is projected from.",
             ""]
    for n in model.nodes:
        cols = ", ".join(f"{cypher_name(p.name)} {kuzu_type(p)}" for p in n.properties)
        lines.append(f"CREATE NODE TABLE {cypher_name(n.label)}({cols}, PRIMARY KEY (id));")
    for r in model.rels:
        cols = "".join(f", {cypher_name(p.name)} {kuzu_type(p)}" for p in r.properties)
        lines.append(f"CREATE REL TABLE {cypher_name(r.type)}(FROM {cypher_name(r.from_label)} "
                     f"TO {cypher_name(r.to_label)}{cols}, "
                     f"{mult[r.kind]});")
    for t in model.traversals:
        lines += ["", f"// {t.pattern} ($id: the start {t.start}'s key)", t.cypher + ";"]
    return "\n".join(lines) + "\n"


def _section(spec: Spec, decision: Decision, model: GraphModel) -> str:
    data = graph_data()
    rate = float(data["expand_per_second"])
    size = store_bytes(model)
    source = (f"a projection of {decision.projection_of}: the records of truth stay there and "
              "a change feed (outbox or CDC) keeps the graph current, so walks see writes after "
              "the sync lag" if decision.projection_of else "the store of record for these "
              "entities")
    out = [
        f"The graph holds {', '.join(n.label for n in model.nodes)} as nodes and "
        f"{', '.join(r.type for r in model.rels)} as relationships; it is {source}. Nodes carry "
        "their key, natural keys and the statuses a walk prunes on; sensitive attributes stay "
        "in the primary store.",
        "",
        "#### Nodes",
        "",
        "| Label | Key | Properties | Nodes now → horizon |",
        "|---|---|---|---:|",
    ]
    for n in model.nodes:
        props = ", ".join(f"{p.name}{' (unique)' if p.unique else ''}"
                          for p in n.properties if p.name != "id") or "—"
        out.append(f"| {n.label}{'' if n.member else ' (neighbour)'} | id {n.key_type} | {props} "
                   f"| {human_count(n.nodes_now)} → {human_count(n.nodes_horizon)} |")
    out += ["", "#### Relationships", "",
            "| Type | From → to | Kind | Properties | Now → horizon | Avg degree out / in "
            "| Max degree |",
            "|---|---|---|---|---:|---:|---:|"]
    for r in model.rels:
        props = ", ".join(p.name for p in r.properties) or "—"
        dense = (" (dense above " f"{data['dense_node_threshold']})"
                 if (r.max_degree or 0) > int(data["dense_node_threshold"]) else "")
        out.append(f"| {r.type} | {r.from_label} → {r.to_label} | {r.kind} | {props} | "
                   f"{human_count(r.rels_now)} → {human_count(r.rels_horizon)} | "
                   f"{r.out_degree:g} / {r.in_degree:g} | "
                   f"{human_count(r.max_degree) if r.max_degree else 'not given'}{dense} |")
    out += ["", "#### Traversals", "",
            "Relationship reads per query are the sum of the frontiers hop by hop from the "
            "average degrees; the worst case puts the spec's largest degree (max_fanout) on one "
            f"hop. The budget is the p99 times {human_count(rate)} relationship expansions per "
            "second per core (graph.yaml).", "",
            "| Pattern | Walk | Rate | p99 | Reads/query avg | Worst | Budget | Cores at rate |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for t in model.traversals:
        walk = f"{t.start} -{t.rel_type}×{t.hops}{'->' if t.direction == 'out' else '-'} {t.end}"
        cores = t.avg_reads * t.rate / rate
        out.append(f"| {t.pattern} | {walk} | {human_rate(t.rate)} | "
                   f"{human_duration(t.p99) if t.p99 else '—'} | {human_count(t.avg_reads)} | "
                   f"{human_count(t.worst_reads) if t.worst_reads is not None else '—'} | "
                   f"{human_count(t.budget) if t.budget else '—'} | {cores:.2g} |")
    for t in model.traversals:
        out += ["", f"`{t.pattern}` (degrees per hop: "
                    f"{', '.join(f'{d:g}' for d in t.degrees)}):", "", "```cypher", t.cypher, "```"]
    uniques = [f"{n.label}.{p.name}" for n in model.nodes for p in n.properties if p.unique]
    indexed = [f"{n.label}.{p.name}" for n in model.nodes for p in n.properties
               if p.indexed and not p.unique]
    out += ["", "#### Constraints and indexes", "",
            f"Uniqueness constraints on {', '.join(uniques)}: each walk starts with an index "
            "seek on its start node's key, then follows relationships by adjacency, with no "
            "index per hop. "
            + (f"Range indexes on {', '.join(indexed)} serve the start filters. " if indexed
               else "No other index: no traversal filters its start by anything but a key, "
                    "and statuses are read on the nodes a walk visits. ")
            + "Kuzu indexes the primary key only, so there the other keys are unique because "
              "the store of record says so.",
            "", "#### Size", "",
            f"At the horizon (Neo4j record sizes: node {data['record_bytes']['node']} B, "
            f"relationship {data['record_bytes']['relationship']} B, property record "
            f"{data['record_bytes']['property_record']} B per {data['properties_per_record']} "
            f"properties; indexes +{float(data['index_share']):.0%}): nodes "
            f"{human_bytes(size['nodes'])}, relationships {human_bytes(size['relationships'])}, "
            f"properties {human_bytes(size['properties'])}, indexes {human_bytes(size['indexes'])}"
            f"; total ≈{human_bytes(size['total'])}. Size the page cache to hold it all: a walk "
            "that misses the cache pays a disk read per hop."]
    return "\n".join(out)


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The graph design of one part: Cypher for Neo4j and Kuzu, the section, the findings."""
    model, findings = build_model(spec, decision)
    findings += _findings(spec, decision, model)
    size = store_bytes(model)
    summary = (f"{len(model.nodes)} node labels, {len(model.rels)} relationship types and "
               f"{len(model.traversals)} traversal queries on {decision.product_name}; "
               f"≈{human_bytes(size['total'])} at the horizon.")
    return PartDesign(
        part=decision.part, paradigm=decision.paradigm.value, product=decision.product,
        summary=summary, section=_section(spec, decision, model),
        artifacts={NEO4J_FILE: render_neo4j(model, spec.system),
                   KUZU_FILE: render_kuzu(model, spec.system)},
        findings=findings, model=model.model_dump(mode="json"))
