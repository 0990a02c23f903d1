"""Shard key candidates: the parents the data hangs from, ranked by what they keep on one shard.

Pure: from the relationships, the table sizes at the horizon and the patterns' rates, each
candidate gets the share of rows it keeps together and the share of traffic that stays on one
shard; small tables outside it are reference tables copied to every shard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dbarch.design.capacity import PatternLoad
from dbarch.design.ceilings import scaling_data
from dbarch.design.sizing import TableSize
from dbarch.spec.model import Op, PatternKind, RelKind, Spec


@dataclass(frozen=True)
class ShardKey:
    """A shard key candidate: the entity whose id routes, the data it keeps together, and the
    share of the part's traffic that stays on one shard."""

    entity: str
    field: str
    data_share: float
    single_shard_share: float
    colocated: list[str]
    reference: list[str]


def _ancestor_map(spec: Spec, entities: Iterable[str]) -> dict[str, set[str]]:
    """Every entity's transitive parents, each computed once from its parents' sets."""
    parents: dict[str, list[str]] = {}
    for r in spec.relationships:
        if r.kind != RelKind.many_to_many:
            parents.setdefault(r.child, []).append(r.parent)
    memo: dict[str, set[str]] = {}
    for start in entities:
        # Iterative post-order, so a 1000-deep chain does not hit the recursion limit; an
        # entity met again while in progress (a cycle) contributes what is known so far.
        stack = [(start, False)]
        busy: set[str] = set()
        while stack:
            e, done = stack.pop()
            if e in memo:
                continue
            if done:
                found: set[str] = set()
                for p in parents.get(e, []):
                    found.add(p)
                    found |= memo.get(p, set())
                memo[e] = found - {e}
                busy.discard(e)
                continue
            busy.add(e)
            stack.append((e, True))
            stack.extend((p, False) for p in parents.get(e, []) if p not in memo and p not in busy)
    return {e: memo.get(e, set()) for e in entities}


def shard_key_candidates(
    spec: Spec, tables: list[TableSize], loads: list[PatternLoad], limit: int = 10
) -> list[ShardKey]:
    """Parents the data hangs from, ranked by the share of rows they keep on one shard.

    Entities under the key (it, or anything referring to it, transitively) live with it; small
    tables outside are copied to every shard (reference tables); a read stays on one shard when it
    filters the key's reference by equality (or the key entity by id), a write when every entity
    it touches lives under the key.
    """
    patterns = {p.name: p for p in spec.access_patterns}
    ref_max = scaling_data()["thresholds"]["reference_table_max_rows"]
    rows = {t.entity: t.rows_horizon for t in tables if t.entity}
    total_rows = sum(rows.values()) or 1
    total_rate = sum(ld.rate_now for ld in loads) or 1.0
    ancestors = _ancestor_map(spec, rows)
    refs: dict[tuple[str, str], str] = {}
    for r in spec.relationships:
        if r.kind != RelKind.many_to_many and r.child in rows and r.parent in rows:
            refs.setdefault((r.child, r.parent), r.field_name)
    parents = sorted({p for _, p in refs})
    unders = {parent: [e for e in rows if e == parent or parent in ancestors[e]]
              for parent in parents}
    shares = {parent: sum(rows[e] for e in unders[parent]) / total_rows for parent in parents}
    # Only the candidates keeping the most data together are worth the traffic analysis.
    best = sorted(parents, key=lambda x: -shares[x])[:limit]
    out = []
    for parent in best:
        under = unders[parent]
        inside = set(under)
        reference = [e for e in rows if e not in inside and rows[e] <= ref_max]
        copied = set(reference)
        fields = {e: refs[e, parent] for e in under if (e, parent) in refs}
        local = 0.0
        for ld in loads:
            p = patterns[ld.name]
            if p.kind == PatternKind.write:
                if all(e in inside for e in p.touches):
                    local += ld.rate_now
            elif (p.entity == parent and p.where.get("id") == Op.eq) or (
                p.entity in fields and p.where.get(fields[p.entity]) == Op.eq
            ) or p.entity in copied:
                local += ld.rate_now
        field_name = ", ".join(f"{f}_id" for f in sorted(set(fields.values()))) or "id"
        out.append(ShardKey(parent, field_name, shares[parent], local / total_rate, under,
                            reference))
    return sorted(out, key=lambda k: (-k.data_share, -k.single_shard_share))

