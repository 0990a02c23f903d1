"""The item types of a DynamoDB part and their base keys: an entity's fields, references,
enums and sizes; the edge items of a many-to-many link; and the table key (`PK`, `SK`) each
is stored under, chosen from how it is read most.

Apart because the item types are planned once, before any pattern is designed.
"""

from __future__ import annotations

from dbarch.design.dynamodb_keys import prefix_of
from dbarch.design.dynamodb_model import EntityPlan
from dbarch.design.dynamodb_shapes import KeyShapes
from dbarch.design.sizing import entity_size
from dbarch.spec.model import AccessPattern, AttrType, Op, PatternKind, Relationship, RelKind, snake


class EntityPlanner(KeyShapes):
    """The item types of the part and the base key of each."""

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
