"""The Redis key design put into words and files: the §3 section of ARCHITECTURE.md and
`schema/redis.md`. Reads only the design's model (plain data, the same that is written as
`schema/redis.json` for the verifier), so every file tells the same keys.
"""

from __future__ import annotations

from typing import Any

from dbarch.design.parts import PartDesign
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate


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


__all__ = ["render_key_table", "render_section"]
