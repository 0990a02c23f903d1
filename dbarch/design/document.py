"""The document part (MongoDB): collections, embedding, validators, indexes and a shard key.

For each relationship inside the part, embed or reference is decided from its cardinality
(one-to-few / one-to-many / one-to-squillions, read from `max_fanout`), whether the children
are read with the parent, how often they are written, whether they are read on their own and
whether they expire. Arrays are always bounded (the bound is the validator's `maxItems`); a
spec that would need an unbounded embedded array gets a finding and a reference instead.
MongoDB's schema design patterns are applied where the spec calls for them and named:
extended reference, subset, computed, bucket, outlier, attribute, polymorphic, schema
versioning, tree. Every read pattern gets an index in ESR order (equality, sort, range).

The design is plain data (`PartDesign.model`) so `dbarch verify` can check the validators as
JSON Schema, and a real server when one is given; `dbarch.design.document_render` writes the
section and `schema/mongodb.js` from it. Rules and limits live in `dbarch/data/document.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dbarch.design.ceilings import ceiling_of
from dbarch.design.keys import pluralize, table_name
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision
from dbarch.select.sizing import attribute_bytes
from dbarch.select.tuning import load_yaml, tuning
from dbarch.spec.model import (
    AccessPattern,
    Attribute,
    AttrType,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    WriteOp,
    snake,
)
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

Field = dict[str, Any]
"""One field of a collection as the model stores it: name, bson, type, required, and the
bounds the validator enforces (enum, max_length, max_items, nested fields)."""


@cache
def document_data() -> dict[str, Any]:
    """The parsed `dbarch/data/document.yaml`."""
    data: dict[str, Any] = load_yaml("document.yaml")
    return data


def _limit(name: str) -> int:
    return int(document_data()["limits"][name]["value"])


def _rule(name: str) -> Any:
    return document_data()["rules"][name]


@dataclass
class Link:
    """How one relationship of the part is stored."""

    parent: str
    child: str
    kind: str          # embed, outlier, subset, reference, bucket, tree, refs, link
    cardinality: str
    bound: int | None
    path: str          # the array (or reference) field it adds
    reason: str
    rel: Relationship | None = None


@dataclass
class Collection:
    """One collection being designed."""

    name: str
    entity: str
    fields: list[Field] = field(default_factory=list)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    patterns: list[tuple[str, str]] = field(default_factory=list)   # (pattern name, reason)
    embedded: dict[str, str] = field(default_factory=dict)          # child entity → array path
    record_bytes: int = 0
    avg_bytes: int = 0
    max_bytes: int = 0
    size_parts: list[str] = field(default_factory=list)
    rows_now: int = 0
    rows_horizon: int = 0
    index_bytes_per_doc: int = 0


class _Designer:
    def __init__(self, spec: Spec, decision: Decision) -> None:
        self.spec, self.decision = spec, decision
        self.entities = list(decision.entities)
        self.members = set(self.entities)
        self.patterns = [p for p in spec.access_patterns if p.name in set(decision.patterns)]
        self.findings: list[PartFinding] = []
        self.links: list[Link] = []
        self.collections: dict[str, Collection] = {}
        self.home: dict[str, tuple[str, str]] = {}   # entity → (collection, array path or "")
        self.queries: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.sizes = {e: entity_size(spec, e) for e in self.entities}

    # --- facts ---------------------------------------------------------------------------

    def reads_of(self, entity: str) -> list[AccessPattern]:
        return [p for p in self.patterns if p.entity == entity and p.kind != PatternKind.write]

    def writes_of(self, entity: str) -> list[AccessPattern]:
        return [p for p in self.patterns if p.kind == PatternKind.write and entity in p.touches]

    def key_read_rate(self, entity: str) -> float:
        """Reads of `entity` that fetch one record by a key (what an embedded array rides on)."""
        return sum(p.rate for p in self.reads_of(entity) if len(p.where) == 1
                   and next(iter(p.where.values())) == Op.eq and not p.order_by)

    def warn(self, message: str, severity: str = "warning", pattern: str | None = None) -> None:
        self.findings.append(PartFinding(severity=severity, message=message,  # type: ignore[arg-type]
                                         pattern=pattern))

    # --- relationships -------------------------------------------------------------------

    def cardinality(self, r: Relationship) -> tuple[str, int | None]:
        """The class of a parent → children link and its bound (None: unbounded)."""
        card = document_data()["cardinality"]
        n = r.max_fanout if r.max_fanout is not None else None
        size = n if n is not None else (r.fanout or card["default_fanout"])
        if size <= card["few_max"]:
            label = "one-to-few"
        elif size <= card["many_max"]:
            label = "one-to-many"
        else:
            label = "one-to-squillions"
        return label, n

    def decide(self, r: Relationship) -> Link:
        """Embed or reference one relationship whose two ends are both in the part."""
        parent, child = r.parent, r.child
        path = pluralize(snake(child))
        if parent == child:
            depth = max((p.hops for p in self.patterns if p.kind == PatternKind.traversal
                         and p.via in (r.name, r.field_name, parent)), default=None)
            bound = depth or int(_rule("tree_default_depth"))
            src = (f"the deepest traversal walks {depth} hops" if depth else
                   f"no traversal states a depth, so the default {bound}")
            return Link(parent, child, "tree", "tree", bound, "ancestors",
                        f"{child} refers to itself ({r.field_name}): each document keeps its "
                        f"parent's id and an ancestors array, bounded at {bound} ({src}), so a "
                        "subtree or a path is one indexed query instead of a recursive walk", r)
        label, bound = self.cardinality(r)
        fan = r.fanout or document_data()["cardinality"]["default_fanout"]
        ent = self.spec.entities[child]
        by_parent = [p for p in self.reads_of(child) if p.where.get(r.field_name) == Op.eq]
        alone = [p for p in self.reads_of(child) if r.field_name not in p.where]
        child_writes = sum(p.rate for p in self.writes_of(child))
        parent_reads = self.key_read_rate(parent)
        together = bool(by_parent) or r.owned
        facts = (f"{parent} → {child}: {label} (avg {human_count(fan)}, max "
                 f"{human_count(bound) if bound is not None else 'not given'})")
        if ent.append_only and label == "one-to-squillions":
            n = int(_rule("bucket_max_items"))
            return Link(parent, child, "bucket", label, n, f"{snake(child)}_buckets",
                        f"{facts}; {child} is append-only, so children are grouped {n} per "
                        f"bucket document (bucket pattern): one index entry per {n} records and "
                        "a parent's newest records in one read", r)
        if ent.ttl:
            return Link(parent, child, "reference", label, bound, f"{r.field_name}_id",
                        f"{facts}; {child} expires after {human_duration(ent.ttl)} and a TTL "
                        "index deletes whole documents, never array elements, so each "
                        f"{child} is its own document holding {r.field_name}_id", r)
        if alone and not r.owned:
            return Link(parent, child, "reference", label, bound, f"{r.field_name}_id",
                        f"{facts}; {child} is read on its own ({', '.join(p.name for p in alone)}"
                        f"), so it is a collection of its own holding {r.field_name}_id", r)
        ratio = float(_rule("embed_max_child_writes_per_parent_read"))
        write_heavy = parent_reads > 0 and child_writes > ratio * parent_reads
        few_max = int(document_data()["cardinality"]["few_max"])
        if together and bound is None and fan <= few_max:
            how = "owned" if r.owned else "read with it"
            self.warn(f"{child} would be embedded in {parent} ({how}, avg {human_count(fan)}), "
                      "but the relationship gives no max_fanout: an unbounded embedded array "
                      "grows toward the 16 MiB document limit. Stored as its own collection "
                      f"instead; give max_fanout on {child} → {parent} to embed it.")
            return Link(parent, child, "reference", "unbounded", None, f"{r.field_name}_id",
                        f"{facts}; no bound is known, so no array (see the finding)", r)
        if together and not write_heavy and label == "one-to-few":
            return Link(parent, child, "embed", label, bound, path,
                        f"{facts}; read with {parent}"
                        f"{' and owned by it' if r.owned else ''}, written at "
                        f"{human_rate(child_writes)} against {human_rate(parent_reads)} "
                        f"reads of {parent}: embedded as {path}[] (maxItems {bound})", r)
        limits = [p.limit for p in by_parent if p.limit]
        if limits and min(limits) <= int(_rule("subset_max_items")):
            n = min(limits)
            return Link(parent, child, "subset", label, n, f"recent_{path}",
                        f"{facts}; {', '.join(p.name for p in by_parent)} reads the newest {n}: "
                        f"those are embedded as recent_{path}[] (maxItems {n}) and every "
                        f"{child} is also its own document (subset pattern)", r)
        outlier = bound is not None and fan <= few_max < bound and \
            bound >= float(_rule("outlier_ratio")) * fan
        if together and not write_heavy and outlier:
            return Link(parent, child, "outlier", label, few_max, path,
                        f"{facts}; most parents have about {human_count(fan)} but the largest "
                        f"{human_count(bound)}: the first {few_max} are embedded as {path}[] and "
                        f"a parent beyond that sets has_more_{path} and keeps the rest as "
                        f"{child} documents (outlier pattern)", r)
        why = ("written more often than " + parent + " is read" if write_heavy
               else "too many to embed" if label != "one-to-few" else "not read with " + parent)
        return Link(parent, child, "reference", label, bound, f"{r.field_name}_id",
                    f"{facts}; {why}: each {child} is its own document holding "
                    f"{r.field_name}_id, indexed", r)

    def many_to_many(self, r: Relationship) -> Link:
        """A many-to-many inside the part: an array of ids when bounded, else a link collection."""
        many_max = int(document_data()["cardinality"]["many_max"])
        path = f"{snake(r.to)}_ids"
        if r.max_fanout is not None and r.max_fanout <= many_max:
            return Link(r.from_, r.to, "refs", "many-to-many", int(r.max_fanout), path,
                        f"{r.from_} ↔ {r.to}: at most {human_count(r.max_fanout)} per "
                        f"{r.from_}: an array of {r.to} ids (maxItems {r.max_fanout}) with a "
                        "multikey index answers both directions", r)
        return Link(r.from_, r.to, "link", "many-to-many", None,
                    f"{snake(r.from_)}_{pluralize(snake(r.to))}",
                    f"{r.from_} ↔ {r.to}: no max_fanout (or above {many_max}): a link "
                    "collection with both ids, indexed each way, keeps every array bounded", r)

    # --- fields --------------------------------------------------------------------------

    def attribute_field(self, name: str, attr: Attribute) -> Field:
        bson = document_data()["bson_types"][attr.type.value]
        f: Field = {"name": name, "bson": bson, "type": attr.type.value,
                    "required": attr.required,
                    "bytes": attribute_bytes(attr, tuning())}
        if attr.description:
            f["description"] = attr.description
        if attr.values:
            f["enum"] = list(attr.values)
        if attr.type in (AttrType.string, AttrType.text, AttrType.email) and attr.max_length:
            f["max_length"] = attr.max_length
        if attr.type == AttrType.uuid:
            f["pattern"] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
        if attr.type == AttrType.list:
            item = (attr.items or AttrType.string).value
            f["items"] = document_data()["bson_types"][item]
            f["item_type"] = item
            if attr.max_length:
                # A list's max_length is read as its largest number of items.
                f["max_items"] = attr.max_length
        if attr.type == AttrType.geo:
            f["fields"] = [
                {"name": "type", "bson": "string", "type": "enum", "enum": ["Point"],
                 "required": True, "bytes": 6},
                {"name": "coordinates", "bson": "array", "type": "list", "items": "double",
                 "item_type": "float", "max_items": 2, "min_items": 2, "required": True,
                 "bytes": 16},
            ]
        return f

    def base_fields(self, entity: str, nested: bool = False) -> list[Field]:
        """_id, the entity's attributes, created_at and updated_at."""
        fields: list[Field] = [{"name": "_id", "bson": "objectId", "type": "objectId",
                                "required": True, "bytes": 12}]
        for name, attr in self.spec.entities[entity].attributes.items():
            fields.append(self.attribute_field(name, attr))
        for name in ("created_at", "updated_at"):
            fields.append({"name": name, "bson": "date", "type": "timestamp",
                           "required": name == "created_at" or not nested, "bytes": 8})
        return fields

    def reference_field(self, r: Relationship) -> Field:
        """The child's id of its parent: an ObjectId inside MongoDB, the parent's key elsewhere."""
        parent = self.spec.entities[r.parent]
        if r.parent in self.members:
            return {"name": f"{r.field_name}_id", "bson": "objectId", "type": "objectId",
                    "required": r.required, "bytes": 12, "references": r.parent}
        if parent.public_id:
            return {"name": f"{r.field_name}_id", "bson": "string", "type": "uuid",
                    "required": r.required, "bytes": 37, "references": r.parent,
                    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
        return {"name": f"{r.field_name}_id", "bson": "long", "type": "bigint",
                "required": r.required, "bytes": 8, "references": r.parent}

    def display_fields(self, entity: str) -> list[str]:
        attrs = self.spec.entities[entity].attributes
        names = [n for n in _rule("display_fields") if n in attrs and not attrs[n].sensitive]
        return names[: int(_rule("display_fields_max"))]

    # --- collections ---------------------------------------------------------------------

    def build(self) -> None:
        spec = self.spec
        inside = [r for r in spec.relationships if r.from_ in self.members and r.to in self.members]
        for r in inside:
            self.links.append(self.many_to_many(r) if r.kind == RelKind.many_to_many
                              else self.decide(r))
        embedded = {lk.child: lk for lk in self.links if lk.kind == "embed"}
        for e in self.entities:
            if e in embedded:
                continue
            coll = Collection(table_name(e), e)
            coll.fields = self.base_fields(e)
            self.collections[e] = coll
            self.home[e] = (coll.name, "")
        # An embed chain (a child of an embedded child) is rare; embedded entities hang off
        # the nearest ancestor that has a collection.
        for child, lk in embedded.items():
            top = lk.parent
            prefix = lk.path
            while top in embedded:
                prefix = f"{embedded[top].path}.{prefix}"
                top = embedded[top].parent
            self.home[child] = (self.collections[top].name, prefix)
        for lk in self.links:
            self.apply_link(lk)
        for e, coll in self.collections.items():
            if e in self.members:   # link collections have no entity of their own
                self.cross_part(e, coll)
                self.patterns_of_entity(e, coll)

    def apply_link(self, lk: Link) -> None:
        sub = self.base_fields(lk.child, nested=True)
        if lk.kind in ("embed", "outlier", "subset"):
            target = self.collection_named(self.home[lk.parent][0])
            arr: Field = {"name": lk.path, "bson": "array", "type": "embedded",
                          "required": False, "max_items": lk.bound, "fields": sub,
                          "entity": lk.child, "bytes": self.sizes[lk.child].row_bytes}
            holder = target.fields
            if self.home[lk.parent][1]:
                # The parent is itself embedded: the array goes inside its subdocuments.
                for part in self.home[lk.parent][1].split("."):
                    holder = next(f for f in holder if f["name"] == part)["fields"]
            holder.append(arr)
            if lk.kind == "outlier":
                target.fields.append({"name": f"has_more_{lk.path}", "bson": "bool",
                                      "type": "bool", "required": False, "bytes": 1})
            target.embedded[lk.child] = lk.path
            label = {"embed": "embedded", "outlier": "outlier", "subset": "subset"}[lk.kind]
            target.patterns.append((label, lk.reason))
        if lk.kind in ("reference", "outlier", "subset") and lk.rel is not None \
                and lk.child in self.collections:
            self.collections[lk.child].fields.append(self.reference_field(lk.rel))
        if lk.kind == "tree" and lk.rel is not None:
            coll = self.collections[lk.child]
            coll.fields.append(self.reference_field(lk.rel))
            coll.fields.append({"name": "ancestors", "bson": "array", "type": "list",
                                "items": "objectId", "item_type": "objectId",
                                "max_items": lk.bound, "required": True, "bytes": 12})
            coll.patterns.append(("tree", lk.reason))
        if lk.kind == "bucket" and lk.rel is not None:
            del self.collections[lk.child]
            coll = Collection(lk.path, lk.child)
            coll.fields = [
                {"name": "_id", "bson": "objectId", "type": "objectId", "required": True,
                 "bytes": 12},
                self.reference_field(lk.rel),
                {"name": "bucket_start", "bson": "date", "type": "timestamp", "required": True,
                 "bytes": 8},
                {"name": "count", "bson": "int", "type": "int", "required": True, "bytes": 4},
                {"name": "items", "bson": "array", "type": "embedded", "required": True,
                 "max_items": lk.bound, "fields": self.base_fields(lk.child, nested=True),
                 "entity": lk.child, "bytes": self.sizes[lk.child].row_bytes},
            ]
            coll.patterns.append(("bucket", lk.reason))
            self.collections[lk.child] = coll
            self.home[lk.child] = (coll.name, "items")
        if lk.kind == "refs" and lk.rel is not None:
            coll = self.collections[lk.parent]
            coll.fields.append({"name": lk.path, "bson": "array", "type": "list",
                                "items": "objectId", "item_type": "objectId",
                                "max_items": lk.bound, "required": False, "bytes": 12})
            coll.patterns.append(("references array", lk.reason))
            self.add_index(coll, [(lk.path, 1)], [],
                           f"multikey: the {lk.parent} documents of one {lk.child}")
        if lk.kind == "link" and lk.rel is not None:
            name = lk.path
            coll = Collection(name, f"{lk.parent}–{lk.child}")
            coll.fields = [
                {"name": "_id", "bson": "objectId", "type": "objectId", "required": True,
                 "bytes": 12},
                {"name": f"{snake(lk.parent)}_id", "bson": "objectId", "type": "objectId",
                 "required": True, "bytes": 12, "references": lk.parent},
                {"name": f"{snake(lk.child)}_id", "bson": "objectId", "type": "objectId",
                 "required": True, "bytes": 12, "references": lk.child},
                {"name": "created_at", "bson": "date", "type": "timestamp", "required": True,
                 "bytes": 8},
            ]
            for n, attr in lk.rel.attributes.items():
                coll.fields.append(self.attribute_field(n, attr))
            coll.patterns.append(("link collection", lk.reason))
            for side in (lk.parent, lk.child):
                self.add_index(coll, [(f"{snake(side)}_id", 1)], [],
                               f"the {side} side of {lk.parent} ↔ {lk.child}")
            coll.rows_horizon = int(self.spec.entities[lk.parent].volume_at(
                self.spec.scale.horizon_years) * (lk.rel.fanout or 1))
            coll.rows_now = int(self.spec.entities[lk.parent].volume * (lk.rel.fanout or 1))
            coll.record_bytes = coll.avg_bytes = coll.max_bytes = 80
            self.collections[name] = coll

    def collection_named(self, name: str) -> Collection:
        return next(c for c in self.collections.values() if c.name == name)

    def cross_part(self, e: str, coll: Collection) -> None:
        """References to and from entities stored in other databases."""
        for r in self.spec.references_of(e):
            if r.parent in self.members:
                continue
            coll.fields.append(self.reference_field(r))
            shown = self.display_fields(r.parent)
            if shown:
                attrs = self.spec.entities[r.parent].attributes
                coll.fields.append({
                    "name": r.field_name, "bson": "object", "type": "extended_reference",
                    "required": False, "references": r.parent,
                    "fields": [self.attribute_field(n, attrs[n]) for n in shown],
                    "bytes": sum(attribute_bytes(attrs[n], tuning()) for n in shown)})
                coll.patterns.append((
                    "extended reference",
                    f"{r.parent} lives in another database, where no $lookup reaches: "
                    f"{e} keeps {r.field_name}_id and a copy of {', '.join(shown)} under "
                    f"{r.field_name}, refreshed from {r.parent}'s change events, so a read of "
                    f"{e} needs no second call"))
        for r in self.spec.relationships:
            if r.kind != RelKind.many_to_many and r.parent == e and r.child not in self.members:
                self.notes.append(
                    f"{r.child} (in another database) holds {e}'s id as {r.field_name}: no "
                    f"foreign key spans the two databases, so deleting {a_an(e)} must also "
                    f"clean up its {pluralize(snake(r.child))} through the application or an "
                    "outbox event")

    def patterns_of_entity(self, e: str, coll: Collection) -> None:
        """Polymorphic, attribute, computed and schema-versioning patterns of one collection."""
        ent = self.spec.entities[e]
        names = set(_rule("discriminators"))
        varying = [n for n, a in ent.attributes.items()
                   if a.varies or a.type in (AttrType.map, AttrType.json)]
        disc = [n for n, a in ent.attributes.items() if a.type == AttrType.enum and n in names]
        if disc and varying:
            values = ent.attributes[disc[0]].values or []
            coll.patterns.append((
                "polymorphic",
                f"one collection for every {disc[0]} ({', '.join(values)}): the shared fields "
                f"are validated, the {disc[0]}-specific ones live in {', '.join(varying)}; "
                "indexes and queries span all kinds"))
        filtered = {f for p in self.reads_of(e) for f in p.where}
        for n in varying:
            if n not in filtered:
                continue
            # The attribute pattern: keys become values, so one index serves every key.
            f = next(f for f in coll.fields if f["name"] == n)
            f.update(bson="array", type="attribute", item_type="kv",
                     max_items=ent.attributes[n].max_length,
                     fields=[{"name": "k", "bson": "string", "type": "string", "required": True,
                              "bytes": 12},
                             {"name": "v", "bson": "string", "type": "string", "required": True,
                              "bytes": 12}])
            coll.patterns.append(("attribute", f"{n} is filtered on and its keys vary: stored "
                                  f"as [{{k, v}}] so one index {{{n}.k: 1, {n}.v: 1}} serves "
                                  "every key"))
        for r in self.spec.relationships:
            if r.kind == RelKind.many_to_many or r.parent != e:
                continue
            for cand in (f"{snake(r.child)}_count", f"{pluralize(snake(r.child))}_count"):
                if cand in ent.attributes:
                    where = "" if r.child in self.members else \
                        f" ({r.child} is in another database: after its commit, by the writer)"
                    coll.patterns.append((
                        "computed",
                        f"{cand} is kept with $inc on each {r.child} insert{where} instead of "
                        f"counted on every read of {e}"))
        for p in self.reads_of(e):
            if p.kind == PatternKind.aggregate:
                coll.patterns.append((
                    "computed",
                    f"{p.name} ({p.measure or 'count'} per "
                    f"{human_duration(p.window) if p.window else 'window'}) is read at "
                    f"{human_rate(p.rate)}: a summary document per "
                    f"{', '.join(p.group_by) or e} and window is updated on write ($inc), so "
                    "the read is one indexed fetch, not a scan"))
        lifetime = float(_rule("schema_version_min_lifetime_seconds"))
        if ent.ttl is None or ent.ttl >= lifetime:
            coll.fields.append({"name": "schema_version", "bson": "int", "type": "int",
                                "required": True, "minimum": 1, "bytes": 4})
            kept = f"kept {human_duration(ent.ttl)}" if ent.ttl else "kept indefinitely"
            coll.patterns.append((
                "schema versioning",
                f"documents are {kept}: schema_version (1 now) lets a later shape coexist "
                "and be migrated lazily on read or in the background"))

    # --- indexes -------------------------------------------------------------------------

    def path_of(self, entity: str, name: str) -> str:
        """The document path of a spec field of `entity` in its collection."""
        coll, prefix = self.home[entity]
        is_ref = any(r.field_name == name for r in self.spec.references_of(entity))
        local = "_id" if name == "id" else f"{name}_id" if is_ref else name
        if coll.endswith("_buckets") and prefix == "items":
            # A bucket holds one parent's records of one time window: the parent's id and the
            # window's start are on the bucket, the rest on each item.
            if is_ref:
                return local
            if name == "created_at":
                return "bucket_start"
        return f"{prefix}.{local}" if prefix else local

    def add_index(self, coll: Collection, keys: list[tuple[str, Any]], patterns: list[str],
                  reason: str, **options: Any) -> str:
        """Add an index (or reuse one with the same keys, or whose keys start with these)."""
        if keys == [("_id", 1)] and not options:
            return "_id_"
        for ix in coll.indexes:
            same_opts = {k: v for k, v in ix["options"].items() if k != "name"} == options
            theirs = [tuple(k) for k in ix["keys"]]
            if same_opts and theirs[: len(keys)] == keys:
                ix["patterns"] += [p for p in patterns if p not in ix["patterns"]]
                return str(ix["options"]["name"])
        name = "_".join(f"{k}_{v}" for k, v in keys).replace(".", "_")
        for ix in list(coll.indexes):
            # A shorter index that is a prefix of this one is served by this one.
            theirs = [tuple(k) for k in ix["keys"]]
            if not ix["options"].get("unique") and "expireAfterSeconds" not in ix["options"] \
                    and keys[: len(theirs)] == theirs and not options:
                coll.indexes.remove(ix)
                patterns = ix["patterns"] + [p for p in patterns if p not in ix["patterns"]]
                reason = f"{reason}; its prefix also serves {', '.join(ix['patterns'])}"
        coll.indexes.append({"keys": [list(k) for k in keys],
                             "options": {"name": name, **options},
                             "patterns": list(patterns), "reason": reason})
        return name

    def index_patterns(self) -> None:
        spec = self.spec
        for e, coll in list(self.collections.items()):
            if e not in spec.entities:
                continue
            ent = spec.entities[e]
            for n, attr in ent.attributes.items():
                if attr.unique:
                    self.add_index(coll, [(self.path_of(e, n), 1)], [],
                                   f"{n} is unique", unique=True)
            for group in ent.unique:
                self.add_index(coll, [(self.path_of(e, f), 1) for f in group], [],
                               f"({', '.join(group)}) is unique together", unique=True)
            if ent.ttl and self.home[e][1] == "":
                self.add_index(coll, [("created_at", 1)], [],
                               f"TTL: documents are deleted {human_duration(ent.ttl)} after "
                               "created_at (the TTL monitor runs every "
                               f"{_limit('ttl_monitor_seconds')} s, so up to a minute late)",
                               expireAfterSeconds=int(ent.ttl))
            for lk in self.links:
                if lk.kind == "tree" and lk.child == e:
                    self.add_index(coll, [("ancestors", 1)], [],
                                   "tree: every descendant of a node in one query")
        for p in self.patterns:
            if p.kind == PatternKind.write or p.entity not in self.home:
                continue
            self.index_pattern(p)

    def index_pattern(self, p: AccessPattern) -> None:
        e = p.entity or ""
        coll_name, prefix = self.home[e]
        coll = self.collection_named(coll_name)
        query: dict[str, Any] = {"name": p.name, "kind": p.kind.value, "collection": coll.name,
                                 "entity": e, "filter": {}, "sort": [], "limit": p.limit,
                                 "rate": p.rate}
        self.queries.append(query)
        where = dict(p.where)
        if p.kind == PatternKind.traversal and p.via:
            rel = next((r for r in spec_rels(self.spec, e) if p.via in
                        (r.name, r.field_name, r.parent if r.child == e else r.child)), None)
            if rel is not None and rel.parent == rel.child:
                query["filter"] = {"ancestors": "eq"}
                query["index"] = self.add_index(coll, [("ancestors", 1)], [p.name],
                                                "tree: descendants by ancestor")
                query["served_by"] = f"{coll.name} by ancestors (tree pattern)"
                return
            if rel is not None and rel.child == e:
                where = {rel.field_name: Op.eq}
            elif rel is not None and rel.child in self.home:
                # Children of this entity: read from the child's home.
                e = rel.child
                coll_name, prefix = self.home[e]
                coll = self.collection_named(coll_name)
                query.update(collection=coll.name, entity=e)
                where = {rel.field_name: Op.eq}
        if prefix:
            parent_refs = {r.field_name for r in self.spec.references_of(e)
                           if self.home.get(r.parent, ("", ""))[0] == coll.name}
            if set(where) <= parent_refs and prefix.split(".")[0] != "items":
                query["filter"] = {"_id": "eq"}
                query["index"] = "_id_"
                query["served_by"] = (f"the parent document by _id: {e} is embedded as "
                                      f"{prefix}[]")
                query["embedded"] = prefix
                return
        eq = [(f, op) for f, op in where.items() if op in (Op.eq, Op.in_)]
        rng = [(f, op) for f, op in where.items() if op in (Op.range, Op.prefix)]
        text = [f for f, op in where.items() if op == Op.text]
        geo = [f for f, _ in rng if self.is_geo(e, f)]
        for f, op in where.items():
            query["filter"][self.path_of(e, f)] = op.value
        query["sort"] = [[self.path_of(e, f), -1 if d else 1] for f, d in p.sort]
        if text:
            keys = [(self.path_of(e, f), "text") for f in text]
            existing = next((ix for ix in coll.indexes
                             if any(v == "text" for _, v in ix["keys"])), None)
            if existing is not None and [tuple(k) for k in existing["keys"]] != keys:
                self.warn(f"{p.name} searches {', '.join(text)} on {coll.name}, which already has "
                          "a text index on other fields: MongoDB allows one text index per "
                          "collection, so it is widened to cover both", pattern=p.name)
                for k in keys:
                    if list(k) not in existing["keys"]:
                        existing["keys"].append(list(k))
                existing["patterns"].append(p.name)
                query["index"] = existing["options"]["name"]
            else:
                query["index"] = self.add_index(
                    coll, keys, [p.name], "text search ($text; one text index per collection)")
            query["served_by"] = f"text index {query['index']}"
            return
        if geo:
            keys = [(self.path_of(e, f), "2dsphere") for f in geo]
            query["index"] = self.add_index(coll, keys, [p.name], "geospatial ($near/$geoWithin)")
            query["served_by"] = f"2dsphere index {query['index']}"
            return
        if p.kind == PatternKind.aggregate and p.time:
            rng.append((p.time, Op.range))
            query["filter"][self.path_of(e, p.time)] = "range"
        attr_fields = {f["name"] for f in coll.fields if f.get("type") == "attribute"}
        keys: list[tuple[str, Any]] = []
        for f, _ in eq:
            path = self.path_of(e, f)
            keys += [(f"{path}.k", 1), (f"{path}.v", 1)] if path in attr_fields else [(path, 1)]
        keys += [(path, d) for path, d in query["sort"] if path not in {k for k, _ in keys}]
        keys += [(self.path_of(e, f), 1) for f, _ in rng
                 if self.path_of(e, f) not in {k for k, _ in keys}]
        if not keys:
            self.warn(f"{p.name} reads {e} with no filter: a collection scan of "
                      f"{human_count(coll.rows_horizon)} documents at the horizon", pattern=p.name)
            query["index"] = None
            query["served_by"] = "collection scan"
            return
        if len(keys) > _limit("max_compound_index_fields"):
            self.warn(f"{p.name} needs {len(keys)} index fields, above MongoDB's "
                      f"{_limit('max_compound_index_fields')}", severity="error", pattern=p.name)
        parts = []
        if eq:
            parts.append("equality " + ", ".join(self.path_of(e, f) for f, _ in eq))
        if p.sort:
            parts.append("sort " + ", ".join(p.order_by))
        if rng:
            parts.append("range " + ", ".join(self.path_of(e, f) for f, _ in rng))
        query["index"] = self.add_index(coll, keys, [p.name], "ESR: " + "; ".join(parts))
        query["served_by"] = f"index {query['index']}"

    def is_geo(self, entity: str, name: str) -> bool:
        attr = self.spec.entities[entity].attributes.get(name)
        return attr is not None and attr.type == AttrType.geo

    # --- sizes, shard key, writes --------------------------------------------------------

    def size(self) -> None:
        limit = _limit("max_document_bytes")
        large = int(document_data()["advice"]["large_document_bytes"]["value"])
        for e, coll in self.collections.items():
            if e not in self.sizes:
                continue
            if coll.name.endswith("_buckets"):
                size = self.sizes[e]
                lk = next(lk for lk in self.links if lk.kind == "bucket" and lk.child == e)
                n = int(lk.bound or 1)
                coll.record_bytes = 48
                coll.avg_bytes = coll.max_bytes = 48 + n * size.row_bytes
                coll.size_parts = [f"{n} × {human_bytes(size.row_bytes)} per bucket"]
                coll.rows_now = -(-size.rows_now // n)
                coll.rows_horizon = -(-size.rows_horizon // n)
            else:
                size = self.sizes[e]
                coll.record_bytes = size.row_bytes
                coll.avg_bytes = coll.max_bytes = size.row_bytes
                coll.size_parts = [f"{e} {human_bytes(size.row_bytes)}"]
                coll.rows_now, coll.rows_horizon = size.rows_now, size.rows_horizon
            for f in coll.fields:
                if f.get("type") == "extended_reference":
                    coll.avg_bytes += int(f["bytes"])
                    coll.max_bytes += int(f["bytes"])
                    coll.size_parts.append(f"{f['name']} copy {human_bytes(f['bytes'])}")
            for lk in self.links:
                if lk.parent != e or lk.kind not in ("embed", "outlier", "subset"):
                    continue
                child = self.sizes[lk.child].row_bytes
                fan = lk.rel.fanout if lk.rel and lk.rel.fanout else (lk.bound or 0)
                avg_n = min(fan, lk.bound or fan)
                coll.avg_bytes += int(avg_n * child)
                coll.max_bytes += int((lk.bound or 0) * child)
                coll.size_parts.append(f"{lk.path}: avg {human_count(avg_n)}, max "
                                       f"{human_count(lk.bound or 0)} × {human_bytes(child)}")
            coll.index_bytes_per_doc = self.sizes[e].index_bytes_per_row * max(
                1, len(coll.indexes) + 1)
            if coll.max_bytes > limit:
                made = " + ".join(coll.size_parts)
                self.warn(f"{coll.name}: the largest document is ≈{human_bytes(coll.max_bytes)}"
                          f", above MongoDB's {human_bytes(limit)} limit ({made}); lower the "
                          "embedded bounds or reference the children",
                          severity="error")
            elif coll.max_bytes > large:
                self.warn(f"{coll.name}: the largest document is ≈{human_bytes(coll.max_bytes)} "
                          f"(under the {human_bytes(limit)} limit but above the "
                          f"{human_bytes(large)} MongoDB advises): every read of it moves "
                          "that much; consider the subset pattern")

    def shard(self) -> dict[str, Any]:
        """Whether the part outgrows one replica set by the horizon, and the key to shard on."""
        ceiling = ceiling_of("mongodb", "MongoDB")
        data = sum(c.rows_horizon * c.avg_bytes for c in self.collections.values())
        index = sum(c.rows_horizon * c.index_bytes_per_doc for c in self.collections.values())
        # WiredTiger's cache is about half the RAM; the indexes should stay in it.
        cache_bytes = ceiling.ram_bytes / 2
        needed = data + index > ceiling.storage_bytes or index > cache_bytes
        why = (f"≈{human_bytes(data)} of documents and ≈{human_bytes(index)} of indexes at the "
               f"horizon against one replica set's {human_bytes(ceiling.storage_bytes)} of "
               f"storage and ≈{human_bytes(cache_bytes)} of WiredTiger cache ({ceiling.instance})")
        biggest = max(self.collections.values(), key=lambda c: c.rows_horizon * c.avg_bytes,
                      default=None)
        out: dict[str, Any] = {"needed": needed, "why": why, "keys": []}
        if biggest is None:
            return out
        for coll in sorted(self.collections.values(),
                           key=lambda c: -c.rows_horizon * c.avg_bytes):
            if coll is not biggest and coll.rows_horizon * coll.avg_bytes < data * 0.2:
                continue
            out["keys"].append(self.shard_key(coll))
        return out

    def shard_key(self, coll: Collection) -> dict[str, Any]:
        reads = [q for q in self.queries if q["collection"] == coll.name]
        total = sum(q["rate"] for q in reads) or 1.0
        share: dict[str, float] = {}
        for q in reads:
            for f, op in q["filter"].items():
                if op == "eq":
                    share[f] = share.get(f, 0.0) + q["rate"]
        min_card = int(document_data()["sharding"]["min_key_cardinality"])
        best = max(share, key=lambda f: share[f], default="_id")
        pct = 100 * share.get(best, 0.0) / total
        card, what = self.key_cardinality(coll, best)
        if best == "_id" or best.endswith("._id"):
            key: dict[str, Any] = {"_id": "hashed"}
            reason = (f"reads are by _id ({pct:.0f}% of {human_rate(total)}): each goes to one "
                      "shard; hashing spreads inserts, which an ascending ObjectId would send "
                      "to the last chunk")
        elif card is not None and card < min_card:
            key = {best: 1, "_id": 1}
            reason = (f"{best} serves {pct:.0f}% of reads but has only {human_count(card)} "
                      f"values ({what}): _id is added so chunks can split; a few {best} "
                      "values will still be hot")
            self.warn(f"{coll.name}: the best shard key field {best} has only "
                      f"{human_count(card)} distinct values; chunks of one value cannot split")
        elif what.startswith("a reference"):
            key = {best: 1, "_id": 1}
            reason = (f"{pct:.0f}% of reads ({human_rate(total)}) filter on {best}: ranged on "
                      f"it, a parent's documents sit in one shard so those reads are targeted; "
                      f"_id makes the key unique ({what})")
        else:
            key = {best: "hashed"}
            reason = (f"{pct:.0f}% of reads ({human_rate(total)}) look up by {best} ({what}): "
                      "each goes to one shard, and hashing spreads writes evenly")
        for ix in coll.indexes:
            first = ix["keys"][0][0]
            if ix["options"].get("unique") and first != next(iter(key)):
                self.warn(f"{coll.name}: unique index {ix['options']['name']} does not start "
                          f"with the shard key {next(iter(key))}; a sharded collection enforces "
                          "uniqueness only on indexes prefixed by the shard key")
        return {"collection": coll.name, "key": key, "reason": reason}

    def key_cardinality(self, coll: Collection, path: str) -> tuple[int | None, str]:
        e = coll.entity
        if e not in self.spec.entities:
            return None, "unknown"
        ent = self.spec.entities[e]
        h = self.spec.scale.horizon_years
        for r in self.spec.references_of(e):
            if path == f"{r.field_name}_id":
                n = int(self.spec.entities[r.parent].volume_at(h))
                return n, f"a reference: {human_count(n)} {r.parent} at the horizon"
        attr = ent.attributes.get(path)
        if attr is not None and attr.type == AttrType.enum:
            return len(attr.values or []), "an enum"
        if attr is not None and attr.type == AttrType.bool:
            return 2, "a boolean"
        keyed = any(p.key == path for p in self.reads_of(e))
        if attr is not None and (attr.unique or keyed):
            return int(ent.volume_at(h)), "a key, one value per document"
        return None, "cardinality not stated"

    def writes(self) -> None:
        for p in self.patterns:
            if p.kind != PatternKind.write:
                continue
            outside = [e for e in p.touches if e not in self.members]
            inside = [e for e in p.touches if e in self.members]
            if outside and p.transaction:
                self.warn(f"{p.name} writes {', '.join(inside)} here and {', '.join(outside)} "
                          "in another database in one transaction: no transaction spans two "
                          "databases; use an outbox (or a saga) and make the writes idempotent",
                          severity="error", pattern=p.name)
            homes = {self.home[e][0] for e in inside if e in self.home}
            if p.transaction and len(inside) > 1:
                if len(homes) == 1:
                    self.notes.append(
                        f"{p.name} writes {', '.join(inside)} in one document of "
                        f"{next(iter(homes))}: a single-document write is atomic, no "
                        "transaction needed")
                else:
                    self.notes.append(
                        f"{p.name} writes {', '.join(sorted(homes))} in a multi-document "
                        f"transaction at {human_rate(p.rate)} (replica set or sharded cluster; "
                        f"{_limit('transaction_lifetime_seconds')} s lifetime, retry on "
                        "TransientTransactionError)")
            if p.operation == WriteOp.upsert:
                self.notes.append(f"{p.name} is an upsert: updateOne(filter, update, "
                                  "{upsert: true}) on the pattern's key")

    def unbounded(self) -> None:
        for coll in self.collections.values():
            for f in walk(coll.fields):
                if f["bson"] == "array" and f.get("max_items") is None:
                    self.warn(f"{coll.name}.{f['name']} is an array with no bound: an "
                              "unbounded embedded array grows toward the 16 MiB document "
                              "limit and makes every update rewrite more; give the list "
                              "attribute a max_length (read as its largest number of items)")
            if len(coll.indexes) + 1 > _limit("max_indexes_per_collection"):
                self.warn(f"{coll.name} needs {len(coll.indexes) + 1} indexes, above "
                          f"MongoDB's {_limit('max_indexes_per_collection')}", severity="error")

    # --- model ---------------------------------------------------------------------------

    def model(self, shard: dict[str, Any]) -> dict[str, Any]:
        colls = []
        for coll in self.collections.values():
            colls.append({
                "name": coll.name, "entity": coll.entity, "fields": coll.fields,
                "validator": {"$jsonSchema": validator(coll.fields, coll.name)},
                "indexes": coll.indexes,
                "patterns": [{"pattern": n, "reason": r} for n, r in coll.patterns],
                "rows_now": int(coll.rows_now), "rows_horizon": int(coll.rows_horizon),
                "record_bytes": coll.record_bytes, "avg_bytes": coll.avg_bytes,
                "max_bytes": coll.max_bytes, "size_parts": coll.size_parts,
            })
        return {
            "database": self.spec.system,
            "collections": colls,
            "links": [{"parent": lk.parent, "child": lk.child, "kind": lk.kind,
                       "cardinality": lk.cardinality, "bound": lk.bound, "path": lk.path,
                       "reason": lk.reason} for lk in self.links],
            "queries": self.queries,
            "shard": shard,
            "notes": self.notes,
            "max_document_bytes": _limit("max_document_bytes"),
        }


_VERBS = {"embed": "embedded in", "outlier": "embedded (outliers apart) in",
          "subset": "subset embedded in", "reference": "referencing", "bucket": "bucketed under",
          "tree": "a tree of", "refs": "ids listed in", "link": "linked by a collection to"}


def spec_rels(spec: Spec, entity: str) -> list[Relationship]:
    """Relationships touching `entity`."""
    return spec.relationships_of(entity)


def a_an(word: str) -> str:
    """`an Entry`, `a Comment`."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def walk(fields: list[Field]) -> list[Field]:
    """Every field, nested ones included."""
    out = []
    for f in fields:
        out.append(f)
        out += walk(f.get("fields", []))
    return out


def field_schema(f: Field) -> dict[str, Any]:
    """The $jsonSchema of one field (bsonType, bounds, nested properties)."""
    s: dict[str, Any] = {"bsonType": f["bson"]}
    if f.get("description"):
        s["description"] = f["description"]
    if "enum" in f:
        s["enum"] = f["enum"]
    if "max_length" in f:
        s["maxLength"] = f["max_length"]
    if "pattern" in f:
        s["pattern"] = f["pattern"]
    if "minimum" in f:
        s["minimum"] = f["minimum"]
    if f["bson"] == "array":
        if f.get("max_items") is not None:
            s["maxItems"] = f["max_items"]
        if f.get("min_items") is not None:
            s["minItems"] = f["min_items"]
        s["items"] = (object_schema(f["fields"]) if f.get("fields")
                      else {"bsonType": f.get("items", "string")})
    elif f["bson"] == "object" and f.get("fields"):
        s.update(object_schema(f["fields"]))
    return s


def object_schema(fields: list[Field], closed: bool = False) -> dict[str, Any]:
    """An object's $jsonSchema: required fields and each property's schema."""
    s: dict[str, Any] = {"bsonType": "object",
                         "required": [f["name"] for f in fields if f["required"]],
                         "properties": {f["name"]: field_schema(f) for f in fields}}
    if closed:
        s["additionalProperties"] = False
    return s


def validator(fields: list[Field], name: str) -> dict[str, Any]:
    """The collection's $jsonSchema: closed at the top so a misspelt field is refused."""
    s = object_schema(fields, closed=True)
    s["title"] = name
    return s


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The MongoDB design of a document part: collections, validators, indexes, shard key."""
    from dbarch.design.document_render import render_js, render_section

    d = _Designer(spec, decision)
    if decision.product != "mongodb":
        d.warn(f"this part is placed in {decision.product_name}, but the document designer "
               "writes MongoDB collections and validators: read them as the document model "
               f"to map onto {decision.product_name}", severity="info")
    d.build()
    d.index_patterns()
    d.size()
    d.writes()
    d.unbounded()
    shard = d.shard()
    model = d.model(shard)
    section = render_section(spec, decision, model, d.findings)
    n = len(model["collections"])
    summary = (f"{n} collection{'s' if n != 1 else ''} in {decision.product_name} for "
               f"{', '.join(decision.entities)}: "
               + "; ".join(f"{lk['child']} {_VERBS[lk['kind']]} {lk['parent']}"
                           for lk in model["links"])
               + (". " if model["links"] else "")
               + f"{sum(len(c['indexes']) for c in model['collections'])} indexes; shard key "
               + ("needed within the horizon." if shard["needed"] else "proposed for later."))
    return PartDesign(
        part=decision.part, paradigm=decision.paradigm.value, product=decision.product,
        summary=summary, section=section,
        artifacts={"schema/mongodb.js": render_js(model)},
        findings=d.findings, model=model)
