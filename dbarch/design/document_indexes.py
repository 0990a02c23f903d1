"""Indexes of a document part: one per read pattern in ESR order, plus unique, TTL and tree.

Every read pattern gets an index in ESR order (equality, sort, range), or a text or 2dsphere
index, or is served by its parent document when its entity is embedded; each query records
which index serves it. Unique attributes, TTL and tree ancestors get theirs. Apart because
index choice reads the finished collections and feeds the shard key, and is the longest step.
"""

from __future__ import annotations

from typing import Any

from dbarch.design.document_model import Collection, DocumentFacts, _limit
from dbarch.spec.model import AccessPattern, AttrType, Op, PatternKind, Relationship, Spec
from dbarch.spec.quantities import human_count, human_duration


class IndexDesigner(DocumentFacts):
    """The indexes step of the document designer."""

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


def spec_rels(spec: Spec, entity: str) -> list[Relationship]:
    """Relationships touching `entity`."""
    return spec.relationships_of(entity)
