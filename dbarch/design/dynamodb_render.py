"""The DynamoDB design put into words and files: the §3 section, create-table JSON and the
CloudFormation template. Reads only the design's model (plain data), so the text and the
verifier see the same keys.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.parts import PartDesign, PartFinding
from dbarch.select.model import Decision
from dbarch.spec.model import Spec
from dbarch.spec.quantities import human_bytes, human_count, human_duration, human_rate

TABLE_FILE = "schema/dynamodb.table.json"
CLOUDFORMATION_FILE = "schema/dynamodb.cloudformation.json"


def _limit(name: str) -> float:
    return float(load_yaml("dynamodb.yaml")["limits"][name]["value"])


def template_text(tpl: dict[str, Any]) -> str:
    """`MATCH#<mode>#<region>#S<0..39>`: a key template as the document shows it."""
    parts = [tpl["prefix"], *(f"<{f}>" for f in tpl["fields"])]
    shards = int(tpl.get("shards", 1))
    if shards > 1:
        parts.append(f"S<0..{shards - 1}>")
    return "#".join(parts)


def key_condition(pt: dict[str, Any], ent: dict[str, Any]) -> str:
    """The Query's key condition in DynamoDB's expression syntax, with the values named."""
    pk = ent["keys"][pt["pk_attr"]]
    sk = ent["keys"][pt["sk_attr"]]
    cond = f"{pt['pk_attr']} = {template_text({**pk, 'shards': 1})}"
    if int(pk.get("shards", 1)) > 1:
        cond += f"#S<n> (each of {pk['shards']} shards)"
    fixed = sk["fields"][:pt["sk_eq"]]
    head = "#".join([sk["prefix"], *(f"<{f}>" for f in fixed)])
    if not sk["fields"]:
        return f"{cond} AND {pt['sk_attr']} = {sk['prefix']}"
    if pt["range_field"] and pt["range_op"] == "range":
        return (f"{cond} AND {pt['sk_attr']} BETWEEN {head}#<{pt['range_field']} from> "
                f"AND {head}#<{pt['range_field']} to>")
    if pt["range_field"]:
        return f"{cond} AND begins_with({pt['sk_attr']}, {head}#<{pt['range_field']} prefix>)"
    return f"{cond} AND begins_with({pt['sk_attr']}, {head}#)"


def _order(pt: dict[str, Any]) -> str:
    bits = []
    if pt["order"]:
        how = "client-side" if pt["client_sort"] else (
            "ScanIndexForward=false" if pt["desc"] else "ascending")
        bits.append(f"{'-' if pt['desc'] else ''}{pt['order']} ({how})")
    if pt["filters"]:
        bits.append("filter " + ", ".join(pt["filters"]))
    if pt["in_fields"]:
        bits.append("one Query per " + ", ".join(pt["in_fields"]) + " value")
    if pt["limit"]:
        bits.append(f"limit {pt['limit']}")
    return "; ".join(bits) or "—"


def _rates(now: float, horizon: float) -> str:
    if abs(now - horizon) < 1e-9:
        return human_rate(now)
    return f"{human_rate(now)} → {human_rate(horizon)}"


def _usd(x: float) -> str:
    return f"${x:,.0f}" if x >= 10 else f"${x:,.2f}"


def section(spec: Spec, decision: Decision, model: dict[str, Any]) -> str:
    """The Markdown shown under the part's heading in ARCHITECTURE.md §3."""
    ents, cap = model["entities"], model["capacity"]
    table, gsis = model["table"], model["gsis"]
    types = ", ".join(f"{n} (`{e['prefix']}#`)" for n, e in ents.items())
    out = [
        f"**Single-table design**: one table `{table}` holds every item type of this part, "
        f"{types}, each key prefixed by its type (key overloading), so a pattern that needs "
        "one type, or an owner with its children, is one request against one key. "
        f"{len(gsis)} global secondary index(es) ({', '.join(gsis) or 'none'}) with overloaded "
        "key attributes `GSI<n>PK`/`GSI<n>SK`: each item type writes only the index keys its "
        "own patterns need, so every index is sparse (it holds only the items that carry its "
        "keys, never the whole table).",
        "",
        "| Item | PK | SK | Index keys | Est. item size | TTL |",
        "|---|---|---|---|---:|---|",
    ]
    wunit = float(load_yaml("dynamodb.yaml")["units"]["write_unit_bytes"]["value"])
    runit = float(load_yaml("dynamodb.yaml")["units"]["read_unit_bytes"]["value"])
    for name, e in ents.items():
        keys = e["keys"]
        idx = "; ".join(
            f"{a[:-2]}: `{template_text(keys[a])}` / `{template_text(keys[a[:-2] + 'SK'])}`"
            for a in keys if a.startswith("GSI") and a.endswith("PK")) or "—"
        size = (f"{human_bytes(e['item_bytes'])} ({math.ceil(e['item_bytes'] / wunit)} WCU "
                f"per write, {math.ceil(e['item_bytes'] / runit)} RCU per strong read)")
        ttl = f"{human_duration(e['ttl'])} (`{model['ttl_attribute']}`)" if e["ttl"] else "—"
        label = name + (" (adjacency list)" if e["edge_of"] else "")
        out.append(f"| {label} | `{template_text(keys['PK'])}` | `{template_text(keys['SK'])}` "
                   f"| {idx} | {size} | {ttl} |")
    out += [
        "",
        f"Item sizes are the capacity model's record estimate plus DynamoDB's attribute names "
        f"and key attributes, all far below the {human_bytes(_limit('max_item_bytes'))} item "
        "limit unless a finding below says otherwise. Numbers in keys are zero-padded and "
        "timestamps ISO 8601 in UTC, so the sort key orders them correctly.",
        "",
        "Access patterns (every read is a Query or a GetItem on a key; none is a Scan):",
        "",
        "| Pattern | Item | Index | Key condition | Order, filter, limit | Items per call "
        "| RCU per call | Rate now → 1x |",
        "|---|---|---|---|---|---:|---:|---|",
    ]
    for pt in model["patterns"]:
        if not pt.get("served"):
            out.append(f"| {pt['name']} | {pt.get('entity') or '—'} | **none** | "
                       f"not designed: {pt['reason']} (see findings) | — | — | — | — |")
            continue
        e = ents[pt["entity"]]
        api = "GetItem " if pt["api"] == "GetItem" else ""
        via = f" ({pt['via']})" if pt.get("via") else ""
        out.append(
            f"| {pt['name']}{via} | {pt['entity']} | {pt['index'] or 'table'} | "
            f"{api}`{key_condition(pt, e)}` | {_order(pt)} | {pt['items']:.3g} | "
            f"{pt['rcu']:.3g}{' (eventual)' if pt['eventual'] else ''} | "
            f"{_rates(pt['rate_now'], pt['rate_1x'])} |")
    if model["writes"]:
        out += ["", "| Write | Items | API | WCU per call (table + indexes) | Rate now → 1x |",
                "|---|---|---|---:|---|"]
        for w in model["writes"]:
            out.append(f"| {w['name']} | {w['items']} ({', '.join(w['entities'])}) | "
                       f"{w['api']} | {w['wcu']:.3g} | {_rates(w['rate_now'], w['rate_1x'])} |")
    wl, rl = _limit("partition_write_units"), _limit("partition_read_units")
    out += ["", f"Partition heat at the horizon (one partition key value serves at most "
                f"{wl:,.0f} WCU and {rl:,.0f} RCU per second):", "",
            "| Item | Index | Partition key | Distinct values | Hottest key WCU/s | "
            "Hottest key RCU/s | Write shards |",
            "|---|---|---|---:|---:|---:|---:|"]
    for h in model["heat"]:
        out.append(f"| {h['entity']} | {h['index']} | {', '.join(h['fields'])} | "
                   f"{human_count(h['values'])} | {h['hot_wcu']:,.3g} | {h['hot_rcu']:,.3g} | "
                   f"{h['shards']} |")
    sharded = [h for h in model["heat"] if h["shards"] > 1]
    for h in sharded:
        out.append("")
        out.append(
            f"{h['entity']}'s {h['index']} key ({', '.join(h['fields'])}) has "
            f"{human_count(h['values'])} values and takes ≈{h['hot_wcu']:,.0f} WCU/s on the "
            f"hottest one (an enum or flag key is assumed to take every write on one value), "
            f"over the {wl:,.0f} WCU limit: its partition key gets a shard suffix `#S<n>`, "
            f"n = crc32(item id) mod {h['shards']}, sized to 80% of the limit per shard; "
            f"each read of that index queries all {h['shards']} shards and merges them.")
    out += [
        "",
        f"Capacity: reads {cap['rcu']['now']:,.0f} RCU/s now, {cap['rcu']['1x']:,.0f} at the "
        f"horizon; writes {cap['wcu']['now']:,.0f} WCU/s now, {cap['wcu']['1x']:,.0f} at the "
        f"horizon (each write pays its item's WCU again in every index it appears in). At the "
        f"horizon rates on-demand costs ≈{_usd(cap['on_demand_usd'])}/month; provisioned at 70% "
        f"target utilisation ({cap['provisioned_rcu']:,} RCU, {cap['provisioned_wcu']:,} WCU) "
        f"≈{_usd(cap['provisioned_usd'])}/month (us-east-1 list prices). Billing mode: "
        f"**{cap['billing_mode']}**"
        + (" — steady traffic at these rates keeps provisioned capacity busy enough to be "
           "cheaper; switch to on-demand if traffic turns spiky (once a day at most)."
           if cap["billing_mode"] == "PROVISIONED" else
           f" — the on-demand bill stays under {_usd(cap['small_usd'])}/month, so sizing and "
           "watching provisioned capacity would not pay for itself; on-demand also absorbs "
           "spikes without scaling lag." if cap["small"] else
           " — at these rates on-demand is cheaper than paying for idle provisioned "
           "capacity, and it absorbs spikes without scaling lag.")
        + f" Storage at the horizon ≈{human_bytes(cap['storage_bytes'])} including index "
        f"copies (≈{_usd(cap['storage_usd'])}/month).",
        "",
        "Global secondary indexes are eventually consistent (replicated asynchronously, "
        "usually within a second), so a read that must see its own write goes to the table's "
        "key.",
    ]
    if model["ttl_attribute"]:
        out.append(
            f"Expiry: TTL on `{model['ttl_attribute']}` (epoch seconds). DynamoDB deletes "
            "expired items in the background, typically within a few days, so reads filter "
            f"`{model['ttl_attribute']} > now` until then; the deletes cost no write capacity.")
    return "\n".join(out)


