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

The pieces live beside this module: dynamodb_keys (how keys are spelled, also used by
verification), dynamodb_model (the data file's facts, the plans, the designer's state), and the
designer's steps as mixins over that state: dynamodb_shapes (the key a read needs, GSI slots),
dynamodb_entities (item types and base keys), dynamodb_patterns (reads and writes) and
dynamodb_capacity (sizes, hot keys, capacity and cost); dynamodb_render writes the section and
the files. This module runs the steps in order.
"""

from __future__ import annotations

import math
from typing import Any

from dbarch.design.dynamodb_capacity import CapacityPlanner
from dbarch.design.dynamodb_entities import EntityPlanner
from dbarch.design.dynamodb_keys import prefix_of
from dbarch.design.dynamodb_model import _num, _source
from dbarch.design.dynamodb_patterns import PatternPlanner
from dbarch.design.dynamodb_render import render
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.select.model import Decision
from dbarch.spec.model import PatternKind, RelKind, Spec


class _Designer(EntityPlanner, PatternPlanner, CapacityPlanner):
    """Designs one DynamoDB part; `run()` returns the PartDesign."""

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
