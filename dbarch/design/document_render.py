"""The document part's words and script: its ARCHITECTURE.md section and `schema/mongodb.js`.

Both are read from the model `dbarch.design.document` builds, so the section, the script and
what `dbarch verify` checks describe one design.
"""

from __future__ import annotations

import json
from typing import Any

from dbarch.design.parts import PartFinding
from dbarch.select.model import Decision
from dbarch.spec.model import Spec
from dbarch.spec.quantities import human_bytes, human_count, human_rate


def _keys(keys: list[list[Any]]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in keys) + "}"


def _options(options: dict[str, Any]) -> str:
    shown = {k: v for k, v in options.items() if k != "name"}
    return ", ".join(f"{k}: {json.dumps(v)}" for k, v in shown.items()) or "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_section(spec: Spec, decision: Decision, model: dict[str, Any],
                   findings: list[PartFinding]) -> str:
    """The Markdown of the part's subsection of ARCHITECTURE.md §3."""
    colls = model["collections"]
    limit = model["max_document_bytes"]
    out: list[str] = []
    out.append(
        f"{len(colls)} collection(s) in database `{model['database']}`, each with a "
        "`$jsonSchema` validator (validationLevel strict, validationAction error); "
        "[schema/mongodb.js](schema/mongodb.js) creates them with their indexes.")
    out.append("")
    if model["links"]:
        out.append("**Embed or reference**, per relationship (cardinality from max_fanout: "
                   "one-to-few embeds, one-to-many and one-to-squillions reference):")
        out.append("")
        out.append("| Relationship | Cardinality | Bound | Stored as | Why |")
        out.append("|---|---|---:|---|---|")
        for lk in model["links"]:
            bound = human_count(lk["bound"]) if lk["bound"] is not None else "none"
            out.append(f"| {lk['parent']} → {lk['child']} | {lk['cardinality']} | {bound} | "
                       f"{lk['kind']} (`{lk['path']}`) | {_cell(lk['reason'])} |")
        out.append("")
    out.append(f"**Documents** (sizes from the capacity model; MongoDB's limit is "
               f"{human_bytes(limit)} per document):")
    out.append("")
    out.append("| Collection | Entity | Documents now → horizon | Avg document | Largest document "
               "| Share of the limit | Made of |")
    out.append("|---|---|---:|---:|---:|---:|---|")
    for c in colls:
        share = 100 * c["max_bytes"] / limit
        out.append(f"| {c['name']} | {c['entity']} | {human_count(c['rows_now'])} → "
                   f"{human_count(c['rows_horizon'])} | {human_bytes(c['avg_bytes'])} | "
                   f"{human_bytes(c['max_bytes'])} | {share:.2g}% | "
                   f"{_cell(' + '.join(c['size_parts']))} |")
    out.append("")
    arrays = [(c["name"], f) for c in colls for f in c["fields"] if f["bson"] == "array"]
    if arrays:
        out.append("Arrays and their bounds (the validator's maxItems): " + "; ".join(
            f"{n}.{f['name']} ≤ {f['max_items']}" if f.get("max_items") is not None
            else f"{n}.{f['name']} unbounded (see the findings)" for n, f in arrays) + ".")
        out.append("")
    named: dict[tuple[str, str], list[str]] = {}
    for c in colls:
        for p in c["patterns"]:
            named.setdefault((p["pattern"], p["reason"]), []).append(c["name"])
    if named:
        out.append("**Schema design patterns** applied:")
        out.append("")
        for (pattern, reason), names in named.items():
            out.append(f"- *{pattern}* ({', '.join(names)}): {reason}.")
        out.append("")
    out.append("**Indexes** (ESR: equality fields first, then the sort, then ranges):")
    out.append("")
    out.append("| Collection | Keys | Options | Serves | Why |")
    out.append("|---|---|---|---|---|")
    for c in colls:
        out.append(f"| {c['name']} | `{{_id: 1}}` | unique | key lookups by _id | built in |")
        for ix in c["indexes"]:
            out.append(f"| {c['name']} | `{_keys(ix['keys'])}` | {_options(ix['options'])} | "
                       f"{', '.join(ix['patterns']) or '—'} | {_cell(ix['reason'])} |")
    out.append("")
    if model["queries"]:
        out.append("| Access pattern | Rate | Collection | Filter | Sort | Served by |")
        out.append("|---|---:|---|---|---|---|")
        for q in model["queries"]:
            flt = ", ".join(f"{k} {v}" for k, v in q["filter"].items()) or "—"
            sort = ", ".join(f"{k} {'desc' if d < 0 else 'asc'}" for k, d in q["sort"]) or "—"
            out.append(f"| {q['name']} | {human_rate(q['rate'])} | {q['collection']} | {flt} | "
                       f"{sort} | {_cell(q['served_by'])} |")
        out.append("")
    shard = model["shard"]
    out.append("**Shard key**: " + ("sharding is needed within the horizon: " if shard["needed"]
                                    else "one replica set holds the horizon: ")
               + shard["why"] + ".")
    out.append("")
    for k in shard["keys"]:
        out.append(f"- {k['collection']}: `{json.dumps(k['key'])}` — {k['reason']}.")
    if shard["keys"]:
        out.append("")
    if model["notes"]:
        out.append("**Writes and references across databases**:")
        out.append("")
        for n in model["notes"]:
            out.append(f"- {n}.")
        out.append("")
    out.append(
        "Verification: no MongoDB server runs on the machines dbarch is tested on. `dbarch "
        "verify` checks each validator as JSON Schema (MongoDB's `bsonType` translated to JSON "
        "types) against sample documents built from the spec: valid ones must pass, broken ones "
        "(a required field missing, a wrong type, an array over its bound, an unknown field) "
        "must fail. Given `--engine mongodb://…`, it creates the collections and indexes on "
        "that server, inserts the same documents and runs each access pattern; that path is not "
        "exercised by dbarch's own tests.")
    del spec, decision, findings
    return "\n".join(out).rstrip() + "\n"


