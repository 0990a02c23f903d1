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
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from dbarch.design.ceilings import ceiling_of
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision
from dbarch.select.tuning import load_yaml
from dbarch.spec.model import (
    AccessPattern,
    Attribute,
    AttrType,
    Op,
    PatternKind,
    Spec,
    WriteOp,
    snake,
)
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate


def kv_data() -> dict[str, Any]:
    """The parsed `dbarch/data/keyvalue.yaml`."""
    data: dict[str, Any] = load_yaml("keyvalue.yaml")
    return data


# --- the memory model: what MEMORY USAGE reports for one key -------------------------------

def size_class(n: int, data: dict[str, Any] | None = None) -> int:
    """The jemalloc allocation an `n`-byte request gets (multiples of 16 up to 128, then four
    classes per doubling)."""
    alloc = (data or kv_data())["allocator"]
    step, small_max, per = alloc["small_step"], alloc["small_max"], alloc["classes_per_doubling"]
    if n <= 8:
        return 8
    if n <= small_max:
        return math.ceil(n / step) * step
    group = 1 << (math.ceil(math.log2(n)) - 1)  # the power of two just below n
    spacing = group // per
    return math.ceil(n / spacing) * spacing


def sds_bytes(length: int, data: dict[str, Any] | None = None) -> int:
    """An sds string's allocation: header (by length) + bytes + NUL, rounded to its class."""
    data = data or kv_data()
    header = next(h for limit, h in sorted((int(k), v) for k, v in
                                           data["struct_bytes"]["sds_header"].items())
                  if length <= limit)
    return size_class(header + length + 1, data)


def key_overhead(key_len: int, data: dict[str, Any] | None = None) -> int:
    """What MEMORY USAGE adds for the key itself: its dict entry and its name."""
    data = data or kv_data()
    return int(data["struct_bytes"]["dict_entry"]) + sds_bytes(key_len, data)


def _as_int(text: str) -> int | None:
    if re.fullmatch(r"-?[1-9][0-9]{0,18}|0", text):
        value = int(text)
        return value if -(1 << 63) <= value < (1 << 63) else None
    return None


def listpack_entry(text: str) -> int:
    """Bytes one element takes in a listpack: an integer encoding for integer text, else a
    length header (1, 2 or 5 bytes) + the bytes; then the back-length (1 or 2 bytes)."""
    number = _as_int(text)
    if number is not None:
        if 0 <= number <= 127:
            body = 1
        else:
            bits = max(number.bit_length() + 1, 13)
            body = 2 if bits <= 13 else 3 if bits <= 16 else 4 if bits <= 24 else (
                5 if bits <= 32 else 9)
    else:
        n = len(text.encode())
        body = n + (1 if n <= 63 else 2 if n <= 4095 else 5)
    return body + (1 if body <= 127 else 2 if body < 16383 else 3)


def string_value_bytes(length: int, data: dict[str, Any] | None = None, *,
                       integer: bool = False) -> int:
    """A string value: an integer is kept in the object header itself (int encoding), other
    values up to 44 bytes in one allocation with it (embstr), longer ones in an sds beside it."""
    data = data or kv_data()
    robj = int(data["struct_bytes"]["robj"])
    if integer:
        return robj
    if length <= data["encodings"]["embstr_max"]:
        return size_class(robj + 3 + length + 1, data)
    return robj + sds_bytes(length, data)


def _slots(n: int) -> int:
    return max(4, 1 << math.ceil(math.log2(max(n, 1))))


