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

The designer's steps are mixins in sibling modules: document_model (knowledge, records, the
part's facts), document_links (embed or reference), document_fields (fields and validators),
document_indexes, document_collections and document_sizing (sizes, shard key, checks).
"""

from __future__ import annotations

from typing import Any

from dbarch.design.document_collections import CollectionDesigner
from dbarch.design.document_fields import validator
from dbarch.design.document_model import _limit
from dbarch.design.document_sizing import SizingDesigner
from dbarch.design.parts import PartDesign
from dbarch.select.model import Decision
from dbarch.spec.model import Spec


class _Designer(CollectionDesigner, SizingDesigner):
    """The document designer: every step, and the model of the part handed to the renderer."""

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
