"""Scoring paradigms and splitting the workload into parts.

Consolidate by default. Every entity starts in the primary store; a group of entities leaves it
only when a specialist store beats the primary by more than the operational cost of running
that store (a number in `data/selection.yaml`, lower when the team already runs the product or
when it lives inside the primary, like TimescaleDB in PostgreSQL).

Two kinds of split:
- a *move* (document, key-value, time-series): the entities' records of truth live in the
  specialist store. Entities bound by a multi-entity transaction or an owned relationship move
  together, unless the store is co-located with the primary (the same server), where
  transactions and foreign keys still work.
- a *projection* (search, blob, graph): the entity stays in the primary; the specialist holds
  a copy of some fields (a search index, a graph of the links) or the entity's binaries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from dbarch.select.catalogue import (
    Candidate,
    Catalogue,
    Context,
    Needs,
    Product,
    catalogue,
    evaluate,
)
from dbarch.select.model import Paradigm
from dbarch.select.signals import EntityFacts, Fact, read_facts
from dbarch.select.tuning import Tuning, tuning
from dbarch.spec.model import AttrType, Op, PatternKind, Spec

MOVES = (Paradigm.key_value, Paradigm.time_series, Paradigm.document)
PROJECTIONS: dict[Paradigm, frozenset[str]] = {
    Paradigm.search: frozenset({"text_search", "text_search_rate", "text_search_docs",
                                "faceted_search", "searchable_attribute", "strong_search"}),
    Paradigm.blob: frozenset({"large_binary", "binary_volume"}),
    Paradigm.graph: frozenset({"traversal_work", "traversal_depth", "traversal_relational",
                               "strong_traversal"}),
}
_PROJECTED = frozenset().union(*PROJECTIONS.values())
# Facts that only a relational store answers natively; a spec without any is not relational.
RELATIONAL_FACTS = frozenset({"references", "many_to_many", "owned_children",
                              "multi_entity_transaction", "secondary_filter",
                              "unique_constraint", "joined_read"})


@dataclass
class Option:
    """Moving (or projecting) some entities to one product: what it gains and costs."""

    paradigm: Paradigm
    candidate: Candidate
    entities: list[str]
    gain: float
    cost: float
    alternatives: list[Candidate] = field(default_factory=list)

    @property
    def net(self) -> float:
        """Gain minus cost, and minus the latency penalty when the product is slower than a
        pattern's p99 target."""
        penalty = tuning().latency_penalty if self.candidate.latency_note else 0.0
        return self.gain - self.cost - penalty


@dataclass
class PartPlan:
    """One part of the workload and the product chosen for it."""

    paradigm: Paradigm
    candidate: Candidate
    entities: list[str]
    facts: list[Fact]
    gain: float = 0.0
    cost: float = 0.0
    projection: bool = False
    fields: dict[str, list[str]] = field(default_factory=dict)
    patterns: list[str] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)
    gains: dict[str, float] = field(default_factory=dict)


@dataclass
class Plan:
    """The parts (primary first) and what was weighed on the way."""

    parts: list[PartPlan]
    facts: dict[str, EntityFacts]
    context: Context
    considered: list[str] = field(default_factory=list)
    kept: list[Option] = field(default_factory=list)


