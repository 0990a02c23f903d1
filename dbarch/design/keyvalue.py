"""The key-value part on Redis: key names, a data structure per use, TTLs, memory and eviction.

Each entity of the part becomes a record key `app:entity:{id}`: a string holding the record as
JSON when every pattern reads and writes it whole, a hash when a pattern reads a subset
(`project`) or updates fields (an attribute too long for the hash's listpack then gets its own
string key `app:entity:{id}:field`). Read patterns on other fields add index keys: a string
(unique lookup), a set (equality), a sorted set (order or range, scored by the field), a
stream (append-only entities read newest first) or a HyperLogLog (`count(distinct x)`).
The braces are kept in the key names on purpose: in Redis Cluster only the text between them
is hashed, so a record's keys share one slot.

Sizes follow what MEMORY USAGE counts (allocator size classes, embstr, listpack and
hashtable encodings; `dbarch/data/keyvalue.yaml`), so the verifier can compare the estimate
with the server's number key by key. Pure: no connection is opened here.

This module holds the designer and its records and writes; its siblings hold the rest:
keyvalue_encodings (bytes per key), keyvalue_records (fields, key names, samples),
keyvalue_reads (index keys and read commands), keyvalue_memory (budget, eviction,
persistence) and keyvalue_render (the section and schema/redis.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

from dbarch.design.keyvalue_encodings import hash_value_bytes, kv_data, string_value_bytes
from dbarch.design.keyvalue_reads import Index, ReadPlans
from dbarch.design.keyvalue_records import (
    Field_,
    _id_chars,
    _key,
    _ttl,
    key_name,
    record_fields,
    record_json,
    sample_id,
    sample_record,
    window_of,
)
from dbarch.design.keyvalue_render import render_key_table, render_section
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision
from dbarch.spec.model import AccessPattern, Op, PatternKind, Spec, WriteOp
from dbarch.spec.quantities import human_bytes


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The Redis key design of one key-value part: keys, structures, TTLs, commands per access
    pattern, writes and what they invalidate, memory per key and at the horizon, eviction."""
    return _Designer(spec, decision).run()


