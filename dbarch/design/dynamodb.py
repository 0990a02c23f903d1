"""DynamoDB single-table design: one table, keys derived from the access patterns.

Every entity of the part lives in one table (`PK`, `SK`). Its base key comes from how it is
read most: an owned child is stored in its owner's item collection (`PK = OWNER#id`,
`SK = CHILD#<sort fields>#id`), a root entity under its key lookup (`PK = ENTITY#key`). Each
other read gets a global secondary index whose key is built from the pattern: the equality
field with the most distinct values as partition key (low-cardinality fields are combined into
it), the other equality fields, then the range or order field, then the id as a composite sort
key. GSI key attributes are overloaded (`GSI1PK`/`GSI1SK` carry MATCH keys on match items and
other keys on other types), so the index count is the largest number any one entity needs; each
index is sparse by type. A many-to-many relationship is an adjacency list: one edge item per
link under the first entity, and the same items inverted through a GSI for the other way.

A key whose writes at the horizon exceed the per-partition limit gets write shards (a `#S<n>`
suffix from a hash of the item id; reads query every shard and merge). A read that has no
equality field would need a Scan: it becomes a finding and is not designed. Sizes reuse the
capacity model's record estimate (`dbarch.design.sizing.entity_size`) plus DynamoDB's
attribute names and key attributes; limits and prices come from `dbarch/data/dynamodb.yaml`.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dbarch.design.capacity import PatternLoad, pattern_loads
from dbarch.design.dynamodb_render import render
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.design.sizing import entity_size
from dbarch.select.model import Decision, Decisions
from dbarch.select.tuning import load_yaml
from dbarch.spec.model import (
    AccessPattern,
    AttrType,
    Consistency,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    Spec,
    snake,
)

# Width of a value once encoded into a key string (see `encode`): numbers are offset and
# zero-padded so that string order is numeric order.
_KEY_WIDTH: dict[str, int] = {"int": 20, "bigint": 20, "decimal": 20, "money": 20, "float": 20,
                              "timestamp": 27, "date": 10, "bool": 1, "id": 26, "ref": 26}
_DEFAULT_KEY_WIDTH = 25
_NUMERIC = {"int", "bigint", "decimal", "money", "float"}
_LOW_CARDINALITY = {"enum", "bool"}


@cache
def dynamodb_data() -> dict[str, Any]:
    """The parsed `dbarch/data/dynamodb.yaml`."""
    data: dict[str, Any] = load_yaml("dynamodb.yaml")
    return data


def _num(section: str, name: str) -> float:
    item = dynamodb_data()[section][name]
    return float(item["value"] if isinstance(item, dict) else item)


def _source(section: str, name: str) -> str:
    return str(dynamodb_data()[section][name]["source"])


_NUMBER_SCALE = 10_000        # four decimals kept in a key
_NUMBER_OFFSET = 10 ** 19     # keeps negatives below positives in string order


def encode(kind: str, value: Any) -> str:
    """`value` as it appears inside a key, so that string order is the value's order.

    Numbers are scaled, offset and zero-padded to 20 digits; timestamps are ISO 8601 in UTC
    with microseconds (fixed width); booleans are 0/1; the rest as text. A value holding the
    `#` separator must be escaped by the application (sample values never do).
    """
    if kind in _NUMERIC:
        return f"{round(float(value) * _NUMBER_SCALE) + _NUMBER_OFFSET:020d}"
    if kind == "bool":
        return "1" if value else "0"
    return str(value)


def shard_of(identity: str, shards: int) -> int:
    """The write shard of an item: a stable hash of its identity (not Python's salted hash)."""
    return zlib.crc32(identity.encode()) % shards


def key_value(template: dict[str, Any], fields: dict[str, str], record: dict[str, Any],
              identity: str = "") -> str:
    """The key string of `record` under `template` ({prefix, fields, shards})."""
    parts = [template["prefix"]]
    parts += [encode(fields.get(f, "string"), record[f]) for f in template["fields"]]
    shards = int(template.get("shards", 1))
    if shards > 1:
        parts.append(f"S{shard_of(identity, shards)}")
    return "#".join(parts)


def prefix_of(entity: str) -> str:
    """`InventoryItem` → `INVENTORY_ITEM`: the type prefix of its keys."""
    return snake(entity).upper()


@dataclass
class Shape:
    """The key a read needs: partition fields, sort fields, and how the pattern uses them."""

    pk: list[str]
    sk: list[str]
    sk_eq: int = 0                     # leading sort fields fixed by equality
    range_field: str | None = None     # the sort field a range or prefix applies to
    range_op: str | None = None
    in_fields: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    client_sort: bool = False
    order: str | None = None
    desc: bool = False

    @property
    def used_sk(self) -> list[str]:
        """The sort fields the key condition or the order reads (the id tail excluded)."""
        n = self.sk_eq + (1 if self.range_field or self.order_in_key else 0)
        return self.sk[:n]

    @property
    def order_in_key(self) -> bool:
        return bool(self.order) and not self.client_sort and self.order in self.sk


@dataclass
class EntityPlan:
    """One item type of the table: an entity, or the edge items of a many-to-many link."""

    name: str
    prefix: str
    fields: dict[str, str]
    enums: dict[str, list[str]]
    refs: dict[str, str]
    volume_now: int
    volume_horizon: int
    record_bytes: int
    ttl: float | None = None
    edge_of: tuple[str, str] | None = None
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_pk: list[str] = field(default_factory=list)
    base_sk: list[str] = field(default_factory=list)
    slots: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = field(default_factory=dict)
    item_bytes: int = 0
    optional: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)