class _Planner:
    def __init__(self, spec: Spec, t: Tuning, cat: Catalogue) -> None:
        self.spec, self.t, self.cat = spec, t, cat
        self.facts = read_facts(spec, t)
        self.ctx = self.base_ctx = Context.of(spec, cat)
        self.needs_failover = spec.scale.availability >= t.availability_needs_failover
        self.considered: list[str] = []
        self.kept: list[Option] = []
        self.position = {e: i for i, e in enumerate(spec.entities)}
        self._move_scores: dict[tuple[str, Paradigm], float] = {}
        self._probes: dict[tuple[str, Paradigm], Candidate] = {}
        # The tightest read latency target per entity, for products whose floor is above it.
        self.p99: dict[str, tuple[float, str]] = {}
        for p in spec.access_patterns:
            if p.p99 is None or p.kind == PatternKind.write or p.entity is None:
                continue
            ms = p.p99 * 1000
            if p.entity not in self.p99 or ms < self.p99[p.entity][0]:
                self.p99[p.entity] = (ms, p.name)

    def move_score(self, entity: str, paradigm: Paradigm) -> float:
        """The entity's score for `paradigm` without the facts projections handle."""
        cached = self._move_scores.get((entity, paradigm))
        if cached is None:
            cached = sum(f.weights.get(paradigm, 0.0) for f in self.facts[entity].facts
                         if f.name not in _PROJECTED)
            self._move_scores[(entity, paradigm)] = cached
        return cached

    # --- needs ---------------------------------------------------------------------------

    def needs(self, facts: list[Fact], entities: list[str], with_blobs: bool = True) -> Needs:
        caps = {c for f in facts for c in f.requires}
        if self.needs_failover:
            caps |= {"replication", "automatic_failover"}
        item = max((self.facts[e].size.row_bytes + (self.facts[e].size.blob_bytes
                                                    if with_blobs else 0)
                    for e in entities), default=0)
        targets = [self.p99[e] for e in entities if e in self.p99]
        target, name = min(targets) if targets else (None, "")
        return Needs(frozenset(caps), item, target, name)

    def candidates(self, paradigm: Paradigm, needs: Needs) -> list[Candidate]:
        found = [evaluate(p, paradigm, self.ctx, needs, self.t, self.cat)
                 for p in self.cat.for_paradigm(paradigm)]
        viable = sorted((c for c in found if c.rejected is None), key=lambda c: -c.rank)
        return viable + [c for c in found if c.rejected is not None]

    # --- primary -------------------------------------------------------------------------

    def primary_paradigm(self) -> Paradigm:
        if any(f.name in RELATIONAL_FACTS for ef in self.facts.values() for f in ef.facts):
            return Paradigm.relational
        totals = {p: sum(ef.score(p) for ef in self.facts.values())
                  for p in (Paradigm.relational, *MOVES)}
        return max(totals, key=lambda p: (totals[p], p == Paradigm.relational))

    def primary(self, paradigm: Paradigm) -> tuple[Candidate, list[Candidate]]:
        entities = list(self.facts)
        facts = [f for ef in self.facts.values() for f in ef.facts
                 if not any(f.name in names for names in PROJECTIONS.values())]
        ranked = self.candidates(paradigm, self.needs(facts, entities, with_blobs=False))
        viable = [c for c in ranked if c.rejected is None]
        if not viable:
            # Nothing meets every need (say multi-region writes while self-hosting): take the
            # best fit anyway and say what it lacks rather than recommend nothing.
            ranked = self.candidates(paradigm, Needs())
            self.considered.append(
                f"No {paradigm.value} product meets every requirement; {ranked[0].product.name} "
                "is the closest — see its rejected alternatives for what is missing.")
        return ranked[0], ranked

    # --- groups --------------------------------------------------------------------------

    def groups(self) -> list[list[str]]:
        """Entities bound by multi-entity transactions or owned relationships, spec order."""
        parent = {e: e for e in self.spec.entities}

        def find(e: str) -> str:
            while parent[e] != e:
                parent[e] = parent[parent[e]]
                e = parent[e]
            return e

        def union(a: str, b: str) -> None:
            if a in parent and b in parent:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb, key=self.order)] = min(ra, rb, key=self.order)

        for p in self.spec.access_patterns:
            if p.kind == PatternKind.write and p.transaction:
                for other in p.touches[1:]:
                    union(p.touches[0], other)
        for r in self.spec.relationships:
            if r.owned:
                union(r.from_, r.to)
        out: dict[str, list[str]] = defaultdict(list)
        for e in self.spec.entities:
            out[find(e)].append(e)
        return list(out.values())

    def order(self, entity: str) -> int:
        return self.position[entity]

    # --- moves ---------------------------------------------------------------------------

    def move_options(self, group: list[str], prim: Paradigm, primary: Candidate,
                     opened: set[str]) -> list[Option]:
        options = []
        for paradigm in MOVES:
            if paradigm == prim:
                continue
            positive = [e for e in group if self.move_score(e, paradigm) > 0]
            if not positive:
                continue
            for product in self.cat.for_paradigm(paradigm):
                if product.id == primary.product.id and paradigm not in product.own_part:
                    continue
                probe = self.probe(product, paradigm)
                if probe.rejected:
                    continue
                fit = product.fit[paradigm]
                per_entity = {e: self.move_score(e, paradigm) * fit - self.move_score(e, prim)
                              for e in positive}
                if probe.colocated:
                    unit = [e for e in positive if per_entity[e] > 0]
                elif len(positive) == len(group):
                    unit = group
                else:
                    continue   # some entity of the group has nothing for this paradigm
                if not unit:
                    continue
                gain = sum(per_entity[e] for e in unit)
                if gain <= 0:
                    continue
                unit_facts = [f for e in unit for f in self.facts[e].facts]
                cand = evaluate(product, paradigm, self.ctx, self.needs(unit_facts, unit),
                                self.t, self.cat)
                if cand.rejected:
                    continue
                cost = min(self.t.cost.marginal, cand.cost) if product.id in opened else cand.cost
                options.append(Option(paradigm, cand, unit, round(gain, 2), cost))
        return options

    def probe(self, product: Product, paradigm: Paradigm) -> Candidate:
        """`product` for `paradigm` judged on placement and cost only (cached per plan)."""
        key = (product.id, paradigm)
        if key not in self._probes:
            self._probes[key] = evaluate(product, paradigm, self.ctx, Needs(), self.t, self.cat)
        return self._probes[key]

    def moves(self, prim: Paradigm, primary: Candidate) -> list[Option]:
        groups = self.groups()

        def best(group: list[str], opened: set[str]) -> Option | None:
            opts = self.move_options(group, prim, primary, opened)
            return max(opts, key=lambda o: (o.net, o.candidate.rank), default=None)

        first = [(g, best(g, set())) for g in groups]
        first.sort(key=lambda pair: -(pair[1].net if pair[1] else -1e9))
        opened: set[str] = set()
        chosen: list[Option] = []
        # Options only change when a store opens; reuse them until then.
        known = {id(g): (option, frozenset()) for g, option in first}
        pending = [g for g, _ in first]
        for _ in range(2):   # a second pass lets groups join a store opened later
            still = []
            for g in pending:
                option, seen = known[id(g)]
                if seen != opened:
                    option = best(g, opened)
                    known[id(g)] = (option, frozenset(opened))
                if option and option.net > 0:
                    chosen.append(option)
                    opened.add(option.candidate.product.id)
                else:
                    still.append(g)
            pending = still
        for g in pending:
            option, seen = known[id(g)]
            if seen != opened:
                option = best(g, opened)
            if option and option.gain > 0:
                self.kept.append(option)
        return chosen

    # --- projections ---------------------------------------------------------------------

    def projections(self, prim: Paradigm, primary: Candidate,
                    core: list[str]) -> list[PartPlan]:
        parts = []
        for paradigm, names in PROJECTIONS.items():
            ref = max((p.fit.get(paradigm, 0.0) for p in self.cat.for_paradigm(prim)), default=0)
            own = primary.product.fit.get(paradigm, 0.0)
            # How well the primary does this compared with the best product of its paradigm.
            adj = own / ref if ref else 1.0
            gains: dict[str, float] = {}
            pfacts: dict[str, list[Fact]] = {}
            for e in core:
                fs = [f for f in self.facts[e].facts if f.name in names]
                if not fs:
                    continue
                gains[e] = round(sum(f.weights.get(paradigm, 0.0)
                                     - f.weights.get(prim, 0.0) * adj for f in fs), 2)
                pfacts[e] = fs
            if not gains:
                continue
            ranked_entities = sorted(gains, key=lambda e: (-gains[e], self.order(e)))
            top = ranked_entities[0]
            all_facts = [f for e in ranked_entities for f in pfacts[e]]
            needs = self.needs(all_facts, [], with_blobs=False)
            ranked = [c for c in self.candidates(paradigm, needs)
                      if c.product.id != primary.product.id]
            viable = [c for c in ranked if c.rejected is None]
            if not viable:
                continue
            cand = viable[0]
            if gains[top] <= cand.cost:
                if gains[top] > 0:
                    self.kept.append(Option(paradigm, cand, [top], gains[top], cand.cost, ranked))
                continue
            marginal = min(self.t.cost.marginal, cand.cost)
            members = [top] + [e for e in ranked_entities[1:] if gains[e] > marginal]
            members.sort(key=self.order)
            for e in ranked_entities:
                if e not in members and gains[e] > 0:
                    self.kept.append(Option(paradigm, cand, [e], gains[e], marginal, ranked))
            facts = [f for e in members for f in pfacts[e]]
            part = PartPlan(paradigm, cand, members, facts, gain=gains[top], cost=cand.cost,
                            projection=True, alternatives=ranked,
                            gains={e: gains[e] for e in members})
            part.fields = self.projection_fields(paradigm, members)
            parts.append(part)
        return parts

    def projection_fields(self, paradigm: Paradigm, entities: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for e in entities:
            attrs = self.spec.entities[e].attributes
            if paradigm == Paradigm.blob:
                out[e] = [a for a, attr in attrs.items() if attr.type == AttrType.blob]
            elif paradigm == Paradigm.search:
                text = {f for p in self.spec.access_patterns if p.entity == e
                        for f, op in p.where.items() if op == Op.text}
                filters = {f for p in self.spec.access_patterns if p.entity == e
                           and Op.text in p.where.values()
                           for f, op in p.where.items() if op != Op.text}
                searchable = {a for a, attr in attrs.items() if attr.searchable}
                out[e] = sorted(text | searchable) + sorted(filters - text - searchable)
            else:
                out[e] = sorted({p.via for p in self.spec.access_patterns
                                 if p.entity == e and p.kind == PatternKind.traversal
                                 and p.hops >= 2 and p.via})
        return out

    # --- patterns ------------------------------------------------------------------------

    def assign_patterns(self, parts: list[PartPlan]) -> None:
        taken: set[str] = set()
        for part in parts[1:]:
            if part.projection:
                names = {n for f in part.facts for n in f.patterns}
                if part.paradigm == Paradigm.blob:
                    blobs = {a for fs in part.fields.values() for a in fs}
                    names |= {p.name for p in self.spec.access_patterns
                              if (p.entity in part.entities and p.kind == PatternKind.read
                                  and (not p.project or blobs & set(p.project)))
                              or (p.kind == PatternKind.write
                                  and set(p.touches) & set(part.entities))}
                else:
                    taken |= names
                part.patterns = [p.name for p in self.spec.access_patterns if p.name in names]
            else:
                members = set(part.entities)
                part.patterns = [p.name for p in self.spec.access_patterns
                                 if p.entity in members or members & set(p.touches)]
        core = set(parts[0].entities)
        parts[0].patterns = [p.name for p in self.spec.access_patterns
                             if p.name not in taken
                             and (p.entity in core or core & set(p.touches))]

    # --- all -----------------------------------------------------------------------------

    def plan(self) -> Plan:
        prim = self.primary_paradigm()
        primary, ranked = self.primary(prim)
        self.ctx = self.ctx.with_primary(primary.product)
        self._probes.clear()
        moved: dict[tuple[str, Paradigm], PartPlan] = {}
        for option in self.moves(prim, primary):
            key = (option.candidate.product.id, option.paradigm)
            part = moved.get(key)
            if part is None:
                part = moved[key] = PartPlan(option.paradigm, option.candidate, [], [],
                                             cost=option.cost)
            part.entities += option.entities
            part.gain += option.gain
            part.gains.update({e: round(self.move_score(e, option.paradigm)
                                        * option.candidate.product.fit[option.paradigm]
                                        - self.move_score(e, prim), 2)
                               for e in option.entities})
        gone = {e for part in moved.values() for e in part.entities}
        core = [e for e in self.spec.entities if e not in gone]
        for part in moved.values():
            part.entities.sort(key=self.order)
            part.facts = [f for e in part.entities for f in self.facts[e].facts]
            part.gain = round(part.gain, 2)
            part.alternatives = self.candidates(part.paradigm, self.needs(part.facts,
                                                                          part.entities))
        projections = self.projections(prim, primary, core)
        projected = {(f.entity, f.name) for part in projections for f in part.facts}
        core_facts = [f for e in core for f in self.facts[e].facts
                      if (e, f.name) not in projected]
        # Alternatives for the primary, judged on what stays in it (not on the parts that left).
        if core:
            self.ctx, ctx = self.base_ctx, self.ctx
            ranked = self.candidates(prim, self.needs(
                [f for f in core_facts if not any(f.name in n for n in PROJECTIONS.values())],
                core, with_blobs=False))
            primary = next((c for c in ranked if c.product.id == primary.product.id), primary)
            self.ctx = ctx
        head = PartPlan(prim, primary, core, core_facts, alternatives=ranked)
        parts = [head, *sorted(moved.values(), key=lambda p: self.order(p.entities[0])),
                 *projections]
        if not core:
            # Everything moved: the biggest specialist part is the primary.
            parts = sorted(parts[1:], key=lambda p: -len(p.entities))
        self.assign_patterns(parts)
        return Plan(parts, self.facts, self.ctx, self.considered, self.kept)


def plan(spec: Spec) -> Plan:
    """Split `spec` into parts, primary first, each with its chosen product."""
    return _Planner(spec, tuning(), catalogue()).plan()
