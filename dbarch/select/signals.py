"""Facts read from a spec that favour or disfavour each paradigm, per entity.

Each fact has a stable name (a key of `weights:` in `data/selection.yaml`), the entity it is
about, evidence with numbers, and its weight for every paradigm it moves. Scoring sums them;
this module only reads the spec. One pass over patterns and relationships: no
patterns × entities loops, so 500 entities and 2,000 patterns take milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from dbarch.select.model import Paradigm
from dbarch.select.sizing import EntitySize, attribute_bytes, entity_size
from dbarch.select.tuning import Tuning
from dbarch.spec.model import (
    AccessPattern,
    AttrType,
    Consistency,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    WriteOp,
)
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

_TIME_TYPES = (AttrType.timestamp, AttrType.date)
_VARYING_TYPES = (AttrType.json, AttrType.map, AttrType.list)


@dataclass(frozen=True)
class Fact:
    """One signal about one entity: its evidence and its weight per paradigm."""

    name: str
    entity: str
    evidence: str
    weights: dict[Paradigm, float]
    patterns: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass
class EntityFacts:
    """Everything selection knows about one entity."""

    entity: str
    size: EntitySize
    facts: list[Fact] = field(default_factory=list)
    time_ordered: bool = False

    def score(self, paradigm: Paradigm) -> float:
        """The entity's score for `paradigm`: the sum of its facts' weights."""
        return sum(f.weights.get(paradigm, 0.0) for f in self.facts)


@dataclass
class SpecIndex:
    """Patterns and relationships by entity, built once."""

    reads: dict[str, list[AccessPattern]]
    writes: dict[str, list[AccessPattern]]
    rels: dict[str, list[Relationship]]

    @classmethod
    def build(cls, spec: Spec) -> SpecIndex:
        """Index `spec` in one pass over its patterns and relationships."""
        reads: dict[str, list[AccessPattern]] = defaultdict(list)
        writes: dict[str, list[AccessPattern]] = defaultdict(list)
        rels: dict[str, list[Relationship]] = defaultdict(list)
        for p in spec.access_patterns:
            if p.kind == PatternKind.write:
                for e in dict.fromkeys(p.touches):
                    writes[e].append(p)
            elif p.entity is not None:
                reads[p.entity].append(p)
        for r in spec.relationships:
            rels[r.from_].append(r)
            if r.to != r.from_:
                rels[r.to].append(r)
        return cls(reads, writes, rels)


def _explicit(p: AccessPattern, consistency: Consistency) -> bool:
    """True when the pattern itself asks for `consistency` (not the model's default)."""
    return "consistency" in p.model_fields_set and p.consistency == consistency


def is_key_lookup(p: AccessPattern, unique: set[str]) -> bool:
    """A read by one key and nothing else: `key:`, `id`, or one unique attribute, by eq."""
    if p.kind != PatternKind.read or len(p.where) != 1 or p.order_by:
        return False
    (name, op), = p.where.items()
    return op == Op.eq and (p.key is not None or name == "id" or name in unique)


def _names(patterns: list[AccessPattern]) -> tuple[str, ...]:
    return tuple(p.name for p in patterns)


def _scaled(weights: dict[Paradigm, float], factor: float) -> dict[Paradigm, float]:
    return {k: round(v * factor, 3) for k, v in weights.items()}


class _Reader:
    """Reads the facts of one spec; one method per family of signals."""

    def __init__(self, spec: Spec, tuning: Tuning) -> None:
        self.spec = spec
        self.t = tuning
        self.index = SpecIndex.build(spec)
        self.requires = {k: tuple(v) for k, v in tuning.requires.items()}

    def fact(
        self, name: str, entity: str, evidence: str, factor: float = 1.0,
        patterns: tuple[str, ...] = (), weight_key: str | None = None,
    ) -> Fact:
        weights = _scaled(self.t.weight(weight_key or name), factor)
        return Fact(name, entity, evidence, weights, patterns, self.requires.get(name, ()))

    def entity(self, name: str) -> EntityFacts:
        spec, t = self.spec, self.t
        ent = spec.entities[name]
        refs = [r for r in self.index.rels[name]
                if r.kind != RelKind.many_to_many and r.child == name]
        size = entity_size(spec, ent, len(refs), t)
        reads = self.index.reads[name]
        writes = self.index.writes[name]
        time_fields = {a for a, attr in ent.attributes.items() if attr.type in _TIME_TYPES}
        time_fields |= {"created_at", "updated_at"}
        aggregates = [p for p in reads if p.kind == PatternKind.aggregate]
        ef = EntityFacts(name, size, time_ordered=ent.append_only or bool(aggregates))
        facts = ef.facts
        h = spec.scale.horizon_years

        facts.append(self.fact(
            "general_purpose", name,
            f"{name}: {len(ent.attributes)} attributes, {human_count(size.rows_now)} rows now, "
            f"{human_count(size.rows_at_horizon)} at {h:g}y"))
        self._relationships(name, refs, facts)
        self._writes(name, writes, facts, ef)
        self._reads(name, reads, time_fields, facts, ef)
        self._attributes(name, facts, size)
        self._scale(name, facts, size, ef)
        return ef

    def _relationships(self, name: str, refs: list[Relationship], facts: list[Fact]) -> None:
        t = self.t
        if refs:
            shown = ", ".join(f"{r.field_name} → {r.parent}" for r in refs)
            k = min(len(refs), int(t.number("references_cap")))
            facts.append(self.fact("references", name,
                                   f"{name} holds {len(refs)} reference(s): {shown}", factor=k))
        for r in self.index.rels[name]:
            if r.kind == RelKind.many_to_many:
                other = r.to if r.from_ == name else r.from_
                label = r.name or f"{r.from_}–{r.to}"
                fan = f", fanout {human_count(r.fanout)}" if r.fanout else ""
                facts.append(self.fact(
                    "many_to_many", name,
                    f"{label}: many-to-many {name} ↔ {other}{fan} (a link table)"))
            elif r.owned and r.parent == name and r.child != name:
                fan = f", {human_count(r.fanout)} per {name}" if r.fanout else ""
                facts.append(self.fact(
                    "owned_children", name,
                    f"{r.child} is owned by {name} (deleted with it{fan})"))

    def _writes(self, name: str, writes: list[AccessPattern], facts: list[Fact],
                ef: EntityFacts) -> None:
        for p in writes:
            touched = list(dict.fromkeys(p.touches))
            if p.transaction and len(touched) > 1:
                facts.append(self.fact(
                    "multi_entity_transaction", name,
                    f"{p.name} writes {', '.join(touched)} in one transaction at "
                    f"{human_rate(p.rate)}", patterns=(p.name,)))
        inserts = [p for p in writes if p.operation in (WriteOp.insert, WriteOp.upsert)]
        rate = sum(p.rate for p in inserts)
        if ef.time_ordered and rate > 0:
            start, full = self.t.ramp_bounds("ingest_rate_ramp")
            factor = self.t.ramp("ingest_rate_ramp", rate)
            if factor > 0:
                facts.append(self.fact(
                    "ingest_rate", name,
                    f"{name} ingests {human_rate(rate)} of time-ordered rows "
                    f"(ramp {human_rate(start)} → {human_rate(full)})",
                    factor=factor, patterns=_names(inserts)))
        total = sum(p.rate for p in writes)
        factor = self.t.ramp("write_rate_ramp", total)
        if factor > 0:
            start, full = self.t.ramp_bounds("write_rate_ramp")
            facts.append(self.fact(
                "write_rate", name,
                f"{name} takes {human_rate(total)} writes (one primary: "
                f"{human_rate(start)} → {human_rate(full)} ramp)",
                factor=factor, patterns=_names(writes)))

    def _reads(self, name: str, reads: list[AccessPattern], time_fields: set[str],
               facts: list[Fact], ef: EntityFacts) -> None:
        t = self.t
        ent = self.spec.entities[name]
        unique = {a for a, attr in ent.attributes.items() if attr.unique}
        keyed = [p for p in reads if is_key_lookup(p, unique)]
        if keyed:
            rate = sum(p.rate for p in keyed)
            fields = sorted({next(iter(p.where)) for p in keyed})
            start, full = t.ramp_bounds("key_lookup_rate_ramp")
            p99s = [p.p99 for p in keyed if p.p99 is not None]
            target = f", p99 {human_duration(min(p99s))}" if p99s else ""
            ttl = f", ttl {human_duration(ent.ttl)}" if ent.ttl else ""
            facts.append(self.fact(
                "key_lookup", name,
                f"{', '.join(_names(keyed))}: {human_rate(rate)} key lookups on "
                f"{', '.join(fields)}{ttl}{target} (ramp {human_rate(start)} → {human_rate(full)})",
                factor=t.ramp("key_lookup_rate_ramp", rate), patterns=_names(keyed)))
            if len(keyed) == len(reads):
                facts.append(self.fact(
                    "key_only_access", name,
                    f"every read of {name} is by key ({len(keyed)} pattern(s))",
                    patterns=_names(keyed)))
        texts = [p for p in reads if Op.text in p.where.values()]
        self._text_search(name, texts, facts)
        filters, time_reads = [], []
        for p in reads:
            if p in keyed or p in texts or p.kind != PatternKind.read:
                continue
            sorted_by_time = bool(p.sort) and p.sort[0][0] in time_fields
            time_range = any(op == Op.range and f in time_fields for f, op in p.where.items())
            if ef.time_ordered and (sorted_by_time or time_range):
                time_reads.append(p)
            else:
                filters.append(p)
        if filters:
            cap = int(t.number("secondary_filter_cap"))
            shown = "; ".join(_describe(p) for p in filters[:3])
            more = f" (+{len(filters) - 3} more)" if len(filters) > 3 else ""
            facts.append(self.fact(
                "secondary_filter", name,
                f"{len(filters)} read(s) of {name} filter or sort beyond the key: {shown}{more}",
                factor=min(len(filters), cap), patterns=_names(filters)))
        if time_reads:
            shown = "; ".join(_describe(p) for p in time_reads[:3])
            facts.append(self.fact(
                "time_range_read", name,
                f"{len(time_reads)} read(s) of {name} by time range or newest first: {shown}",
                factor=min(len(time_reads), 2), patterns=_names(time_reads)))
        aggregates = [p for p in reads if p.kind == PatternKind.aggregate]
        if aggregates:
            cap = int(t.number("window_aggregate_cap"))
            shown = "; ".join(
                f"{p.name}: {p.measure or 'count'} per "
                f"{human_duration(p.window) if p.window else 'window'} over {p.time} at "
                f"{human_rate(p.rate)}" for p in aggregates[:3])
            facts.append(self.fact(
                "window_aggregate", name, shown,
                factor=min(len(aggregates), cap), patterns=_names(aggregates)))
        traversals = [p for p in reads if p.kind == PatternKind.traversal]
        for p in traversals:
            self._traversal(name, p, facts)
        eventual = [p for p in reads if _explicit(p, Consistency.eventual)]
        if eventual and len(eventual) == len(reads):
            facts.append(self.fact(
                "eventual_reads", name,
                f"all {len(reads)} read(s) of {name} accept eventual consistency",
                patterns=_names(eventual)))

    def _text_search(self, name: str, texts: list[AccessPattern], facts: list[Fact]) -> None:
        t = self.t
        ent = self.spec.entities[name]
        docs = ent.volume_at(self.spec.scale.horizon_years)
        searchable = [a for a, attr in ent.attributes.items() if attr.searchable]
        if not texts:
            if searchable:
                facts.append(self.fact(
                    "searchable_attribute", name,
                    f"{name}.{', '.join(searchable)} declared searchable over "
                    f"{human_count(docs)} rows, no text pattern yet"))
            return
        rate = sum(p.rate for p in texts)
        fields = sorted({f for p in texts for f, op in p.where.items() if op == Op.text})
        pats = _names(texts)
        facts.append(self.fact(
            "text_search", name,
            f"{', '.join(pats)}: text search on {name}.{', '.join(fields)} at "
            f"{human_rate(rate)} over {human_count(docs)} documents at the horizon",
            patterns=pats))
        start, full = t.ramp_bounds("text_search_rate_ramp")
        if (factor := t.ramp("text_search_rate_ramp", rate)) > 0:
            facts.append(self.fact(
                "text_search_rate", name,
                f"{human_rate(rate)} searches on {name} (ramp {human_rate(start)} → "
                f"{human_rate(full)})", factor=factor, patterns=pats))
        start, full = t.ramp_bounds("text_search_docs_ramp")
        if (factor := t.ramp("text_search_docs_ramp", docs)) > 0:
            facts.append(self.fact(
                "text_search_docs", name,
                f"{human_count(docs)} {name} documents to index at the horizon (ramp "
                f"{human_count(start)} → {human_count(full)})", factor=factor, patterns=pats))
        faceted = [p for p in texts if any(op != Op.text for op in p.where.values())]
        if faceted:
            filters = sorted({f for p in faceted for f, op in p.where.items() if op != Op.text})
            facts.append(self.fact(
                "faceted_search", name,
                f"{', '.join(_names(faceted))} ({human_rate(sum(p.rate for p in faceted))}) "
                f"combine text with filters on {', '.join(filters)}", patterns=_names(faceted)))
        strong = [p for p in texts if _explicit(p, Consistency.strong)]
        if strong:
            facts.append(self.fact(
                "strong_search", name,
                f"{', '.join(_names(strong))} must see the latest write (consistency: strong); "
                "a search index refreshes every 1 s", patterns=_names(strong)))

    def _traversal(self, name: str, p: AccessPattern, facts: list[Fact]) -> None:
        t = self.t
        fanout = self._fanout(name, p.via or "")
        label = p.via or "?"
        if p.hops == 1:
            facts.append(self.fact(
                "joined_read", name,
                f"{p.name}: {name} read with its {label} at {human_rate(p.rate)} (one join)",
                patterns=(p.name,)))
            return
        edges = sum(fanout ** k for k in range(1, p.hops + 1))
        work = edges * p.rate
        shape = (f"{p.name}: {p.hops} hops via {label} at {human_rate(p.rate)}, fanout "
                 f"{human_count(fanout)} → ≈{human_count(edges)} edges per query, "
                 f"{human_count(work)} edges/s")
        if (factor := t.ramp("traversal_work_ramp", work)) > 0:
            start, full = t.ramp_bounds("traversal_work_ramp")
            facts.append(self.fact(
                "traversal_work", name,
                f"{shape} (ramp {human_count(start)} → {human_count(full)} edges/s)",
                factor=factor, patterns=(p.name,)))
        if fanout > 1 and (factor := t.ramp("traversal_depth_ramp", p.hops)) > 0:
            facts.append(self.fact(
                "traversal_depth", name,
                f"{p.name}: {p.hops} fanning-out hops; a recursive CTE re-joins every level",
                factor=factor, patterns=(p.name,)))
        easy = p.hops <= 2 or fanout <= 1
        facts.append(self.fact(
            "traversal_relational", name,
            f"{shape}: " + ("a recursive CTE or self-join handles it" if easy
                            else "a recursive CTE at this depth joins every level"),
            factor=1.0 if easy else 0.25, patterns=(p.name,)))
        if _explicit(p, Consistency.strong):
            facts.append(self.fact(
                "strong_traversal", name,
                f"{p.name} must see the latest write; a graph projection lags the primary",
                patterns=(p.name,)))

    def _fanout(self, name: str, via: str) -> float:
        """The rows each hop of a traversal via `via` fans out to."""
        default = self.t.number("traversal_default_fanout")
        for r in self.index.rels[name]:
            other = r.to if r.from_ == name else r.from_
            if via not in (r.name, r.field_name, other):
                continue
            if r.kind == RelKind.many_to_many:
                return float(r.fanout or default)
            if r.child == name and (r.parent != name or via in (r.name, r.field_name)):
                return 1.0   # following the reference: one parent per hop
            return float(r.fanout or default)
        return default

    def _attributes(self, name: str, facts: list[Fact], size: EntitySize) -> None:
        t = self.t
        ent = self.spec.entities[name]
        if ent.ttl:
            facts.append(self.fact(
                "ttl", name,
                f"{name} expires after {human_duration(ent.ttl)} "
                f"({human_count(size.rows_now)} live rows)"))
        varying = [a for a, attr in ent.attributes.items()
                   if attr.varies or attr.type in _VARYING_TYPES]
        if varying:
            shown = ", ".join(
                f"{a} ({ent.attributes[a].type.value}"
                f"{', varies' if ent.attributes[a].varies else ''}, "
                f"≈{human_bytes(attribute_bytes(ent.attributes[a], t))})" for a in varying)
            facts.append(self.fact("varying_attributes", name,
                                   f"{name} has semi-structured attributes: {shown}"))
        unique = [a for a, attr in ent.attributes.items() if attr.unique]
        if unique:
            facts.append(self.fact(
                "unique_constraint", name,
                f"{name}.{', '.join(unique)} must be unique across "
                f"{human_count(size.rows_at_horizon)} rows", factor=min(len(unique), 2)))
        if any(attr.type == AttrType.geo for attr in ent.attributes.values()):
            geo = [a for a, attr in ent.attributes.items() if attr.type == AttrType.geo]
            facts.append(self.fact(
                "geo", name,
                f"{name}.{', '.join(geo)} is geospatial ({human_count(size.rows_at_horizon)} "
                "rows to index)"))
        blobs = [a for a, attr in ent.attributes.items() if attr.type == AttrType.blob]
        if blobs:
            given = all(ent.attributes[a].avg_size is not None for a in blobs)
            note = "" if given else " (avg_size not given: assumed from selection.yaml)"
            start, full = t.ramp_bounds("large_binary_size_ramp")
            factor = t.ramp("large_binary_size_ramp", size.blob_bytes)
            facts.append(self.fact(
                "large_binary", name,
                f"{name}.{', '.join(blobs)}: {human_bytes(size.blob_bytes)} per row{note} "
                f"(database better below {human_bytes(start)}, object store above "
                f"{human_bytes(full)})", factor=factor))
            if (factor := t.ramp("binary_volume_ramp", size.blobs_total_bytes)) > 0:
                facts.append(self.fact(
                    "binary_volume", name,
                    f"{name} binaries total {human_bytes(size.blobs_total_bytes)} at the horizon "
                    f"({human_count(size.rows_at_horizon)} × {human_bytes(size.blob_bytes)})",
                    factor=factor))
        if ent.append_only:
            facts.append(self.fact(
                "append_only", name,
                f"{name} is append-only ({human_count(size.rows_now)} rows, "
                f"{human_count(size.rows_at_horizon)} at {self.spec.scale.horizon_years:g}y)"))

    def _scale(self, name: str, facts: list[Fact], size: EntitySize, ef: EntityFacts) -> None:
        t = self.t
        h = self.spec.scale.horizon_years
        if ef.time_ordered and (factor := t.ramp("time_volume_ramp", size.rows_at_horizon)) > 0:
            start, full = t.ramp_bounds("time_volume_ramp")
            facts.append(self.fact(
                "time_volume", name,
                f"{name}: {human_count(size.rows_at_horizon)} time-ordered rows at {h:g}y "
                f"(ramp {human_count(start)} → {human_count(full)})", factor=factor))
        if (factor := t.ramp("horizon_size_ramp", size.table_bytes)) > 0:
            start, full = t.ramp_bounds("horizon_size_ramp")
            facts.append(self.fact(
                "horizon_size", name,
                f"{name}: {human_count(size.rows_at_horizon)} rows × {size.row_bytes} B ≈ "
                f"{human_bytes(size.table_bytes)} with indexes at {h:g}y (ramp "
                f"{human_bytes(start)} → {human_bytes(full)})", factor=factor))
        scale = self.spec.scale
        if scale.multi_region_writes:
            regions = ", ".join(scale.regions) or "several regions"
            facts.append(self.fact(
                "multi_region_writes", name,
                f"writes accepted in {len(scale.regions) or 'several'} regions ({regions})"))


def _describe(p: AccessPattern) -> str:
    where = ", ".join(f"{f} {op.value}" for f, op in p.where.items())
    order = f" order by {', '.join(p.order_by)}" if p.order_by else ""
    return f"{p.name} ({where or 'all'}{order}, {human_rate(p.rate)})"


def read_facts(spec: Spec, tuning: Tuning) -> dict[str, EntityFacts]:
    """The facts of every entity of `spec`, in spec order."""
    reader = _Reader(spec, tuning)
    return {name: reader.entity(name) for name in spec.entities}


def spec_index(spec: Spec) -> SpecIndex:
    """Patterns and relationships of `spec` by entity."""
    return SpecIndex.build(spec)
