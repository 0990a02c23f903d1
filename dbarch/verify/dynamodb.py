"""Verification of a DynamoDB single-table design on a DynamoDB API (moto's server here).

Creates the table and its GSIs from the design's own `schema/dynamodb.table.json`, turns TTL
on, writes sample items built with the design's key templates, then runs every designed read
pattern as Queries (never a Scan: the adapter has no scan method) and checks the items that
come back against the answer computed directly from the sample records: same items, same
order where the pattern orders, at most its limit. The table gets a fresh suffix and is
deleted afterwards; `dynamodb://local` (the default) starts a moto server for the run and
stops it.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.dynamodb_keys import encode, key_value
from dbarch.design.dynamodb_render import TABLE_FILE
from dbarch.design.parts import PartDesign
from dbarch.errors import EngineError
from dbarch.verify.parts import Check, PartCheck

# Empty, like an embedded engine: every run verifies on a moto server started for it (moto is
# a dependency), so `dbarch design` proves the part with no flag. A dynamodb://HOST:PORT given
# with --engine (an emulator already running) is used instead.
SCHEMES: tuple[str, ...] = ()
OPTIONAL_SCHEMES: tuple[str, ...] = ("dynamodb",)
LOCAL = "dynamodb://local"

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_REF_POOL = 6   # distinct values of a non-unique reference: several items share each


Record = dict[str, Any]


def _sample_value(kind: str, field: str, i: int, rng: random.Random,
                  enums: list[str] | None) -> Any:
    if kind in ("int", "bigint"):
        return rng.randint(0, 1000)
    if kind in ("decimal", "money"):
        return Decimal(rng.randint(0, 100_000)) / 100
    if kind == "float":
        return Decimal(str(round(rng.uniform(0, 1000), 3)))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "timestamp":
        t = _EPOCH + timedelta(seconds=rng.randint(0, 365 * 86400))
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind == "date":
        return (_EPOCH + timedelta(days=rng.randint(0, 365))).date().isoformat()
    if kind == "enum":
        # Skewed towards the first values, as real status columns are: it also gives an
        # equality on two or three enums several matching items in a small sample.
        values = enums or ["a", "b"]
        return values[min(int(rng.expovariate(1.2)), len(values) - 1)]
    if kind == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind == "email":
        return f"{field}{i}@example.com"
    if kind in ("json", "map"):
        return {"k": rng.randint(0, 9), "note": f"n{i}"}
    if kind == "list":
        return [rng.randint(0, 9) for _ in range(3)]
    return f"{field}-{rng.randint(0, 999):03d}"


def sample_records(model: dict[str, Any], n: int) -> dict[str, list[Record]]:
    """`n` records per item type, with references that several records share (so a Query on
    a reference returns several) and unique fields unique (so no base key collides)."""
    ents = model["entities"]
    ids = {name: [f"{e['prefix'].lower()}-{i:04d}" for i in range(n)]
           for name, e in ents.items() if not e["edge_of"]}
    out: dict[str, list[Record]] = {}
    for name, e in ents.items():
        rng = random.Random(zlib.crc32(name.encode()))
        records: list[Record] = []
        seen: set[tuple[Any, ...]] = set()
        for i in range(n):
            rec: Record = {}
            for f, kind in e["fields"].items():
                if kind == "id":
                    rec[f] = ids[name][i]
                elif kind == "ref":
                    parent = e["refs"][f]
                    pool = ids.get(parent) or [f"{parent.lower()}-{j:04d}" for j in range(n)]
                    rec[f] = pool[i] if f in e["unique"] else rng.choice(pool[:_REF_POOL])
                elif f in e["unique"]:
                    rec[f] = f"{f}-{i:04d}" if kind not in ("int", "bigint") else i
                else:
                    rec[f] = _sample_value(kind, f, i, rng, e["enums"].get(f))
                if f in e["optional"] and i % 6 == 5:
                    rec[f] = None   # an optional attribute left out: the item is sparse
            if e["edge_of"]:
                fa, fb = e["edge_of"]
                if (rec[fa], rec[fb]) in seen:
                    continue
                seen.add((rec[fa], rec[fb]))
            records.append(rec)
        out[name] = records
    return out


def identity(entity: dict[str, Any], rec: Record) -> str:
    """What tells two items of one type apart: the id, or an edge's two ends."""
    if entity["edge_of"]:
        fa, fb = entity["edge_of"]
        return f"{rec[fa]}|{rec[fb]}"
    return str(rec["id"])