def hash_value_bytes(fields: list[tuple[str, str]], data: dict[str, Any] | None = None
                     ) -> tuple[int, str]:
    """A hash's bytes and encoding (listpack below both thresholds, else hashtable)."""
    data = data or kv_data()
    s = data["struct_bytes"]
    limits = data["encodings"]["hash"]
    if len(fields) <= limits["entries"] and all(
            len(f.encode()) <= limits["value"] and len(v.encode()) <= limits["value"]
            for f, v in fields):
        body = s["listpack_header"] + sum(listpack_entry(f) + listpack_entry(v) for f, v in fields)
        return s["robj"] + size_class(body, data), "listpack"
    table = s["robj"] + s["dict"] + s["bucket"] * _slots(len(fields))
    return table + sum(s["dict_entry"] + sds_bytes(len(f.encode()), data)
                       + sds_bytes(len(v.encode()), data) for f, v in fields), "hashtable"


def zset_value_bytes(members: int, member: str, score: str,
                     data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A sorted set of `members` members like `member` with scores like `score` (a listpack
    stores integer text in integer encodings)."""
    data = data or kv_data()
    s = data["struct_bytes"]
    limits = data["encodings"]["zset"]
    member_len = len(member.encode())
    if members <= limits["entries"] and member_len <= limits["value"]:
        body = s["listpack_header"] + members * (listpack_entry(member) + listpack_entry(score))
        return s["robj"] + size_class(body, data), "listpack"
    p, top = s["skiplist_p"], s["skiplist_max_level"]
    # Expected node size over the geometric level distribution (levels ≥ 1, one more w.p. p).
    node = sum((1 - p) * p ** (lvl - 1) * size_class(s["skiplist_node"] + s["skiplist_level"]
                                                       * lvl, data) for lvl in range(1, 12))
    fixed = (s["robj"] + s["zset"] + s["dict"] + s["bucket"] * _slots(members) + s["zskiplist"]
             + size_class(s["skiplist_node"] + s["skiplist_level"] * top, data))
    per = node + s["dict_entry"] + sds_bytes(member_len, data)
    return math.ceil(fixed + members * per), "skiplist"


def set_value_bytes(members: int, member_len: int, integers: bool,
                    data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A set: an intset when every member is an integer (up to 512), else a hashtable."""
    data = data or kv_data()
    s = data["struct_bytes"]
    if integers and members <= data["encodings"]["set_intset_entries"]:
        width = 2 if member_len <= 4 else 4 if member_len <= 9 else 8
        return s["robj"] + size_class(s["intset_header"] + members * width, data), "intset"
    return (s["robj"] + s["dict"] + s["bucket"] * _slots(members)
            + members * (s["dict_entry"] + sds_bytes(member_len, data))), "hashtable"


def stream_value_bytes(entries: int, entry_bytes: int, data: dict[str, Any] | None = None
                       ) -> tuple[int, str]:
    """A stream: listpack nodes of up to 4 KiB or 100 entries, plus the radix tree."""
    data = data or kv_data()
    st = data["stream"]
    per_node = max(1, min(st["node_max_entries"],
                          st["node_max_bytes"] // max(1, entry_bytes + st["per_entry_overhead"])))
    nodes = max(1, math.ceil(entries / per_node))
    # A node is allocated at stream-node-max-bytes up front and trimmed only when it closes.
    node_bytes = max(st["node_max_bytes"],
                     per_node * (entry_bytes + st["per_entry_overhead"]))
    return st["fixed_bytes"] + nodes * size_class(node_bytes, data), "stream"


def hll_value_bytes(data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A dense HyperLogLog: 12 KiB of registers in a string (sparse ones are smaller)."""
    data = data or kv_data()
    return string_value_bytes(data["hyperloglog"]["dense_bytes"], data), "raw (dense)"


# --- the design -----------------------------------------------------------------------------

@dataclass
class Field_:
    """One field of a record: its name, spec type and planned characters as text."""

    name: str
    type: str
    chars: int
    values: list[str] = field(default_factory=list)
    unique: bool = False


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


def _ttl(spec: Spec, entity: str) -> int | None:
    ttl = spec.entities[entity].ttl
    return int(ttl) if ttl else None


def _id_chars(spec: Spec, entity: str, data: dict[str, Any]) -> int:
    e = spec.entities[entity]
    if e.public_id:
        return int(data["uuid_chars"])
    return len(str(max(int(e.volume_at(spec.scale.horizon_years)), e.volume, 1)))


def _chars(attr: Attribute, data: dict[str, Any]) -> int:
    base = int(data["text_chars"][attr.type.value])
    if attr.avg_size:
        return int(attr.avg_size)
    if attr.type == AttrType.enum and attr.values:
        return max(1, round(sum(len(v) for v in attr.values) / len(attr.values)))
    if attr.max_length:
        return min(base, attr.max_length)
    return base


def record_fields(spec: Spec, entity: str, data: dict[str, Any] | None = None) -> list[Field_]:
    """The fields a record holds besides its id (in the key): attributes, references,
    created_at and updated_at."""
    data = data or kv_data()
    fields = [Field_(n, a.type.value, _chars(a, data), list(a.values or []), a.unique)
              for n, a in spec.entities[entity].attributes.items()]
    for rel in spec.references_of(entity):
        fields.append(Field_(rel.field_name, "reference", _id_chars(spec, rel.parent, data)))
    stamp = int(data["text_chars"]["timestamp"])
    fields += [Field_("created_at", "timestamp", stamp), Field_("updated_at", "timestamp", stamp)]
    return fields


def key_name(pattern: str, values: dict[str, str]) -> str:
    """A key from its pattern: each `{name}` becomes `{value}`, braces kept (the Redis Cluster
    hash tag)."""
    for name, value in values.items():
        pattern = pattern.replace("{" + name + "}", "{" + value + "}")
    return pattern


def sample_id(i: int, chars: int) -> str:
    """The i-th sample id, `chars` characters long like the design's ids (UUIDs at 36)."""
    if chars == 36:
        return f"00000000-0000-4000-8000-{i:012d}"
    return str(10 ** (chars - 1) + i) if chars > 1 else str(i % 10)


def window_of(record: dict[str, str], window: float | None) -> str:
    """The number of the time window a record falls in (epoch ms // window), "" without one."""
    if not window:
        return ""
    return str(int(record.get("created_at", "0")) // int(window * 1000))


def sample_value(f: Field_, i: int, distinct: int = 5) -> str:
    """The i-th sample value of a field, exactly `f.chars` characters long; equality fields take
    `distinct` values so an index key holds several records."""
    if f.type == "timestamp":
        return str(1_700_000_000_000 + i * 60_000)[: max(f.chars, 1)]
    if f.values:
        return f.values[i % len(f.values)]
    if f.type in ("int", "bigint", "reference"):
        n = i if f.unique else i % distinct
        return str(n + 1).rjust(f.chars, "1")[-f.chars:] if f.chars > len(str(n + 1)) \
            else str(n + 1)
    if f.type in ("decimal", "money", "float"):
        return f"{i % distinct}.{i % 100:02d}".rjust(f.chars, "1")
    if f.type == "bool":
        return "1" if i % 2 else "0"
    if f.type in ("json", "map"):
        body = json.dumps({"n": i % distinct, "pad": ""}, separators=(",", ":"))
        pad = max(0, f.chars - len(body))
        return json.dumps({"n": i % distinct, "pad": "p" * pad}, separators=(",", ":"))
    head = f"{f.name[:3]}{i if f.unique else i % distinct}-"
    return (head + "v" * f.chars)[: max(f.chars, len(head))]


def sample_record(fields: list[Field_], i: int) -> dict[str, str]:
    """One sample record: every field at its planned length."""
    return {f.name: sample_value(f, i) for f in fields}


def record_json(record: dict[str, str]) -> str:
    """The record as the string value stores it: compact JSON."""
    return json.dumps(record, separators=(",", ":"))


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


def _key(app: str, entity: str, *parts: str) -> str:
    return ":".join([app, snake(entity), *parts])


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The Redis key design of one key-value part: keys, structures, TTLs, commands per access
    pattern, writes and what they invalidate, memory per key and at the horizon, eviction."""
    return _Designer(spec, decision).run()


class _Designer:
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

    def _keyrow(self, entity: str, role: str, pattern: str, type_: str, encoding: str,
                ttl: int | None, key_len: int, value_bytes: int, now: float, horizon: float,
                holds: str) -> dict[str, Any]:
        per_key = key_overhead(key_len, self.data) + value_bytes
        extra = self.data["main_bucket_bytes"] + (self.data["expires_entry_bytes"] if ttl else 0)
        frag = self.data["fragmentation_ratio"]
        return {"entity": entity, "role": role, "pattern": pattern, "type": type_,
                "encoding": encoding, "ttl": ttl, "holds": holds, "key_bytes": key_len,
                "bytes_per_key": per_key, "keys_now": math.ceil(now),
                "keys_horizon": math.ceil(horizon),
                "bytes_now": math.ceil(now * (per_key + extra) * frag),
                "bytes_horizon": math.ceil(horizon * (per_key + extra) * frag),
                "example": pattern}

    # -- reads -----------------------------------------------------------------------------
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

    # -- strategy, memory, eviction --------------------------------------------------------
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

    def _memory(self) -> dict[str, Any]:
        data = self.data
        hosting = self.spec.deployment.hosting.value
        ceiling = ceiling_of("redis", "Redis")
        fraction = data["usable_fraction"].get(hosting, data["usable_fraction"]["any"])
        budget = int(ceiling.ram_bytes * fraction)
        now = sum(k["bytes_now"] for k in self.keys)
        horizon = sum(k["bytes_horizon"] for k in self.keys)
        memory = {"now": now, "horizon": horizon, "budget": budget, "node_ram": ceiling.ram_bytes,
                  "usable_fraction": fraction, "hosting": hosting,
                  "fragmentation_ratio": data["fragmentation_ratio"],
                  "horizon_years": self.spec.scale.horizon_years}
        if horizon > budget:
            shards = math.ceil(horizon / budget)
            self.findings.append(PartFinding(
                severity="error",
                message=f"the dataset reaches {human_bytes(horizon)} at the horizon "
                        f"({self.spec.scale.horizon_years:g} years), more than the "
                        f"{human_bytes(budget)} memory budget ({fraction:.0%} of a "
                        f"{human_bytes(ceiling.ram_bytes)} node): Redis keeps every key in RAM. "
                        f"Shard it over {shards} Redis Cluster primaries, shorten the TTLs, or "
                        "keep the large values in the store of record"))
        elif horizon > budget * data["warn_fraction"]:
            self.findings.append(PartFinding(
                severity="warning",
                message=f"the dataset reaches {human_bytes(horizon)} at the horizon, over "
                        f"{data['warn_fraction']:.0%} of the {human_bytes(budget)} budget: "
                        "no headroom for a spike or a failover's replication buffers"))
        return memory

    def _eviction(self) -> dict[str, Any]:
        pol = self.data["eviction"]
        recs = list(self.entities.values())
        if recs and all(r["strategy"] != "system of record" for r in recs):
            return {"policy": pol["cache"],
                    "why": "every key is a copy of a record kept elsewhere: evict the least "
                           "recently used key of any kind when memory is full"}
        if recs and all(k["ttl"] for k in self.keys):
            return {"policy": pol["record_with_ttl"],
                    "why": "the keys are records of truth, each with a TTL: under memory "
                           "pressure evict those nearest their expiry (the idlest), and a key "
                           "without a TTL is never evicted"}
        return {"policy": pol["record"],
                "why": "some records of truth have no TTL: refuse writes (OOM error) rather "
                       "than lose them, and alert on used_memory well before maxmemory"}

    def _persistence(self) -> dict[str, Any]:
        """AOF, RDB or none, from the spec's RPO: records of truth must survive a restart."""
        per = self.data["persistence"]
        rpo = self.spec.scale.rpo
        records = [r["entity"] for r in self.entities.values()
                   if r["strategy"] == "system of record"]
        if not records:
            return {"mode": "none", "why": "every key can be reloaded from the store of record; "
                                           "a restart empties the cache, nothing is lost"}
        target = (f"the spec's RPO of {human_duration(rpo)}" if rpo is not None
                  else "no RPO in the spec")
        if rpo is not None and rpo < per["aof_everysec_loss_seconds"]:
            self.findings.append(PartFinding(
                severity="error",
                message=f"the RPO of {human_duration(rpo)} is below what Redis can promise: "
                        "replication is asynchronous and AOF fsyncs once a second; keep "
                        f"{', '.join(records)} in a store that commits synchronously"))
        if rpo is None or rpo < per["rdb_interval_seconds"]:
            return {"mode": "appendonly yes, appendfsync everysec",
                    "why": f"{', '.join(records)} {'exist' if len(records) > 1 else 'exists'} "
                           f"only here and {target} is shorter "
                           f"than RDB's {human_duration(per['rdb_interval_seconds'])} snapshots: "
                           "AOF loses at most ~1 s of writes"}
        return {"mode": "RDB snapshots",
                "why": f"{target} allows losing {human_duration(per['rdb_interval_seconds'])} "
                       "of writes, and snapshots cost less than an append-only file"}

    def _big_values(self) -> None:
        limit = self.data["big_value_bytes"]
        for k in self.keys:
            if k["type"] == "string" and k["role"] in ("record", "field") and \
                    k["bytes_per_key"] > limit:
                self.findings.append(PartFinding(
                    severity="warning",
                    message=f"{k['pattern']} holds ~{human_bytes(k['bytes_per_key'])} a key "
                            f"(big key above {human_bytes(limit)}): every read moves it whole; "
                            "keep the large attribute in object storage or the store of record"))


# --- rendering ------------------------------------------------------------------------------

def _ttl_text(ttl: int | None) -> str:
    return human_duration(ttl) if ttl else "none"


def _key_table(model: dict[str, Any]) -> list[str]:
    lines = ["| Key | Type (encoding) | TTL | Holds | Example | Per key | Keys now → horizon "
             "| Memory at horizon |", "|---|---|---|---|---|---:|---|---:|"]
    for k in model["keys"]:
        lines.append(
            f"| `{k['pattern']}` | {k['type']} ({k['encoding']}) | {_ttl_text(k['ttl'])} | "
            f"{k['holds']} | `{k['example']}` | {human_bytes(k['bytes_per_key'])} | "
            f"{human_count(k['keys_now'])} → {human_count(k['keys_horizon'])} | "
            f"{human_bytes(k['bytes_horizon'])} |")
    return lines


def _pattern_table(model: dict[str, Any]) -> list[str]:
    lines = ["| Pattern | Kind | Rate | Commands |", "|---|---|---:|---|"]
    for p in model["patterns"]:
        cmds = "; ".join(f"`{c}`" for c in p["commands"]) or f"**not served**: {p.get('why', '')}"
        if p["kind"] == "write" and len(p["commands"]) > 1:
            cmds = f"{p['atomic']}: {cmds}"
        lines.append(f"| {p['pattern']} | {p['kind']} | {human_rate(p['rate'])} | {cmds} |")
    return lines


def render_section(design: PartDesign) -> str:
    """The part's subsection of ARCHITECTURE.md §3: every choice with its numbers."""
    m = design.model
    mem = m["memory"]
    enc = m["encodings"]
    out = [f"**Redis key design** ({m['app']}, Redis {m['redis']}). Keys are named "
           f"`{m['app']}:<entity>:{{id}}`, with `…:{{id}}:<field>` for an attribute kept beside "
           "a hash and `…:by_<field>:{value}` for an index. The braces stay in the name: in "
           "Redis Cluster only the text between them is hashed, so a record's keys share a "
           "slot and one pipeline reaches them.", ""]
    for rec in m["entities"]:
        ttl = "no TTL (the spec gives none)"
        if rec["ttl"] and rec["structure"] == "stream":
            ttl = (f"TTL {human_duration(rec['ttl'])} from the spec: each XADD trims entries "
                   "older than that (MINID) and EXPIREs the stream, so an idle one goes too")
        elif rec["ttl"]:
            ttl = (f"TTL {human_duration(rec['ttl'])} from the spec, set with every write, so an "
                   "idle record expires on its own")
        out.append(f"- **{rec['entity']}**: {rec['structure']}: {rec['why']}. {ttl}. "
                   f"{rec['strategy'].capitalize()}: {rec['strategy_why']}.")
    out += ["", *_key_table(m), "",
            f"Per key is what `MEMORY USAGE` counts: the key's dict entry (24 B) and name, the "
            f"value in its encoding, rounded to jemalloc's size classes. A string up to "
            f"{enc['embstr_max']} B is embstr; a hash stays a listpack up to "
            f"{enc['hash']['entries']} fields of ≤{enc['hash']['value']} B, a sorted set up to "
            f"{enc['zset']['entries']} members of ≤{enc['zset']['value']} B. The memory column "
            f"adds the main table's bucket, the expires entry of a key with a TTL, and "
            f"fragmentation ×{mem['fragmentation_ratio']}.", "",
            "Commands per access pattern (reads of several records pipeline their fetches; "
            "a write's commands run in one MULTI/EXEC):", "", *_pattern_table(m), ""]
    writes = [p for p in m["patterns"] if p["kind"] == "write"]
    if writes:
        out.append("Invalidation: " + "; ".join(
            f"{p['pattern']} ({human_rate(p['rate'])}) rewrites "
            f"{', '.join(sorted({k['pattern'] for k in m['keys'] if k['entity'] in p['entities']}))}"  # noqa: E501
            for p in writes) + ". No other write touches these keys.")
        out.append("")
    out += [f"**Memory**: {human_bytes(mem['now'])} now, {human_bytes(mem['horizon'])} at the "
            f"horizon ({mem['horizon_years']:g} years), against a budget of "
            f"{human_bytes(mem['budget'])}: {mem['usable_fraction']:.0%} of a "
            f"{human_bytes(mem['node_ram'])} node for {mem['hosting']} hosting (the rest is "
            "left for the fork of RDB/AOF rewrites, replication buffers and the server). "
            f"Set `maxmemory {mem['budget']}`.", "",
            f"**Eviction**: `maxmemory-policy {m['eviction']['policy']}`: "
            f"{m['eviction']['why']}.", "",
            f"**Persistence**: {m['persistence']['mode']}: {m['persistence']['why']}."]
    return "\n".join(out) + "\n"


def render_key_table(design: PartDesign) -> str:
    """`schema/redis.md`: the key table and the commands of every access pattern."""
    m = design.model
    out = [f"# Redis keys: {m['app']} ({design.part})", "", design.summary, "",
           "## Keys", "", *_key_table(m), "", "## Access patterns", "", *_pattern_table(m), "",
           "## Settings", "", f"- `maxmemory {m['memory']['budget']}`",
           f"- `maxmemory-policy {m['eviction']['policy']}`: {m['eviction']['why']}",
           f"- persistence: {m['persistence']['mode']}: {m['persistence']['why']}"]
    if design.findings:
        out += ["", "## Findings", ""]
        out += [f"- **{f.severity}**{f' ({f.pattern})' if f.pattern else ''}: {f.message}"
                for f in design.findings]
    return "\n".join(out) + "\n"


__all__ = ["design_part", "kv_data", "record_fields", "render_key_table", "render_section",
           "sample_record", "sample_value"]