def render_js(model: dict[str, Any]) -> str:
    """`schema/mongodb.js`: createCollection with its validator, createIndex, shard proposal."""
    db = model["database"]
    lines = [
        f"// MongoDB schema for {db}, written by dbarch from the spec.",
        f'// Run with: mongosh "mongodb://HOST/{db}" schema/mongodb.js',
        f'db = db.getSiblingDB("{db}");',
        "",
    ]
    for c in model["collections"]:
        lines.append(f"// {c['name']}: {c['entity']}, ≈{human_bytes(c['avg_bytes'])} per document "
                     f"(largest ≈{human_bytes(c['max_bytes'])}), {human_count(c['rows_horizon'])}"
                     " at the horizon")
        for p in c["patterns"]:
            lines.append(f"// pattern: {p['pattern']}")
        body = json.dumps({"validator": c["validator"], "validationLevel": "strict",
                           "validationAction": "error"}, indent=2, ensure_ascii=False)
        lines.append(f'db.createCollection("{c["name"]}", {body});')
        for ix in c["indexes"]:
            serves = f"serves {', '.join(ix['patterns'])}; " if ix["patterns"] else ""
            lines.append(f"// {serves}{ix['reason']}")
            lines.append(f'db.getCollection("{c["name"]}").createIndex({_keys(ix["keys"])}, '
                         f"{json.dumps(ix['options'], ensure_ascii=False)});")
        lines.append("")
    shard = model["shard"]
    lines.append("// Shard key proposal: " + ("needed within the horizon" if shard["needed"]
                                              else "not needed within the horizon")
                 + f" ({shard['why']}).")
    lines.append("// Run on a sharded cluster (mongos) only:")
    lines.append(f'// sh.enableSharding("{db}");')
    for k in shard["keys"]:
        lines.append(f"// {k['reason']}")
        lines.append(f'// sh.shardCollection("{db}.{k["collection"]}", {json.dumps(k["key"])});')
    return "\n".join(lines) + "\n"
