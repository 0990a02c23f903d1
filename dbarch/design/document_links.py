"""Embed or reference: how each relationship inside a document part is stored.

The heart of the document design: for each relationship whose two ends are both in the part,
its cardinality (one-to-few / one-to-many / one-to-squillions, from `max_fanout`), whether the
children are read with the parent, how often they are written, whether they are read on their
own and whether they expire decide between embedding, the subset, outlier, bucket and tree
patterns, and a reference; a many-to-many becomes an array of ids or a link collection. Apart
from the collections it shapes because these are decisions with reasons, not field building.
"""

from __future__ import annotations

from dbarch.design.document_model import DocumentFacts, Link, _rule, document_data
from dbarch.design.keys import pluralize
from dbarch.spec.model import Op, PatternKind, Relationship, snake
from dbarch.spec.quantities import human_count, human_duration, human_rate


class LinkDesigner(DocumentFacts):
    """The relationships step of the document designer."""

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
