"""The access patterns of a DynamoDB part: each read served by the base key or a GSI (or a
finding when it would need a Scan, a join or text search), and each write as the API call it
becomes, with the transaction limits checked.

Apart because this is where the spec's patterns meet the keys; sizes and capacity are
computed afterwards from what it records.
"""

from __future__ import annotations

import math

from dbarch.design.dynamodb_model import _num, _source
from dbarch.design.dynamodb_shapes import KeyShapes
from dbarch.design.parts import PartFinding
from dbarch.spec.model import (
    AccessPattern,
    Consistency,
    Op,
    PatternKind,
    Relationship,
    RelKind,
    snake,
)


class PatternPlanner(KeyShapes):
    """The reads and writes of the part, as Queries, GetItems and write calls."""

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
