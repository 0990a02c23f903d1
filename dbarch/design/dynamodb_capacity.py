"""The arithmetic of a DynamoDB part: item sizes, read and write units per call, the hottest
key of each index and its write shards, and the capacity and monthly cost per billing mode.

Apart because it only reads the finished keys and patterns and adds numbers and findings;
limits, units and prices come from `dbarch/data/dynamodb.yaml`.
"""

from __future__ import annotations

import math
from typing import Any

from dbarch.design.dynamodb_keys import _DEFAULT_KEY_WIDTH, _KEY_WIDTH
from dbarch.design.dynamodb_model import EntityPlan, _num
from dbarch.design.dynamodb_shapes import KeyShapes
from dbarch.design.parts import PartFinding

_LOW_CARDINALITY = {"enum", "bool"}


class CapacityPlanner(KeyShapes):
    """Sizes, units per call, hot keys and shards, capacity and cost of the part."""

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