def build_item(name: str, entity: dict[str, Any], rec: Record, ttl_attr: str | None,
               now: float) -> dict[str, Any]:
    """The DynamoDB item of a record: its attributes, `type`, and every key it carries."""
    item: dict[str, Any] = {"type": name}
    item.update({k: v for k, v in rec.items() if v is not None})
    ident = identity(entity, rec)
    for attr, tpl in entity["keys"].items():
        if all(rec.get(f) is not None for f in tpl["fields"]):
            # An item missing a key field carries no key for that index: sparse by design.
            item[attr] = key_value(tpl, entity["fields"], rec, ident)
    if ttl_attr and entity["ttl"]:
        item[ttl_attr] = int(now + entity["ttl"])
    return item


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if value is not None else (1, "")


def parameters(pattern: dict[str, Any], entity: dict[str, Any],
               records: list[Record]) -> dict[str, Any] | None:
    """Values for the pattern's conditions, taken from the sample record that gives the most
    matching items: eq → its value, in → it and one other value, range → [it, the largest],
    prefix → its first characters."""
    where = pattern["asked"]["where"]
    best: tuple[int, dict[str, Any]] | None = None
    for target in records:
        if any(target.get(f) is None for f in where):
            continue
        params: dict[str, Any] = {}
        for f, op in where.items():
            v = target[f]
            if op == "eq":
                params[f] = v
            elif op == "in":
                others = sorted({r[f] for r in records if r.get(f) not in (None, v)},
                                key=str)
                params[f] = [v, *others[:1]]
            elif op == "range":
                params[f] = (v, max(r[f] for r in records if r.get(f) is not None))
            elif op == "prefix":
                params[f] = str(v)[:max(1, len(str(v)) - 2)]
        hits = len(_matching(pattern, records, params))
        if best is None or hits > best[0]:
            best = (hits, params)
    return best[1] if best else None


def _matching(pattern: dict[str, Any], records: list[Record],
              params: dict[str, Any]) -> list[Record]:
    def ok(r: Record) -> bool:
        for f, op in pattern["asked"]["where"].items():
            v, p = r.get(f), params[f]
            if v is None:
                return False
            if (op == "eq" and v != p) or (op == "in" and v not in p):
                return False
            if op == "range" and not (p[0] <= v <= p[1]):
                return False
            if op == "prefix" and not str(v).startswith(p):
                return False
        return True
    return [r for r in records if ok(r)]


def expected(pattern: dict[str, Any], entity: dict[str, Any], records: list[Record],
             params: dict[str, Any]) -> list[str]:
    """The answer computed from the records themselves, without any key."""
    return _ordered(pattern, entity, _matching(pattern, records, params))


def _ordered(pattern: dict[str, Any], entity: dict[str, Any], hits: list[Record]) -> list[str]:
    """The identities of `hits` in the order the spec asks (by id when it asks none), cut to
    its limit when it orders."""
    asked = pattern["asked"]
    order = asked["order"]
    if order:
        hits.sort(key=lambda r: (_sort_key(r.get(order)), identity(entity, r)),
                  reverse=asked["desc"])
    else:
        hits.sort(key=lambda r: identity(entity, r))
    ids = [identity(entity, r) for r in hits]
    return ids[:asked["limit"]] if asked["limit"] and order else ids


