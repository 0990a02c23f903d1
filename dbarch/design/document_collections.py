"""Collections of a document part: what each holds once its relationships are decided.

Builds the collections from the link decisions (embedded arrays, buckets, trees, arrays of ids,
link collections), adds references to and from entities in other databases (with the extended
reference pattern) and the per-entity patterns (polymorphic, attribute, computed, schema
versioning). Apart because it assembles the link decisions and the fields into documents.
"""

from __future__ import annotations

from dbarch.design.document_fields import FieldDesigner
from dbarch.design.document_indexes import IndexDesigner
from dbarch.design.document_links import LinkDesigner
from dbarch.design.document_model import Collection, Field, Link, _rule
from dbarch.design.keys import pluralize, table_name
from dbarch.select.sizing import attribute_bytes
from dbarch.select.tuning import tuning
from dbarch.spec.model import AttrType, PatternKind, RelKind, snake
from dbarch.spec.quantities import human_duration, human_rate


class CollectionDesigner(LinkDesigner, FieldDesigner, IndexDesigner):
    """The collections step of the document designer."""

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


def a_an(word: str) -> str:
    """`an Entry`, `a Comment`."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