def _attribute_definitions(model: dict[str, Any]) -> list[dict[str, str]]:
    names = ["PK", "SK"]
    for g in model["gsis"]:
        names += [f"{g}PK", f"{g}SK"]
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def table_input(model: dict[str, Any]) -> dict[str, Any]:
    """The `aws dynamodb create-table --cli-input-json` input of the design."""
    cap = model["capacity"]
    provisioned = cap["billing_mode"] == "PROVISIONED"

    def throughput(index: str) -> dict[str, int]:
        units = cap["per_index"].get(index, {"rcu": 1, "wcu": 1})
        return {"ReadCapacityUnits": int(units["rcu"]), "WriteCapacityUnits": int(units["wcu"])}
    body: dict[str, Any] = {
        "TableName": model["table"],
        "AttributeDefinitions": _attribute_definitions(model),
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                      {"AttributeName": "SK", "KeyType": "RANGE"}],
        "BillingMode": cap["billing_mode"],
    }
    if provisioned:
        body["ProvisionedThroughput"] = throughput("table")
    if model["gsis"]:
        body["GlobalSecondaryIndexes"] = []
        for g in model["gsis"]:
            index: dict[str, Any] = {
                "IndexName": g,
                "KeySchema": [{"AttributeName": f"{g}PK", "KeyType": "HASH"},
                              {"AttributeName": f"{g}SK", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            if provisioned:
                index["ProvisionedThroughput"] = throughput(g)
            body["GlobalSecondaryIndexes"].append(index)
    return body


def cloudformation(spec: Spec, model: dict[str, Any]) -> dict[str, Any]:
    """An AWS::DynamoDB::Table resource with TTL, point-in-time recovery and encryption."""
    props = dict(table_input(model))
    if model["ttl_attribute"]:
        props["TimeToLiveSpecification"] = {"AttributeName": model["ttl_attribute"],
                                            "Enabled": True}
    # Point-in-time recovery gives a 35-day, per-second restore window: the RPO answer.
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    props["SSESpecification"] = {"SSEEnabled": True}
    resource = "".join(w.title() for w in model["table"].replace("-", "_").split("_")) + "Table"
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{spec.system}: DynamoDB single-table design (dbarch)",
        "Resources": {resource: {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                                 "Properties": props}},
        "Outputs": {"TableName": {"Value": {"Ref": resource}}},
    }


def render(spec: Spec, decision: Decision, model: dict[str, Any],
           findings: list[PartFinding]) -> PartDesign:
    """The PartDesign of a designed DynamoDB part."""
    served = [p for p in model["patterns"] if p.get("served")]
    summary = (f"One DynamoDB table `{model['table']}` for {', '.join(model['entities'])}: "
               f"{len(served)} read pattern(s) as Queries on the table and "
               f"{len(model['gsis'])} overloaded GSI(s), "
               f"{model['capacity']['billing_mode'].lower().replace('_', '-')} billing.")
    return PartDesign(
        part=decision.part, paradigm=decision.paradigm.value, product=decision.product,
        summary=summary, section=section(spec, decision, model),
        artifacts={TABLE_FILE: json.dumps(table_input(model), indent=2) + "\n",
                   CLOUDFORMATION_FILE: json.dumps(cloudformation(spec, model), indent=2) + "\n"},
        findings=findings, model=model)
