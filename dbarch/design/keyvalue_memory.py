"""The memory side of the Redis key design: each key row priced, the dataset against the
memory budget, the eviction policy, persistence, and big string values.

`MemoryPlan` is the part of the designer (`_Designer` in dbarch/design/keyvalue.py) that turns
key rows into bytes and server settings; it is kept in its own module because it reads only
the designer's results (keys, records, findings), not the access patterns that produced them.
"""

from __future__ import annotations

import math
from typing import Any

from dbarch.design.ceilings import ceiling_of
from dbarch.design.keyvalue_encodings import key_overhead
from dbarch.design.parts import PartFinding
from dbarch.spec.model import Spec
from dbarch.spec.quantities import human_bytes, human_duration


class MemoryPlan:
    """Key rows with their bytes; memory budget, eviction and persistence of the design."""

    # Set by the designer's __init__ (dbarch/design/keyvalue.py), which this class is part of.
    spec: Spec
    data: dict[str, Any]
    findings: list[PartFinding]
    entities: dict[str, dict[str, Any]]
    keys: list[dict[str, Any]]

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


__all__ = ["MemoryPlan"]