def requests(table: str, pattern: dict[str, Any], entity: dict[str, Any],
             params: dict[str, Any]) -> list[dict[str, Any]]:
    """The Query requests of a pattern: one per shard and per `in` value."""
    pk_tpl = dict(entity["keys"][pattern["pk_attr"]])
    sk_tpl = entity["keys"][pattern["sk_attr"]]
    fields = entity["fields"]
    shards = int(pk_tpl.get("shards", 1))
    pk_tpl["shards"] = 1
    in_fields = pattern["in_fields"]
    out = []
    for combo in product(*(params[f] for f in in_fields)):
        values = {**params, **dict(zip(in_fields, combo, strict=True))}
        base_pk = key_value(pk_tpl, fields, values)
        names = {"#pk": pattern["pk_attr"], "#sk": pattern["sk_attr"]}
        head = "#".join([sk_tpl["prefix"], *(encode(fields[f], values[f])
                                             for f in sk_tpl["fields"][:pattern["sk_eq"]])])
        rf = pattern["range_field"]
        if not sk_tpl["fields"]:
            cond, vals = "#sk = :sk", {":sk": sk_tpl["prefix"]}
        elif rf and pattern["range_op"] == "range":
            lo, hi = values[rf]
            cond = "#sk BETWEEN :lo AND :hi"
            # The id follows the range field in the sort key: \uffff sorts after any id.
            vals = {":lo": f"{head}#{encode(fields[rf], lo)}",
                    ":hi": f"{head}#{encode(fields[rf], hi)}#\uffff"}
        elif rf:
            cond, vals = "begins_with(#sk, :p)", {":p": f"{head}#{encode(fields[rf], values[rf])}"}
        else:
            cond, vals = "begins_with(#sk, :p)", {":p": f"{head}#"}
        filters = []
        for j, f in enumerate(pattern["filters"]):
            names[f"#f{j}"] = f
            if pattern["asked"]["where"][f] == "range":
                filters.append(f"#f{j} BETWEEN :f{j}lo AND :f{j}hi")
                vals[f":f{j}lo"], vals[f":f{j}hi"] = values[f]
            else:
                filters.append(f"begins_with(#f{j}, :f{j})")
                vals[f":f{j}"] = values[f]
        for s in range(shards):
            pk = f"{base_pk}#S{s}" if shards > 1 else base_pk
            req: dict[str, Any] = {
                "TableName": table, "KeyConditionExpression": f"#pk = :pk AND {cond}",
                "ExpressionAttributeNames": dict(names),
                "ExpressionAttributeValues": {":pk": pk, **vals},
                "ScanIndexForward": pattern["forward"]}
            if pattern["index"]:
                req["IndexName"] = pattern["index"]
            if filters:
                req["FilterExpression"] = " AND ".join(filters)
            elif pattern["query_limit"]:
                req["Limit"] = pattern["query_limit"]
            out.append(req)
    return out


def _answer(pattern: dict[str, Any], entity: dict[str, Any],
            items: list[dict[str, Any]]) -> list[str]:
    """What the application gets from the Queries as the design runs them: one Query as
    returned; several (shards, `in` values) merged on the sort key after its equality prefix,
    in the Query direction; re-sorted by the application where the design says so; cut to
    the limit."""
    if len(items) > 1 and not pattern["client_sort"]:
        skip = 1 + pattern["sk_eq"]
        sk = pattern["sk_attr"]
        items = sorted(items, key=lambda it: "#".join(str(it.get(sk, "")).split("#")[skip:]),
                       reverse=not pattern["forward"])
    ids = [identity(entity, it) for it in items]
    if pattern["client_sort"]:
        order = pattern["order"]
        ranked = sorted(items, key=lambda it: (_sort_key(it.get(order)), identity(entity, it)),
                        reverse=pattern["desc"])
        ids = [identity(entity, it) for it in ranked]
    limit = pattern["asked"]["limit"]
    return ids[:limit] if limit else ids


