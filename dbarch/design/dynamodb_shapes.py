"""Which key serves a read: the cardinality of fields, the key shape a pattern needs (partition
fields, sort fields, range, order), whether the table's base key serves it, and the GSI slot
that does otherwise.

Apart because both the base keys of the entities and every read are decided from these shapes;
the rest of the designer reads only their result.
"""

from __future__ import annotations

from dbarch.design.dynamodb_model import DesignerState, EntityPlan, Shape, _num
from dbarch.spec.model import AccessPattern, Op


class KeyShapes(DesignerState):
    """Cardinality, the key shape of a read, and the GSI slots of an item type."""

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
