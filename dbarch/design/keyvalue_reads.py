"""The read side of the Redis key design: index keys and the commands of each access pattern.

A read pattern is served by a key lookup, an index key (a string, set, sorted set, stream or
HyperLogLog, as `Index`) or not at all (a finding says why); `ReadPlans` is the part of the
designer (`_Designer` in dbarch/design/keyvalue.py) that decides which, sizes the index keys
and names their commands. It is its own module because it is the largest seam of the
designer, and the writes only consume the indexes it leaves in `self.indexes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dbarch.design.keyvalue_encodings import (
    _as_int,
    hll_value_bytes,
    listpack_entry,
    set_value_bytes,
    stream_value_bytes,
    string_value_bytes,
    zset_value_bytes,
)
from dbarch.design.keyvalue_memory import MemoryPlan
from dbarch.design.keyvalue_records import Field_, _key, sample_id, sample_record
from dbarch.design.parts import PartFinding
from dbarch.spec.model import AccessPattern, Op, PatternKind, Spec
from dbarch.spec.quantities import human_count


@dataclass
class Index:
    """A key that finds records by something other than their id."""

    name: str
    entity: str
    type: str          # string (unique lookup), set, zset, stream, hll
    fields: list[str]  # the fields in the key name (equality)
    score: str | None = None
    patterns: list[str] = field(default_factory=list)
    members_per_key: float = 1.0
    keys_now: float = 0.0
    keys_horizon: float = 0.0
    window: float | None = None


def _measure(pattern: AccessPattern) -> tuple[str, str | None]:
    m = re.fullmatch(r"\s*(\w+)\s*\(\s*(distinct\s+)?(\w+)?\s*\)\s*", pattern.measure or "")
    if not m:
        return ("count", None) if (pattern.measure or "count").strip() == "count" else (
            "unknown", None)
    if m.group(2):
        return "count_distinct", m.group(3)
    return m.group(1).lower(), m.group(3)


def _distinct(spec: Spec, entity: str, name: str, fields: dict[str, Field_]) -> float:
    """How many distinct values a field takes: an enum's values, a reference's parents, 2 for
    a bool, every record for a unique field, else one value per 10 records (assumed)."""
    volume = max(spec.entities[entity].volume, 1)
    f = fields.get(name)
    if f is None:
        return volume
    if f.values:
        return len(f.values)
    if f.type == "bool":
        return 2
    if f.type == "reference":
        for rel in spec.references_of(entity):
            if rel.field_name == name:
                if rel.fanout:
                    return max(1.0, volume / rel.fanout)
                return max(1.0, min(spec.entities[rel.parent].volume or volume, volume))
    if f.unique or f.type == "timestamp":
        return volume
    return max(1.0, volume / 10)


class ReadPlans(MemoryPlan):
    """Read patterns planned: their index keys, the key rows of those, and their commands."""

    # Set by the designer's __init__ (dbarch/design/keyvalue.py), which this class is part of.
    app: str
    indexes: list[Index]

    def _read(self, p: AccessPattern, rec: dict[str, Any]) -> dict[str, Any]:
        entity = p.entity or ""
        fields = {f["name"]: Field_(**f) for f in rec["fields"]}
        plan: dict[str, Any] = {"pattern": p.name, "kind": p.kind.value, "entity": entity,
                                "rate": p.rate, "limit": p.limit, "project": p.project}
        where = dict(p.where)
        unknown = [f for f in [*where, *(s for s, _ in p.sort)]
                   if f != "id" and f not in fields]
        if unknown:
            return self._unserved(p, plan, f"filters on {', '.join(unknown)}, which {entity} "
                                           "does not have")
        if p.kind == PatternKind.traversal:
            return self._unserved(p, plan, f"a {p.hops}-hop traversal: Redis has no joins; "
                                           "each hop would be a round trip per member")
        if p.kind == PatternKind.aggregate:
            return self._aggregate(p, plan, rec, fields)
        text = [f for f, op in where.items() if op in (Op.text, Op.prefix)]
        if text:
            how = where[text[0]].value
            return self._unserved(p, plan, f"{' and '.join(text)} searched by {how}: "
                                           "core Redis has no text or prefix index (the Redis "
                                           "Query Engine module has)")
        if rec["structure"] == "stream":
            eq = [f for f, op in where.items() if f != "created_at"]
            plan.update(op="stream", index=self._index(entity, "stream", eq, None, p, fields,
                                                       rec).name,
                        fields=eq, desc=not p.sort or p.sort[0][1],
                        range="created_at" if "created_at" in where else None)
            return plan
        if list(where) == ["id"]:
            plan.update(op="get")
            return plan
        if "id" in where and where["id"] == Op.in_ and len(where) == 1:
            plan.update(op="mget")
            return plan
        eq = [f for f, op in where.items() if op in (Op.eq, Op.in_)]
        ranges = [f for f, op in where.items() if op == Op.range]
        sort = [s for s, _ in p.sort]
        if len(ranges) > 1 or (ranges and sort and sort[0] != ranges[0]) or len(sort) > 1:
            return self._unserved(p, plan, "a range on one field and an order on another (or "
                                           "two ranges): a sorted set orders by one score only")
        score = ranges[0] if ranges else (sort[0] if sort else None)
        if score and fields[score].type not in ("timestamp", "int", "bigint", "decimal",
                                                "money", "float", "date", "reference"):
            return self._unserved(p, plan, f"orders or ranges on {score} "
                                           f"({fields[score].type}): a sorted set's score is a "
                                           "number")
        if score is None and len(eq) == 1 and fields[eq[0]].unique and where[eq[0]] == Op.eq:
            ix = self._index(entity, "string", eq, None, p, fields, rec)
            plan.update(op="lookup", index=ix.name, fields=eq)
            return plan
        ix = self._index(entity, "zset" if score else "set", eq, score, p, fields, rec)
        plan.update(op="zrange" if score else "members", index=ix.name, fields=eq, score=score,
                    desc=bool(p.sort and p.sort[0][1]), range=ranges[0] if ranges else None,
                    multi=[f for f in eq if where[f] == Op.in_])
        return plan

    def _aggregate(self, p: AccessPattern, plan: dict[str, Any], rec: dict[str, Any],
                   fields: dict[str, Field_]) -> dict[str, Any]:
        fn, arg = _measure(p)
        if fn != "count_distinct" or arg is None:
            return self._unserved(p, plan, f"{p.measure or 'count'} over {p.entity}: core Redis "
                                           "aggregates nothing at read time; keep counters "
                                           "(HINCRBY per window) written with each record, or "
                                           "run it where the records of truth are")
        ix = self._index(p.entity or "", "hll", [*p.group_by], None, p, fields, rec,
                         counted=arg, window=p.window)
        plan.update(op="pfcount", index=ix.name, fields=[*p.group_by], counted=arg,
                    window=p.window)
        return plan

    def _unserved(self, p: AccessPattern, plan: dict[str, Any], why: str) -> dict[str, Any]:
        self.findings.append(PartFinding(
            severity="error", pattern=p.name,
            message=f"{p.name} {why}. Serve it from the primary store (or a search or graph "
                    "engine) and keep only key lookups in Redis."))
        plan.update(op="unserved", why=why)
        return plan

    def _index(self, entity: str, type_: str, eq: list[str], score: str | None,
               p: AccessPattern, fields: dict[str, Field_], rec: dict[str, Any],
               counted: str | None = None, window: float | None = None) -> Index:
        name = {"string": "by", "set": "by", "zset": "by", "stream": "stream",
                "hll": "uniq"}[type_]
        tail = [f"{name}_{'_'.join(eq)}" if eq else name]
        if type_ == "zset":
            tail = [f"by_{'_'.join(eq)}_{score}" if eq else f"by_{score}"]
        if type_ == "hll":
            tail = [f"uniq_{counted}" + (f"_by_{'_'.join(eq)}" if eq else "")]
            if window:
                tail.append("{window}")
        pattern = _key(self.app, entity, *tail, *("{" + f + "}" for f in eq))
        for ix in self.indexes:
            if ix.name == pattern:
                ix.patterns.append(p.name)
                return ix
        distinct = 1.0
        for f in eq:
            distinct *= _distinct(self.spec, entity, f, fields)
        volume = max(self.spec.entities[entity].volume, 1)
        distinct = min(distinct, volume)
        horizon = rec["rows_horizon"] / max(rec["rows_now"], 1)
        ix = Index(pattern, entity, type_, eq, score, [p.name],
                   members_per_key=volume / distinct, keys_now=distinct,
                   keys_horizon=distinct * (horizon if any(
                       fields[f].type in ("reference", "timestamp") or fields[f].unique
                       for f in eq) else 1.0))
        ix.window = window
        if type_ == "hll" and window:
            # One HyperLogLog per window kept for the TTL, or a day's worth without one.
            kept = (rec["ttl"] or 86400) / window
            ix.keys_now *= kept
            ix.keys_horizon *= kept
        self.indexes.append(ix)
        return ix

    def _index_rows(self, rec: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        data = self.data
        samp = sample_record([Field_(**f) for f in rec["fields"]], 0)
        id_chars = rec["id_chars"]
        for ix in (i for i in self.indexes if i.entity == rec["entity"]):
            key_len = len(ix.name) - sum(len(f) + 2 for f in ix.fields) + sum(
                len(samp.get(f, "x")) for f in ix.fields)
            members = max(1, round(ix.members_per_key))
            # Indexes of records with a TTL expire with them: refreshed on every add.
            ttl = rec["ttl"]
            sid = sample_id(0, id_chars)
            if ix.type == "string":
                integer = _as_int(sid) is not None
                value = string_value_bytes(id_chars, data, integer=integer)
                enc = "int" if integer else "embstr"
                holds = "the id"
            elif ix.type == "set":
                value, enc = set_value_bytes(members, id_chars, _as_int(sid) is not None, data)
                holds = f"ids, ~{human_count(members)} a key"
            elif ix.type == "zset":
                value, enc = zset_value_bytes(members, sid, samp.get(ix.score or "", "1"), data)
                holds = f"ids scored by {ix.score}, ~{human_count(members)} a key"
            elif ix.type == "stream":
                entry = sum(listpack_entry(k) + listpack_entry(v) for k, v in samp.items())
                value, enc = stream_value_bytes(members, entry, data)
                holds = f"the records as entries, ~{human_count(members)} a key"
            else:
                key_len += 10
                value, enc = hll_value_bytes(data)
                holds = "a HyperLogLog of ids"
            row = self._keyrow(rec["entity"], ix.type if ix.type != "string" else "lookup",
                               ix.name, "string" if ix.type in ("string", "hll") else ix.type,
                               enc, ttl, key_len, value, ix.keys_now, ix.keys_horizon, holds)
            row["members_per_key"] = members
            row["score"] = ix.score
            row["fields"] = ix.fields
            row["patterns"] = ix.patterns
            row["window"] = ix.window
            rows.append(row)
            big = data["big_collection_members"]
            if members > big and ix.type != "hll":
                self.findings.append(PartFinding(
                    severity="warning", pattern=ix.patterns[0],
                    message=f"{ix.name} holds ~{human_count(members)} members a key (big key "
                            f"above {big:,}): reads with LIMIT stay fast, but deleting or "
                            "expiring it blocks the server; split it by a time bucket"))
        return rows

    def _read_commands(self, plan: dict[str, Any]) -> list[str]:
        rec = self.entities.get(plan["entity"])
        if rec is None or plan.get("op") == "unserved":
            return []
        key = rec["key"]
        if rec["structure"] == "string":
            fetch = f"GET {key}"
        elif plan.get("project"):
            fetch = f"HMGET {key} {' '.join(plan['project'])}"
        else:
            fetch = f"HGETALL {key}" + "".join(f" + GET {key}:{s}" for s in rec["split"])
        op = plan["op"]
        ix = plan.get("index", "")
        limit = plan.get("limit")
        if op == "get":
            return [fetch]
        if op == "mget":
            return [f"pipeline: {fetch} for each id"]
        if op == "lookup":
            return [f"GET {ix} → id", fetch]
        if op == "members":
            first = f"SMEMBERS {ix}" if not plan["multi"] else f"SUNION {ix} (one key per value)"
            return [first + " → ids", f"pipeline: {fetch} for each id"]
        if op == "zrange":
            rev = " REV" if plan["desc"] else ""
            lim = f" LIMIT 0 {limit}" if limit else ""
            if plan["range"]:
                lo, hi = ("<hi>", "<lo>") if plan["desc"] else ("<lo>", "<hi>")
                first = f"ZRANGE {ix} {lo} {hi} BYSCORE{rev}{lim}"
            else:
                first = f"ZRANGE {ix} 0 {(limit or 0) - 1}{rev}"
            return [first + " → ids", f"pipeline: {fetch} for each id"]
        if op == "stream":
            count = f" COUNT {limit}" if limit else ""
            return [f"XREVRANGE {ix} + -{count}" if plan["desc"] else f"XRANGE {ix} - +{count}"]
        if op == "pfcount":
            return [f"PFCOUNT {ix}"]
        return []


__all__ = ["Index", "ReadPlans"]