def _check_pattern(engine: Any, table: str, pattern: dict[str, Any], entity: dict[str, Any],
                   records: list[Record]) -> Check:
    name = pattern["name"]
    params = parameters(pattern, entity, records)
    if params is None:
        return Check(name=name, ok=False, detail="no sample record has every field it filters")
    want = expected(pattern, entity, records, params)
    reqs = requests(table, pattern, entity, params)
    items: list[dict[str, Any]] = []
    for req in reqs:
        items += engine.query(req, want=req.get("Limit"))
    wrong_type = [it for it in items if it.get("type") != pattern["entity"]]
    got = _answer(pattern, entity, items)
    where = pattern["index"] or "table"
    shown = ", ".join(f"{f}={v!r}" for f, v in params.items())
    label = f"{len(reqs)} Quer{'y' if len(reqs) == 1 else 'ies'} on {where} ({shown})"
    if wrong_type:
        return Check(name=name, ok=False,
                     detail=f"{label}: {len(wrong_type)} item(s) of another type came back")
    asked = pattern["asked"]
    if asked["order"]:
        ok = got == want
    elif asked["limit"]:
        ok = set(got) <= set(want) and len(got) == min(len(want), asked["limit"])
    else:
        ok = sorted(got) == want
    if ok:
        return Check(name=name, ok=True, detail=f"{label} → {len(got)} item(s), as expected"
                     + (", in order" if asked["order"] else ""))
    return Check(name=name, ok=False,
                 detail=f"{label} → {got[:5]}… expected {want[:5]}… "
                        f"({len(got)} vs {len(want)} items)")


def verify_part(part: PartDesign, url: str | None) -> PartCheck:
    """Create the designed table on `url` (default: a moto server started for the run), load
    sample items, run every read as Queries and check what comes back."""
    from dbarch.engines.dynamodb import DynamoDBEngine

    model = part.model
    check = PartCheck(part=part.part, paradigm=part.paradigm, url=url, engine="dynamodb")
    url = url or LOCAL
    check.url = url
    n = int(load_yaml("dynamodb.yaml")["design"]["sample_items"])
    definition = json.loads(part.artifacts[TABLE_FILE])
    designed = definition["TableName"]
    # A fresh name per run: a shared endpoint may hold an earlier run's table.
    table = f"{designed}-{secrets.token_hex(3)}"
    definition["TableName"] = table
    try:
        engine = DynamoDBEngine(url)
    except EngineError as exc:
        check.error = str(exc)
        return check
    check.engine, check.ran = engine.version, True
    try:
        desc = engine.create_table(definition)
        gsis = sorted(g["IndexName"] for g in desc.get("GlobalSecondaryIndexes", []))
        check.checks.append(Check(
            name="create table", ok=gsis == sorted(model["gsis"]),
            detail=f"{designed} (as a throwaway copy): key PK/SK, GSIs "
                   f"{', '.join(gsis) or 'none'}, "
                   f"{definition['BillingMode']}"))
        if model["ttl_attribute"]:
            status = engine.enable_ttl(table, model["ttl_attribute"])
            check.checks.append(Check(name="TTL", ok=status in ("ENABLED", "ENABLING"),
                                      detail=f"{model['ttl_attribute']}: {status}"))
        records = sample_records(model, n)
        now = time.time()
        items = [build_item(name, model["entities"][name], rec, model["ttl_attribute"], now)
                 for name, recs in records.items() for rec in recs]
        written = engine.put_items(table, items)
        check.checks.append(Check(name="sample items", ok=written == len(items),
                                  detail=f"{written} items of {len(records)} types"))
        skipped = []
        for pattern in model["patterns"]:
            if not pattern.get("served"):
                skipped.append(pattern["name"])
                continue
            entity = model["entities"][pattern["entity"]]
            try:
                check.checks.append(_check_pattern(engine, table, pattern, entity,
                                                   records[pattern["entity"]]))
            except (EngineError, KeyError, ValueError) as exc:
                # One pattern the table cannot answer (a key the items do not carry, an index
                # it lacks) fails alone; the others still run.
                check.checks.append(Check(name=pattern["name"], ok=False,
                                          detail=f"{type(exc).__name__}: {exc}"))
        check.note = (f"{len(skipped)} pattern(s) not designed, see findings: "
                      f"{', '.join(skipped)}" if skipped else "every read ran as a Query")
    except EngineError as exc:
        check.error = str(exc)
    finally:
        try:
            engine.close()
        except EngineError as exc:
            check.error = check.error or str(exc)
    return check
