"""Sizes of a document part's collections, its shard key, and the checks on writes and bounds.

Document sizes against MongoDB's 16 MiB limit and its advice, whether the part outgrows one
replica set by the horizon and the shard key to use, transactions that span documents or
databases, unbounded arrays and index counts. Apart because these read the finished design
and only add findings, notes and the shard proposal.
"""

from __future__ import annotations

from typing import Any

from dbarch.design.ceilings import ceiling_of
from dbarch.design.document_fields import walk
from dbarch.design.document_model import Collection, DocumentFacts, _limit, document_data
from dbarch.spec.model import AttrType, PatternKind, WriteOp
from dbarch.spec.quantities import human_bytes, human_count, human_rate


class SizingDesigner(DocumentFacts):
    """The sizes, shard key and write checks of the document designer."""

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