class _Designer:
    """Designs one DynamoDB part; `run()` returns the PartDesign."""

    def __init__(self, spec: Spec, decision: Decision) -> None:
        self.spec = spec
        self.decision = decision
        self.entities: dict[str, EntityPlan] = {}
        self.findings: list[PartFinding] = []
        self.patterns: list[dict[str, Any]] = []
        self.writes: list[dict[str, Any]] = []
        self.edges: dict[str, Relationship] = {}
        self.loads: dict[str, PatternLoad] = {
            ld.name: ld for ld in pattern_loads(
                spec, [decision], Decisions(system=spec.system, parts=[decision]))}
        self.table = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{spec.system}_{decision.part}")

    # ----- entities and their base keys

    def _plan_entity(self, name: str) -> EntityPlan:
        ent = self.spec.entities[name]
        fields: dict[str, str] = {"id": "id", "created_at": "timestamp", "updated_at": "timestamp"}
        refs: dict[str, str] = {}
        for r in self.spec.references_of(name):
            fields[r.field_name] = "ref"
            refs[r.field_name] = r.parent
        enums: dict[str, list[str]] = {}
        optional: set[str] = set()
        for a, attr in ent.attributes.items():
            fields[a] = attr.type.value
            if attr.type == AttrType.enum and attr.values:
                enums[a] = list(attr.values)
            if not attr.required:
                optional.add(a)
        unique = {a for a, attr in ent.attributes.items() if attr.unique}
        unique |= {r.field_name for r in self.spec.references_of(name)
                   if r.kind == RelKind.one_to_one}
        size = entity_size(self.spec, name)
        return EntityPlan(name, prefix_of(name), fields, enums, refs, size.rows_now,
                          size.rows_horizon, size.row_bytes, ent.ttl, optional=optional,
                          unique=unique)

    def _plan_edge(self, r: Relationship) -> EntityPlan:
        a, b = r.from_, r.to
        fa, fb = snake(a), (r.name or snake(b))
        if fa == fb:
            fa, fb = f"from_{fa}", f"to_{fb}"
        fields = {fa: "ref", fb: "ref", "created_at": "timestamp"}
        fields.update({k: v.type.value for k, v in r.attributes.items()})
        va = self.spec.entities[a].volume
        fan = r.fanout or 10
        name = f"{a}{b}" if not r.name else r.name[:1].upper() + r.name[1:]
        plan = EntityPlan(name, prefix_of(name), fields, {}, {fa: a, fb: b}, int(va * fan),
                          int(self.spec.entities[a].volume_at(self.spec.scale.horizon_years) * fan),
                          40 + 8 * len(r.attributes), edge_of=(fa, fb))
        # The edge item sits in the first entity's item collection, sorted by the other id:
        # "what does A link to" is one Query; the inverted GSI answers "who links to B".
        plan.base_pk, plan.base_sk = [fa], [fb]
        plan.keys["PK"] = {"prefix": prefix_of(a), "fields": [fa], "shards": 1}
        plan.keys["SK"] = {"prefix": prefix_of(b), "fields": [fb]}
        return plan

    def _base_key(self, plan: EntityPlan) -> None:
        name = plan.name
        owner = next((r for r in self.spec.references_of(name) if r.owned), None)
        reads = sorted(self._reads_of(name), key=lambda p: -p.rate)
        if owner is not None:
            ref = owner.field_name
            shapes = [self._shape(plan, p) for p in reads]
            best = next((s for s in shapes if s is not None and s.pk == [ref]), None)
            sk = [f for f in (best.sk if best else []) if f != "id"] + ["id"]
            plan.base_pk, plan.base_sk = [ref], sk
            plan.keys["PK"] = {"prefix": prefix_of(owner.parent), "fields": [ref], "shards": 1}
            plan.keys["SK"] = {"prefix": plan.prefix, "fields": sk}
            return
        key = "id"
        for p in reads:
            if len(p.where) == 1:
                (f, op), = p.where.items()
                if op == Op.eq and self._unique(plan, f):
                    key = f
                    break
        plan.base_pk, plan.base_sk = [key], []
        plan.keys["PK"] = {"prefix": plan.prefix, "fields": [key], "shards": 1}
        plan.keys["SK"] = {"prefix": plan.prefix, "fields": []}

    def _unique(self, plan: EntityPlan, f: str) -> bool:
        if f == "id":
            return True
        attr = self.spec.entities[plan.name].attributes.get(f)
        if attr is not None:
            return attr.unique
        return any(r.field_name == f and r.kind == RelKind.one_to_one
                   for r in self.spec.references_of(plan.name))

    def _reads_of(self, entity: str) -> list[AccessPattern]:
        return [p for p in self.spec.access_patterns
                if p.name in self.decision.patterns and p.entity == entity
                and p.kind == PatternKind.read]

    # ----- cardinality and shapes

    def cardinality(self, plan: EntityPlan, fields: list[str]) -> float:
        """Distinct values of `fields` together, capped by the items there are."""
        n = 1.0
        for f in fields:
            kind = plan.fields.get(f, "string")
            if kind == "enum":
                n *= len(plan.enums.get(f, [])) or 2
            elif kind == "bool":
                n *= 2
            elif kind == "ref":
                parent = plan.refs.get(f)
                n *= max(1, self.spec.entities[parent].volume) if parent else plan.volume_now
            else:
                n *= max(1, plan.volume_now)
        return max(1.0, min(n, max(1, plan.volume_now)))

    def _shape(self, plan: EntityPlan, p: AccessPattern) -> Shape | None:
        eqs = [f for f, op in p.where.items() if op in (Op.eq, Op.in_)]
        ranges = [f for f, op in p.where.items() if op in (Op.range, Op.prefix)]
        if not eqs:
            return None
        # Partition key: the equality field with the most distinct values; while it has too
        # few to spread the writes, the next one joins it (a composite partition key).
        ordered = sorted(eqs, key=lambda f: -self.cardinality(plan, [f]))
        pk = [ordered[0]]
        floor = _num("design", "min_partition_key_values")
        for f in ordered[1:]:
            if self.cardinality(plan, pk) >= floor:
                break
            pk.append(f)
        rest = [f for f in eqs if f not in pk]
        sort = p.sort
        order, desc = (sort[0] if sort else (None, False))
        sk = list(rest)
        range_field = ranges[0] if ranges else None
        client_sort = False
        if range_field:
            sk.append(range_field)
            client_sort = bool(order) and order != range_field
        elif order and order not in sk:
            sk.append(order)
        sk = [f for f in sk if f != "id"] + ["id"]
        return Shape(pk=pk, sk=sk, sk_eq=len(rest), range_field=range_field,
                     range_op=p.where[range_field].value if range_field else None,
                     in_fields=[f for f, op in p.where.items() if op == Op.in_],
                     filters=ranges[1:], client_sort=client_sort, order=order, desc=desc)

    def _on_base(self, plan: EntityPlan, s: Shape) -> bool:
        used = s.used_sk
        return s.pk == plan.base_pk and plan.base_sk[:len(used)] == used

    def _slot(self, plan: EntityPlan, s: Shape) -> int:
        for (pk, sk), n in plan.slots.items():
            if list(pk) == s.pk and list(sk)[:len(s.used_sk)] == s.used_sk:
                return n
        taken = set(plan.slots.values())
        n = next(i for i in range(1, 1000) if i not in taken)
        plan.slots[(tuple(s.pk), tuple(s.sk))] = n
        plan.keys[f"GSI{n}PK"] = {"prefix": plan.prefix, "fields": s.pk, "shards": 1}
        plan.keys[f"GSI{n}SK"] = {"prefix": plan.prefix, "fields": s.sk}
        return n

    # ----- patterns

    def _effective(self, p: AccessPattern) -> tuple[str, dict[str, Op], str] | None:
        """A traversal as the read it is here: (entity, where, how)."""
        assert p.entity is not None
        for r in self.spec.relationships_of(p.entity):
            other = r.to if r.from_ == p.entity else r.from_
            if p.via not in (r.field_name, other, r.name, snake(other)):
                continue
            if r.kind == RelKind.many_to_many:
                edge = self._edge_name(r)
                if edge is None:
                    return None
                fa, fb = self.entities[edge].edge_of or ("", "")
                mine = fa if r.from_ == p.entity else fb
                return edge, {mine: Op.eq}, f"edges of {p.entity} ({edge} items)"
            if r.child == p.entity and r.parent in self.entities:
                return r.parent, {"id": Op.eq}, f"the {r.parent} its {r.field_name} names"
            if r.parent == p.entity and r.child in self.entities:
                return r.child, {r.field_name: Op.eq}, f"{r.child} items of the {p.entity}"
        return None

    def _edge_name(self, r: Relationship) -> str | None:
        for name, rel in self.edges.items():
            if rel is r:
                return name
        return None

    def _read(self, p: AccessPattern) -> None:
        entity, where, how = p.entity, dict(p.where), ""
        if p.kind == PatternKind.traversal:
            eff = self._effective(p)
            if eff is None:
                self.findings.append(PartFinding(
                    severity="error", pattern=p.name,
                    message=f"{p.name} follows {p.via}, which leaves this part: DynamoDB "
                            "cannot join to another database; read the other side there."))
                self.patterns.append({"name": p.name, "served": False, "reason": "crosses parts"})
                return
            entity, where, how = eff
            if p.hops > 1:
                self.findings.append(PartFinding(
                    severity="warning", pattern=p.name,
                    message=f"{p.name} walks {p.hops} hops: each hop is one more Query round "
                            f"trip (≈{p.hops} × single-digit ms, fanning out per hop); only "
                            "the first hop is a single Query."))
        assert entity is not None
        plan = self.entities[entity]
        texts = [f for f, op in where.items() if op == Op.text]
        if texts:
            self.findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} searches text in {', '.join(texts)}: DynamoDB has no "
                        "full-text search, and a contains() filter reads every item (a "
                        "Scan). Index the text in OpenSearch fed by DynamoDB Streams."))
            self.patterns.append({"name": p.name, "entity": entity, "served": False,
                                  "reason": "text search"})
            return
        probe = p.model_copy(update={"where": where, "key": None})
        shape = self._shape(plan, probe)
        if shape is None:
            self.findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} has no equality condition "
                        f"({', '.join(f'{f} {op.value}' for f, op in where.items()) or 'none'}):"
                        " no partition key can serve it, so it would need a Scan that reads "
                        f"all {plan.volume_horizon:,} {entity} items at the horizon. Add an "
                        "equality field (a tenant, a day bucket) to the pattern."))
            self.patterns.append({"name": p.name, "entity": entity, "served": False,
                                  "reason": "would need a Scan"})
            return
        if shape.filters:
            ranged = ", ".join([shape.range_field or "", *shape.filters])
            self.findings.append(PartFinding(
                severity="warning", pattern=p.name,
                message=f"{p.name} ranges over {ranged}"
                        f": only {shape.range_field} is in the sort key; "
                        f"{', '.join(shape.filters)} is a FilterExpression, which is billed for "
                        "every item the key condition reads, not only those returned."))
        if shape.client_sort:
            self.findings.append(PartFinding(
                severity="warning", pattern=p.name,
                message=f"{p.name} filters on a range of {shape.range_field} but orders by "
                        f"{shape.order}: the sort key can serve one, so the application sorts "
                        "the matching items itself (and a limit applies after reading all)."))
        if self._on_base(plan, shape):
            index, pk_attr, sk_attr = None, "PK", "SK"
            keys = {"pk": plan.keys["PK"], "sk": plan.keys["SK"]}
        else:
            n = self._slot(plan, shape)
            index, pk_attr, sk_attr = f"GSI{n}", f"GSI{n}PK", f"GSI{n}SK"
            keys = {"pk": plan.keys[pk_attr], "sk": plan.keys[sk_attr]}
            if p.consistency == Consistency.strong and "consistency" in p.model_fields_set:
                self.findings.append(PartFinding(
                    severity="warning", pattern=p.name,
                    message=f"{p.name} asks for strongly consistent reads but is served by "
                            f"{index}: global secondary indexes are only eventually "
                            "consistent (replicated asynchronously, usually within a second)."))
        sk_fields = keys["sk"]["fields"]
        get_item = (index is None and not sk_fields and shape.pk == plan.base_pk
                    and not shape.in_fields)
        self.patterns.append({
            "name": p.name, "kind": p.kind.value, "entity": entity, "served": True,
            "via": how or None, "index": index, "pk_attr": pk_attr, "sk_attr": sk_attr,
            "pk_fields": shape.pk, "sk_fields": sk_fields, "sk_eq": shape.sk_eq,
            "range_field": shape.range_field, "range_op": shape.range_op,
            "in_fields": shape.in_fields, "filters": shape.filters,
            "order": shape.order, "desc": shape.desc, "client_sort": shape.client_sort,
            "limit": p.limit, "api": "GetItem" if get_item else "Query",
            "eventual": p.consistency != Consistency.strong or index is not None,
            "where": {f: op.value for f, op in where.items()},
            # How the Query runs (the design) ...
            "forward": not shape.desc,
            "query_limit": p.limit if not shape.filters and not shape.client_sort else None,
            # ... and what the spec asked, which verification checks the answer against.
            "asked": {"where": {f: op.value for f, op in where.items()}, "order": shape.order,
                      "desc": shape.desc, "limit": p.limit},
        })

    # ----- writes

    def _write(self, p: AccessPattern) -> None:
        here = [e for e in p.touches if e in self.entities]
        away = [e for e in p.touches if e not in self.entities]
        if p.transaction and away and here:
            self.findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} writes {', '.join(here)} here and {', '.join(away)} in "
                        "another database in one transaction: no transaction spans two "
                        "databases. Write one side and carry the other by an outbox or "
                        "DynamoDB Streams, with idempotent consumers."))
        items, most = 0, 0
        for e in here:
            fan, top = 1.0, 1
            if p.transaction:
                # Owned children written with their owner: each is one action. The average
                # sizes the capacity; the largest owner decides whether the limit holds.
                for r in self.spec.references_of(e):
                    if r.owned and r.parent in here:
                        fan = max(fan, float(r.fanout or 1))
                        top = max(top, int(r.max_fanout or r.fanout or 1))
            items += math.ceil(fan)
            most += top
        limit = int(_num("limits", "transaction_items"))
        if p.transaction and most > limit:
            self.findings.append(PartFinding(
                severity="error", pattern=p.name,
                message=f"{p.name} writes up to {most} items in one transaction (its largest "
                        f"owner's children); TransactWriteItems takes at most {limit} "
                        f"({_source('limits', 'transaction_items')}): write the children in "
                        "batches after the owner, with an idempotent retry."))
        api = "TransactWriteItems" if p.transaction and most > 1 else {
            "insert": "PutItem", "upsert": "PutItem", "update": "UpdateItem",
            "delete": "DeleteItem"}[p.operation.value]
        self.writes.append({"name": p.name, "entities": here, "items": max(items, 1),
                            "api": api, "transaction": api == "TransactWriteItems"})

    # ----- sizes, heat, capacity

    def _item_bytes(self, plan: EntityPlan) -> int:
        names = sum(len(f) for f in plan.fields) + len("type")
        keys = 0
        for attr, tpl in plan.keys.items():
            width = len(tpl["prefix"]) + sum(
                1 + _KEY_WIDTH.get(plan.fields.get(f, ""), _DEFAULT_KEY_WIDTH)
                for f in tpl["fields"])
            keys += len(attr) + width
        ttl = (len("expires_at") + int(_num("units", "number_bytes"))) if plan.ttl else 0
        return plan.record_bytes + names + keys + ttl

    def _wcu(self, plan: EntityPlan) -> int:
        return math.ceil(plan.item_bytes / _num("units", "write_unit_bytes"))

    def _rate(self, name: str, horizon: bool) -> float:
        ld = self.loads.get(name)
        if ld is None:
            p = next(p for p in self.spec.access_patterns if p.name == name)
            return p.rate
        return ld.rate_horizon if horizon else ld.rate_now

    def _hot_share(self, plan: EntityPlan, fields: list[str]) -> float:
        if fields and all(plan.fields.get(f) in _LOW_CARDINALITY for f in fields):
            return _num("design", "low_cardinality_hottest_share")
        skew = 1.0
        for r in self.spec.references_of(plan.name):
            if r.field_name in fields and r.fanout and r.max_fanout:
                skew = max(skew, r.max_fanout / r.fanout)
        return min(1.0, skew / self.cardinality(plan, fields))

    def _heat(self) -> list[dict[str, Any]]:
        """Writes and reads per second on the hottest key of each index, and shards."""
        rows = []
        wlimit = _num("limits", "partition_write_units")
        rlimit = _num("limits", "partition_read_units")
        headroom = _num("design", "shard_headroom")
        for plan in self.entities.values():
            writes = sum(self._rate(w["name"], True) for w in self.writes
                         if plan.name in w["entities"])
            if plan.edge_of:
                writes = sum(self._rate(w["name"], True) for w in self.writes
                             if any(e in w["entities"] for e in plan.refs.values()))
            wcu = writes * self._wcu(plan)
            for attr in [k for k in plan.keys if k.endswith("PK")]:
                tpl = plan.keys[attr]
                share = self._hot_share(plan, tpl["fields"])
                index = "table" if attr == "PK" else attr[:-2]
                reads = sum(
                    self._read_units(pt) * self._rate(pt["name"], True)
                    for pt in self.patterns
                    if pt.get("served") and pt["entity"] == plan.name
                    and (pt["index"] or "table") == index)
                hot_w, hot_r = wcu * share, reads * share
                shards = 1
                if hot_w > wlimit * headroom:
                    shards = math.ceil(hot_w / (wlimit * headroom))
                    if attr == "PK":
                        self.findings.append(PartFinding(
                            severity="warning",
                            message=f"{plan.name}'s base key {tpl['prefix']}#"
                                    f"{'#'.join(tpl['fields'])} takes ≈{hot_w:,.0f} WCU/s on "
                                    f"its hottest value at the horizon, over the {wlimit:,.0f} "
                                    "WCU a partition serves: split that owner's items across "
                                    f"{shards} keys, or spread its writes in time."))
                        shards = 1
                    else:
                        tpl["shards"] = shards
                if hot_r > rlimit:
                    self.findings.append(PartFinding(
                        severity="warning",
                        message=f"the hottest {index} key of {plan.name} "
                                f"({'#'.join(tpl['fields'])}) is read at ≈{hot_r:,.0f} RCU/s "
                                f"at the horizon, over the {rlimit:,.0f} RCU a partition "
                                "serves: put DynamoDB Accelerator (DAX) or an application "
                                "cache in front of it."))
                rows.append({"entity": plan.name, "index": index, "fields": tpl["fields"],
                             "values": self.cardinality(plan, tpl["fields"]),
                             "hot_wcu": hot_w, "hot_rcu": hot_r, "shards": shards})
        return rows

    def _items_per_call(self, pt: dict[str, Any]) -> float:
        plan = self.entities[pt["entity"]]
        if pt["api"] == "GetItem":
            return 1.0
        fixed = pt["pk_fields"] + pt["sk_fields"][:pt["sk_eq"]]
        avg = plan.volume_horizon / self.cardinality(plan, fixed)
        if pt["range_field"]:
            avg = max(1.0, avg / 10)   # assumption: a range selects about a tenth of the key
        n = max(1.0, avg) * max(1, 2 * len(pt["in_fields"]))
        return min(float(pt["limit"]), n) if pt["limit"] and not pt["client_sort"] else n

    def _queries_per_call(self, pt: dict[str, Any]) -> int:
        plan = self.entities[pt["entity"]]
        shards = int(plan.keys[pt["pk_attr"]].get("shards", 1)) if pt["pk_attr"] in plan.keys \
            else 1
        values = 1
        for f in pt["in_fields"]:
            values *= len(plan.enums.get(f, [])) or 2
        return shards * values

    def _read_units(self, pt: dict[str, Any]) -> float:
        plan = self.entities[pt["entity"]]
        unit = _num("units", "read_unit_bytes")
        factor = _num("units", "eventual_read_factor") if pt["eventual"] else 1.0
        queries = self._queries_per_call(pt) if pt["api"] == "Query" else 1
        bytes_ = self._items_per_call(pt) * plan.item_bytes
        return max(queries, math.ceil(bytes_ / unit)) * factor

    def _write_units(self, w: dict[str, Any]) -> float:
        total = 0.0
        for e in w["entities"]:
            plan = self.entities[e]
            gsis = len([k for k in plan.keys if k.startswith("GSI") and k.endswith("PK")])
            total += self._wcu(plan) * (1 + gsis)
        factor = _num("units", "transaction_factor") if w["transaction"] else 1.0
        return total * factor * max(1, w["items"] // max(1, len(w["entities"])))

    def _index_units(self, horizon: bool) -> dict[str, dict[str, float]]:
        """RCU/s and WCU/s per index ("table", "GSI1", …) at now or at the horizon."""
        units: dict[str, dict[str, float]] = {}
        for pt in self.patterns:
            if pt.get("served"):
                u = units.setdefault(pt["index"] or "table", {"rcu": 0.0, "wcu": 0.0})
                u["rcu"] += self._read_units(pt) * self._rate(pt["name"], horizon)
        factor = _num("units", "transaction_factor")
        for w in self.writes:
            rate = self._rate(w["name"], horizon) * (factor if w["transaction"] else 1.0)
            per_entity = max(1, w["items"] // max(1, len(w["entities"])))
            for e in w["entities"]:
                plan = self.entities[e]
                wcu = self._wcu(plan) * per_entity * rate
                for attr in [k for k in plan.keys if k.endswith("PK")]:
                    index = "table" if attr == "PK" else attr[:-2]
                    units.setdefault(index, {"rcu": 0.0, "wcu": 0.0})["wcu"] += wcu
        return units

    def _capacity(self) -> dict[str, Any]:
        now, horizon = self._index_units(False), self._index_units(True)
        reads = {"now": sum(u["rcu"] for u in now.values()),
                 "1x": sum(u["rcu"] for u in horizon.values())}
        writes = {"now": sum(u["wcu"] for u in now.values()),
                  "1x": sum(u["wcu"] for u in horizon.values())}
        hours = _num("design", "hours_per_month")
        month_s = hours * 3600
        target = _num("design", "autoscaling_target_utilisation")
        on_demand = (writes["1x"] * month_s * _num("prices", "on_demand_write_per_million")
                     + reads["1x"] * month_s * _num("prices", "on_demand_read_per_million")) / 1e6
        # Provisioned capacity is set per index (each GSI has its own throughput), sized so
        # auto scaling runs at its target utilisation; 1 is the smallest setting.
        per_index = {ix: {"rcu": max(1, math.ceil(u["rcu"] / target)),
                          "wcu": max(1, math.ceil(u["wcu"] / target))}
                     for ix, u in horizon.items()}
        per_index.setdefault("table", {"rcu": 1, "wcu": 1})
        for g in {f"GSI{n}" for p in self.entities.values() for n in p.slots.values()}:
            per_index.setdefault(g, {"rcu": 1, "wcu": 1})
        rcu = sum(v["rcu"] for v in per_index.values())
        wcu = sum(v["wcu"] for v in per_index.values())
        provisioned = (wcu * hours * _num("prices", "provisioned_wcu_hour")
                       + rcu * hours * _num("prices", "provisioned_rcu_hour"))
        overhead = _num("units", "item_index_overhead_bytes")
        storage = sum(p.volume_horizon * (p.item_bytes * (1 + len(p.slots)) + overhead)
                      for p in self.entities.values())
        small = on_demand < _num("design", "on_demand_below_usd_month")
        mode = "PROVISIONED" if provisioned < on_demand and not small else "PAY_PER_REQUEST"
        return {"rcu": reads, "wcu": writes, "on_demand_usd": on_demand,
                "provisioned_usd": provisioned, "provisioned_rcu": rcu,
                "provisioned_wcu": wcu, "per_index": per_index, "billing_mode": mode,
                "storage_bytes": storage, "small": small,
                "small_usd": _num("design", "on_demand_below_usd_month"),
                "storage_usd": storage / 1e9 * _num("prices", "storage_gb_month")}

    # ----- run

    def run(self) -> PartDesign:
        spec, d = self.spec, self.decision
        names = [e for e in d.entities if e in spec.entities]
        for e in names:
            self.entities[e] = self._plan_entity(e)
        for r in spec.relationships:
            if r.kind == RelKind.many_to_many and r.from_ in names and r.to in names:
                plan = self._plan_edge(r)
                self.entities[plan.name] = plan
                self.edges[plan.name] = r
        for e in names:
            self._base_key(self.entities[e])
        for name, r in self.edges.items():
            # The inverted index: the same edge items keyed the other way round.
            plan = self.entities[name]
            fa, fb = plan.edge_of or ("", "")
            plan.slots[((fb,), (fa,))] = 1
            plan.keys["GSI1PK"] = {"prefix": prefix_of(r.to), "fields": [fb], "shards": 1}
            plan.keys["GSI1SK"] = {"prefix": prefix_of(r.from_), "fields": [fa]}
        for p in spec.access_patterns:
            if p.name not in d.patterns:
                continue
            if p.kind == PatternKind.write:
                self._write(p)
            elif p.kind == PatternKind.aggregate:
                self.findings.append(PartFinding(
                    severity="warning", pattern=p.name,
                    message=f"{p.name} aggregates {p.measure or 'count'} over {p.entity}: "
                            "DynamoDB has no GROUP BY; keep the totals in counter items "
                            "updated with each write (ADD in UpdateItem), or feed DynamoDB "
                            "Streams into an aggregating store."))
                self.patterns.append({"name": p.name, "entity": p.entity, "served": False,
                                      "reason": "aggregate"})
            elif p.entity in self.entities:
                self._read(p)
        for plan in self.entities.values():
            plan.item_bytes = self._item_bytes(plan)
            limit = _num("limits", "max_item_bytes")
            if plan.item_bytes > limit:
                self.findings.append(PartFinding(
                    severity="error",
                    message=f"one {plan.name} item is ≈{plan.item_bytes:,} bytes, over "
                            f"DynamoDB's {limit:,.0f}-byte item limit "
                            f"({_source('limits', 'max_item_bytes')}): store the large "
                            "attributes in S3 and keep their object keys in the item."))
        gsis = max((len(p.slots) for p in self.entities.values()), default=0)
        if gsis > _num("limits", "gsis_per_table"):
            self.findings.append(PartFinding(
                severity="error",
                message=f"the design needs {gsis} GSIs; a table has at most "
                        f"{_num('limits', 'gsis_per_table'):.0f}: merge patterns that share a "
                        "partition key, or split the entity types into two tables."))
        for plan in self.entities.values():
            wcu = self._wcu(plan)
            if plan.slots and wcu >= 2:
                # Projection ALL copies the whole item into each GSI on every write.
                self.findings.append(PartFinding(
                    severity="info",
                    message=f"one {plan.name} item costs {wcu} WCU per write and is copied "
                            f"whole into {len(plan.slots)} GSI(s) (projection ALL), so each "
                            f"write costs {wcu * (1 + len(plan.slots))} WCU: if the index "
                            "patterns need only a few attributes, project those (INCLUDE) "
                            "and the index copy drops to about 1 WCU."))
        heat = self._heat()
        capacity = self._capacity()
        self._page_findings()
        model = self._model(gsis, heat, capacity)
        return render(spec, d, model, self.findings)

    def _page_findings(self) -> None:
        page = _num("limits", "query_page_bytes")
        for pt in self.patterns:
            if not pt.get("served") or pt["api"] != "Query":
                continue
            plan = self.entities[pt["entity"]]
            read = self._items_per_call(pt) * plan.item_bytes
            if read > page:
                self.findings.append(PartFinding(
                    severity="info", pattern=pt["name"],
                    message=f"{pt['name']} reads ≈{read / 1e6:.1f} MB per call; a Query "
                            f"returns at most {page / 1e6:.0f} MB per page, so it takes "
                            f"{math.ceil(read / page)} round trips (LastEvaluatedKey)."))

    def _model(self, gsis: int, heat: list[dict[str, Any]],
               capacity: dict[str, Any]) -> dict[str, Any]:
        for pt in self.patterns:
            if pt.get("served"):
                pt["rate_now"] = self._rate(pt["name"], False)
                pt["rate_1x"] = self._rate(pt["name"], True)
                pt["items"] = self._items_per_call(pt)
                pt["rcu"] = self._read_units(pt)
                pt["queries"] = self._queries_per_call(pt) if pt["api"] == "Query" else 1
                pt["shards"] = int(
                    self.entities[pt["entity"]].keys[pt["pk_attr"]].get("shards", 1))
        for w in self.writes:
            w["rate_now"] = self._rate(w["name"], False)
            w["rate_1x"] = self._rate(w["name"], True)
            w["wcu"] = self._write_units(w)
        ttl = any(p.ttl for p in self.entities.values())
        return {
            "table": self.table,
            "gsis": [f"GSI{n}" for n in range(1, gsis + 1)],
            "ttl_attribute": "expires_at" if ttl else None,
            "entities": {
                p.name: {"prefix": p.prefix, "fields": p.fields, "enums": p.enums,
                         "refs": p.refs, "keys": p.keys, "item_bytes": p.item_bytes,
                         "ttl": p.ttl, "edge_of": list(p.edge_of) if p.edge_of else None,
                         "volume_now": p.volume_now, "volume_horizon": p.volume_horizon,
                         "optional": sorted(p.optional), "unique": sorted(p.unique)}
                for p in self.entities.values()},
            "patterns": self.patterns,
            "writes": self.writes,
            "heat": heat,
            "capacity": capacity,
        }


def design_part(spec: Spec, decision: Decision) -> PartDesign:
    """The single-table DynamoDB design of one part: keys, GSIs, sizes, capacity, findings."""
    return _Designer(spec, decision).run()