class _Designer(ReadPlans):
    def __init__(self, spec: Spec, decision: Decision) -> None:
        self.spec = spec
        self.decision = decision
        self.data = kv_data()
        self.app = re.sub(r"[^a-z0-9_-]", "_", spec.system.lower())
        self.findings: list[PartFinding] = []
        self.entities: dict[str, dict[str, Any]] = {}
        self.indexes: list[Index] = []
        self.patterns: list[dict[str, Any]] = []
        self.keys: list[dict[str, Any]] = []
        mine = set(decision.patterns)
        self.reads = [p for p in spec.access_patterns if p.name in mine
                      and p.kind != PatternKind.write and p.entity in decision.entities]
        self.writes = [p for p in spec.access_patterns if p.kind == PatternKind.write
                       and any(e in decision.entities for e in p.touches)]
        self.other_reads = [p for p in spec.access_patterns if p.name in mine
                            and p.kind != PatternKind.write and p.entity not in decision.entities]

    # -- records ---------------------------------------------------------------------------
    def _record(self, entity: str) -> dict[str, Any]:
        spec, data = self.spec, self.data
        fields = record_fields(spec, entity, data)
        ent = spec.entities[entity]
        reads = [p for p in self.reads if p.entity == entity]
        writes = [p for p in self.writes if entity in p.touches]
        by_field = [p.name for p in reads if p.project] + [
            p.name for p in writes if p.operation == WriteOp.update]
        sample = sample_record(fields, 0)
        limit = data["encodings"]["hash"]["value"]
        split: list[str] = []
        if by_field:
            structure = "hash"
            split = [f.name for f in fields if f.chars > limit]
            why = (f"{', '.join(by_field)} read or write single fields, so a hash: HGET/HSET "
                   "touch only those fields")
            if split:
                sizes = ", ".join(str(f.chars) for f in fields if f.name in split)
                why += (f"; {', '.join(split)} ({sizes} B) "
                        f"{'exceed' if len(split) > 1 else 'exceeds'} hash-max-listpack-value "
                        f"({limit} B), so "
                        f"{'each gets' if len(split) > 1 else 'it gets'} its own string key "
                        "`…:{id}:field` and the hash stays a compact listpack")
        else:
            structure = "string"
            big = [f for f in fields if f.chars > limit]
            why = ("every pattern reads and writes the record whole, so one string of compact "
                   "JSON: one GET or SET per call")
            if big:
                why += (f"; a hash would gain nothing and would be a hashtable, since "
                        f"{big[0].name} ({big[0].chars} B) exceeds hash-max-listpack-value "
                        f"({limit} B)")
        id_chars = _id_chars(spec, entity, data)
        record_key = _key(self.app, entity, "{id}")
        key_len = len(record_key) - 4 + id_chars
        size = entity_size(spec, entity)
        ttl = _ttl(spec, entity)
        keys = []
        if ent.append_only and self._stream_only(entity):
            structure = "stream"
            why = ("append-only records read newest first: entries of a stream (XADD, "
                   "XREVRANGE), trimmed by age")
        else:
            if structure == "string":
                value = record_json(sample)
                per, enc = string_value_bytes(len(value), data), (
                    "embstr" if len(value) <= data["encodings"]["embstr_max"] else "raw")
                keys.append(self._keyrow(entity, "record", record_key, "string", enc, ttl,
                                         key_len, per, size.rows_now, size.rows_horizon,
                                         f"the {entity} as JSON ({len(value)} B)"))
            else:
                pairs = [(k, v) for k, v in sample.items() if k not in split]
                per, enc = hash_value_bytes(pairs, data)
                keys.append(self._keyrow(entity, "record", record_key, "hash", enc, ttl,
                                         key_len, per, size.rows_now, size.rows_horizon,
                                         f"{len(pairs)} fields"))
                for name in split:
                    k = f"{record_key}:{name}"
                    v = sample[name]
                    keys.append(self._keyrow(
                        entity, "field", k, "string",
                        "embstr" if len(v) <= data["encodings"]["embstr_max"] else "raw", ttl,
                        key_len + len(name) + 1, string_value_bytes(len(v), data),
                        size.rows_now, size.rows_horizon, f"{name} ({len(v)} B)"))
        return {"entity": entity, "structure": structure, "why": why, "split": split,
                "fields": [f.__dict__ for f in fields], "id_chars": id_chars,
                "key": record_key, "ttl": ttl, "rows_now": size.rows_now,
                "rows_horizon": size.rows_horizon, "keys": keys}

    def _stream_only(self, entity: str) -> bool:
        reads = [p for p in self.reads if p.entity == entity]
        return bool(reads) and all(
            not p.key and (not p.order_by or p.sort[0][0] == "created_at")
            and all(op == Op.eq for f, op in p.where.items() if f != "created_at")
            and len([f for f in p.where if f != "created_at"]) <= 1 for p in reads)

    # -- writes ----------------------------------------------------------------------------
    def _write(self, p: AccessPattern) -> dict[str, Any]:
        mine = [e for e in p.touches if e in self.decision.entities]
        elsewhere = [e for e in p.touches if e not in self.decision.entities]
        steps: list[str] = []
        for e in mine:
            steps += self._write_commands(e, p.operation)
        if p.transaction and elsewhere:
            self.findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} writes {', '.join(mine)} in Redis and {', '.join(elsewhere)} "
                        "in another store in one transaction: no transaction spans both. Write "
                        "the store of record first and make the Redis write idempotent (retried "
                        "from an outbox), or move these entities together"))
        return {"pattern": p.name, "kind": "write", "operation": p.operation.value,
                "entities": mine, "elsewhere": elsewhere, "rate": p.rate, "commands": steps,
                "atomic": "MULTI/EXEC" if len(steps) > 1 else "single command"}

    def _write_commands(self, entity: str, op: WriteOp) -> list[str]:
        rec = self.entities[entity]
        key, ttl = rec["key"], rec["ttl"]
        ex = f" EX {ttl}" if ttl else ""
        cmds: list[str] = []
        if op == WriteOp.delete:
            cmds.append(f"DEL {key}" + "".join(f" {key}:{s}" for s in rec["split"]))
        elif rec["structure"] == "stream":
            pass
        elif rec["structure"] == "string":
            cmds.append(f"SET {key} <json>{ex}")
        else:
            verb = "HSET" if op != WriteOp.update else "HSET (changed fields)"
            cmds.append(f"{verb} {key} field value …")
            cmds += [f"SET {key}:{s} <{s}>{ex}" for s in rec["split"]]
            if ttl:
                cmds.append(f"EXPIRE {key} {ttl}")
        for ix in (i for i in self.indexes if i.entity == entity):
            k = ix.name
            if op == WriteOp.delete:
                cmds.append({"string": f"DEL {k}", "set": f"SREM {k} {{id}}",
                             "zset": f"ZREM {k} {{id}}", "stream": f"XDEL {k} <entry id>",
                             "hll": "(HyperLogLog: members cannot be removed)"}[ix.type])
                continue
            trim = f" MINID ~ <now - {ttl}s>" if ttl else ""
            changed = "if changed: DEL/SREM the old value's key, then " \
                if op == WriteOp.update and ix.type in ("string", "set") else ""
            cmds.append(changed + {"string": f"SET {k} {{id}}{ex}", "set": f"SADD {k} {{id}}",
                         "zset": f"ZADD {k} <{ix.score}> {{id}}",
                         "stream": f"XADD {k}{trim} * field value …",
                         "hll": f"PFADD {k} <{ix.score or 'member'}>"}[ix.type])
            if ttl and ix.type in ("set", "zset", "hll", "stream"):
                cmds.append(f"EXPIRE {k} {ttl}")
        return cmds

    # -- strategy, then the whole design ---------------------------------------------------
    def _strategy(self, entity: str) -> tuple[str, str]:
        cached = self.decision.projection_of is not None or self.decision.in_primary_schema
        if not cached:
            return ("system of record", f"{entity} lives only in Redis: writes go straight to "
                                        "its keys (no cache in front of another store)")
        strong = any(p.consistency.value == "strong" for p in self.reads if p.entity == entity)
        if strong:
            return ("write-through", "reads must see the last write (strong): the application "
                                     "updates the key in the same code path as the store of "
                                     "record")
        return ("cache-aside", "reads tolerate staleness: a miss loads from the store of record "
                               "and SETs with the TTL; writes DEL the key")

    def run(self) -> PartDesign:
        spec, data = self.spec, self.data
        if self.decision.product != "redis":
            # The key design uses Redis structures (hashes, sorted sets, streams); Memcached
            # and other plain key-value stores hold strings only.
            self.findings.append(PartFinding(
                severity="warning",
                message=f"this key design is for Redis; {self.decision.product_name} stores "
                        "strings only, so only the record keys and lookups apply there"))
        for entity in self.decision.entities:
            if entity not in spec.entities:
                continue
            rec = self._record(entity)
            rec["strategy"], rec["strategy_why"] = self._strategy(entity)
            self.entities[entity] = rec
        for p in self.reads:
            self.patterns.append(self._read(p, self.entities[p.entity or ""]))
        for p in self.other_reads:
            self.findings.append(PartFinding(
                severity="warning", pattern=p.name,
                message=f"{p.name} reads {p.entity}, which is not stored in this part"))
        for rec in self.entities.values():
            rec["keys"] += self._index_rows(rec)
            row = sample_record([Field_(**f) for f in rec["fields"]], 0)
            for k in rec["keys"]:
                k["example"] = key_name(k["pattern"], {
                    "id": sample_id(0, rec["id_chars"]), **row,
                    "window": window_of(row, k.get("window"))})
            self.keys += rec["keys"]
        for p in self.writes:
            self.patterns.append(self._write(p))
        for plan in self.patterns:
            plan["commands"] = plan.get("commands") or self._read_commands(plan)
        memory = self._memory()
        eviction = self._eviction()
        persistence = self._persistence()
        self._big_values()
        model = {"app": self.app, "redis": data["redis_version"],
                 "entities": list(self.entities.values()), "keys": self.keys,
                 "patterns": self.patterns, "memory": memory, "eviction": eviction,
                 "persistence": persistence, "encodings": data["encodings"]}
        summary = (f"{len(self.keys)} key patterns for {', '.join(self.entities)} on Redis: "
                   f"{human_bytes(memory['horizon'])} at the horizon against a "
                   f"{human_bytes(memory['budget'])} budget, eviction {eviction['policy']}.")
        design = PartDesign(part=self.decision.part, paradigm=self.decision.paradigm.value,
                            product=self.decision.product, summary=summary,
                            findings=self.findings, model=model)
        design.section = render_section(design)
        design.artifacts = {"schema/redis.md": render_key_table(design),
                            "schema/redis.json": json.dumps(model, indent=2) + "\n"}
        return design


__all__ = ["design_part"]
