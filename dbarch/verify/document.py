"""Verify a document (MongoDB) part: each validator checked as JSON Schema, offline.

No MongoDB server can be installed where dbarch runs its tests, so the part is verified
without one (SCHEMES is empty: it always runs). MongoDB's `$jsonSchema` is draft 4 with
`bsonType` in place of `type`; each validator is translated to plain JSON Schema for the check
(objectId → a 24-hex string, date → an ISO 8601 string, decimal → a numeric string, int and
long → integers with their ranges, binData → base64) and must then:

- use only the keywords MongoDB accepts, and be a valid draft-4 schema;
- accept sample documents built from the spec's fields (a minimal one, a typical one, and one
  with every array at its bound);
- refuse broken ones: each required field missing, each field of a wrong type, each array one
  over its bound, an enum value outside the list, a string over its maxLength, an unknown field.

The typical sample is also encoded as BSON (the driver's `bson` module) and its size compared
with the design's estimate; every index key and every pattern's filter must name a field of
the validator. `verify_on_server` runs the same documents and the access patterns on a real
server (`dbarch.engines.mongodb`); it is NOT exercised by dbarch's tests.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from dbarch.design.document_model import document_data
from dbarch.design.parts import PartDesign
from dbarch.errors import EngineError
from dbarch.spec.quantities import human_bytes
from dbarch.verify.parts import Check, PartCheck

SCHEMES: tuple[str, ...] = ()
OPTIONAL_SCHEMES = ("mongodb", "mongodb+srv")  # used when the user gives one with --engine

_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "objectId": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
    "string": {"type": "string"},
    "int": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    "long": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
    "double": {"type": "number"},
    "decimal": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "pattern": _ISO},
    "binData": {"type": "string", "pattern": "^[A-Za-z0-9+/]*={0,2}$"},
    "object": {"type": "object"},
    "array": {"type": "array"},
    "null": {"type": "null"},
}
_EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


# --- $jsonSchema → JSON Schema -------------------------------------------------------------

def to_json_schema(schema: Any) -> Any:
    """MongoDB's $jsonSchema as plain JSON Schema (draft 4): bsonType becomes type and the
    constraints its JSON representation needs."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "bsonType":
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key in ("items", "not", "additionalProperties", "additionalItems") \
                and isinstance(value, dict | list):
            out[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(v) for v in value]
        else:
            out[key] = value
    if "bsonType" in schema:
        kinds = schema["bsonType"] if isinstance(schema["bsonType"], list) \
            else [schema["bsonType"]]
        unknown = [k for k in kinds if k not in _JSON_TYPES]
        if unknown:
            raise ValueError(f"unknown bsonType {', '.join(unknown)}")
        typed = [_JSON_TYPES[k] for k in kinds]
        # Type constraints go under allOf so they never overwrite the field's own bounds.
        out.setdefault("allOf", []).append(typed[0] if len(typed) == 1 else {"anyOf": typed})
    return out


def keywords(schema: Any) -> set[str]:
    """Every keyword a $jsonSchema uses (property names excluded)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "patternProperties"):
                for sub in value.values():
                    found |= keywords(sub)
            elif isinstance(value, dict | list):
                found |= keywords(value)
    elif isinstance(schema, list):
        for s in schema:
            found |= keywords(s)
    return found


def to_json(value: Any) -> Any:
    """A sample value as JSON, the way the translated schema describes BSON values."""
    from bson import Decimal128, Int64, ObjectId

    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal128):
        return str(value)
    if isinstance(value, Int64):
        return int(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


# --- sample documents ----------------------------------------------------------------------

class Samples:
    """Documents built from a collection's fields (the spec's attributes and bounds)."""

    def __init__(self) -> None:
        self.n = 0

    def oid(self) -> Any:
        from bson import ObjectId

        self.n += 1
        return ObjectId(f"{self.n:024x}")

    def value(self, f: dict[str, Any], arrays: str) -> Any:
        """A valid value of field `f`; arrays hold one item ("min"), their average ("avg")
        or their bound ("max")."""
        from bson import Decimal128, Int64

        bson, size = f["bson"], int(f.get("bytes") or 8)
        if "enum" in f:
            return f["enum"][self.n % len(f["enum"])]
        if bson == "objectId":
            return self.oid()
        if bson == "string":
            if f.get("type") == "uuid":
                return f"{self.n:08x}-0000-4000-8000-{self.n:012x}"
            cap = int(f.get("max_length") or size)
            # Distinct per document, so unique indexes take every sample on a real server.
            return (f"s{self.n}-" + "x" * size)[: max(1, min(size, cap))]
        if bson == "int":
            return max(1, int(f.get("minimum", 1)))
        if bson == "long":
            return Int64(self.n)
        if bson == "double":
            return 1.5
        if bson == "decimal":
            return Decimal128("12.50")
        if bson == "bool":
            return True
        if bson == "date":
            return _EPOCH + dt.timedelta(minutes=self.n)
        if bson == "binData":
            return b"\0" * min(size, 1 << 20)
        if bson == "object":
            if f.get("fields"):
                return self.document(f["fields"], arrays)
            # A varying map: keys differ per document; about `bytes` of values.
            return {f"k{i}": "v" * 30 for i in range(max(1, size // 40))}
        if bson == "array":
            bound = f.get("max_items")
            n = {"min": 1, "avg": min(3, bound or 3), "max": bound or 3}[arrays]
            n = max(n, int(f.get("min_items") or 0))
            if f.get("fields"):
                return [self.document(f["fields"], arrays) for _ in range(n)]
            item = {"bson": f.get("items", "string"), "type": f.get("item_type", ""),
                    "bytes": 12}
            return [self.value(item, arrays) for _ in range(n)]
        raise ValueError(f"no sample for bsonType {bson}")

    def document(self, fields: list[dict[str, Any]], arrays: str = "avg",
                 optional: bool = True) -> dict[str, Any]:
        """A document with every required field (and the optional ones when `optional`)."""
        return {f["name"]: self.value(f, arrays) for f in fields
                if f["required"] or optional}


def _wrong(bson: str) -> Any:
    """A value whose JSON type differs from `bson`'s."""
    return "1" if bson in ("int", "long", "double", "bool", "object", "array") else 12345


def broken_documents(fields: list[dict[str, Any]], good: dict[str, Any],
                     prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, what, document) for each way a document must be refused."""
    out: list[tuple[str, str, dict[str, Any]]] = []

    def variant(kind: str, what: str, change: Callable[[dict[str, Any]], None]) -> None:
        doc = copy.deepcopy(good)
        change(doc)
        out.append((kind, what, doc))

    for f in fields:
        name, path = f["name"], f"{prefix}{f['name']}"
        if f["required"]:
            variant("missing required field", path, lambda d, n=name: d.pop(n, None))
        variant("wrong type", path, lambda d, n=name, b=f["bson"]: d.__setitem__(n, _wrong(b)))
        if "enum" in f:
            variant("value outside the enum", path,
                    lambda d, n=name: d.__setitem__(n, "not-a-listed-value"))
        if f.get("max_length"):
            variant("string over maxLength", path,
                    lambda d, n=name, m=f["max_length"]: d.__setitem__(n, "y" * (m + 1)))
        if f["bson"] == "array" and f.get("max_items") is not None and name in good:
            def over(d: dict[str, Any], n: str = name, m: int = f["max_items"]) -> None:
                items = d[n] or [None]
                d[n] = (items * (m + 1))[: m + 1]
            variant("array over its bound", path, over)
        if f.get("fields") and name in good:
            inner = good[name][0] if f["bson"] == "array" and good[name] else good[name]
            if isinstance(inner, dict):
                for kind, what, sub in broken_documents(f["fields"], inner, f"{path}."):
                    def nest(d: dict[str, Any], n: str = name, s: dict[str, Any] = sub,
                             array: bool = f["bson"] == "array") -> None:
                        d[n] = [s] if array else s
                    variant(kind, what, nest)
    return out


# --- the offline run -----------------------------------------------------------------------

def _paths(fields: list[dict[str, Any]], prefix: str = "") -> set[str]:
    out = set()
    for f in fields:
        path = f"{prefix}{f['name']}"
        out.add(path)
        if f.get("fields"):
            out |= _paths(f["fields"], f"{path}.")
    return out


class _Run:
    def __init__(self, part: PartDesign) -> None:
        self.model = part.model
        self.checks: list[Check] = []
        self.samples = Samples()
        self.valid: dict[str, list[dict[str, Any]]] = {}
        self.broken: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name=name, ok=ok, detail=detail))

    def run(self) -> None:
        from jsonschema import Draft4Validator
        from jsonschema.exceptions import SchemaError

        allowed = set(document_data()["json_schema_keywords"])
        for c in self.model["collections"]:
            name, raw = c["name"], c["validator"]["$jsonSchema"]
            used = keywords(raw)
            extra = sorted(used - allowed)
            try:
                schema = to_json_schema(raw)
                Draft4Validator.check_schema(schema)
                problem = ""
            except (SchemaError, ValueError) as e:
                problem = str(e).splitlines()[0]
            self.check(f"{name}: validator is $jsonSchema", not extra and not problem,
                       f"keywords {', '.join(sorted(used))}"
                       + (f"; not accepted by MongoDB: {', '.join(extra)}" if extra else "")
                       + (f"; {problem}" if problem else "")
                       + "; bsonType translated to JSON types for the check")
            if extra or problem:
                continue
            v = Draft4Validator(schema)
            fields = c["fields"]
            docs = [self.samples.document(fields, "min", optional=False),
                    self.samples.document(fields, "avg"),
                    self.samples.document(fields, "max")]
            self.valid[name] = docs
            refused = [i for i, d in enumerate(docs) if not v.is_valid(to_json(d))]
            errors = [next(iter(v.iter_errors(to_json(docs[i])))).message for i in refused]
            self.check(f"{name}: valid documents accepted", not refused,
                       f"{len(docs) - len(refused)} of {len(docs)} (required fields only; "
                       "typical; every array at its bound)"
                       + (f"; refused: {errors[0]}" if errors else ""))
            broken = broken_documents(fields, docs[1])
            broken.append(("unknown field", "misspelt_field",
                           {**docs[1], "misspelt_field": 1}))
            self.broken[name] = broken
            kinds: dict[str, list[int]] = {}
            passed = []
            for kind, what, doc in broken:
                ok = not v.is_valid(to_json(doc))
                kinds.setdefault(kind, [0, 0])[0 if ok else 1] += 1
                if not ok:
                    passed.append(f"{kind}: {what}")
            self.check(f"{name}: broken documents refused", not passed,
                       "; ".join(f"{k} {r[0]}/{r[0] + r[1]}" for k, r in kinds.items())
                       + (f"; accepted by mistake: {', '.join(passed[:3])}" if passed else ""))
            self.size(c, docs[1], docs[2])
            self.paths(c)

    def size(self, c: dict[str, Any], typical: dict[str, Any], full: dict[str, Any]) -> None:
        import bson

        limit = int(self.model["max_document_bytes"])
        avg, top = len(bson.encode(typical)), len(bson.encode(full))
        self.check(f"{c['name']}: document size", top < limit,
                   f"BSON of the typical sample {human_bytes(avg)} (estimate "
                   f"{human_bytes(c['avg_bytes'])}), of the sample with every array at its "
                   f"bound {human_bytes(top)} (estimate {human_bytes(c['max_bytes'])}); limit "
                   f"{human_bytes(limit)}")

    def paths(self, c: dict[str, Any]) -> None:
        known = _paths(c["fields"])
        missing = [f"{ix['options']['name']}: {k}" for ix in c["indexes"] for k, _ in ix["keys"]
                   if k not in known]
        for q in self.model["queries"]:
            if q["collection"] != c["name"]:
                continue
            used = [*q["filter"], *(k for k, _ in q["sort"])]
            missing += [f"{q['name']}: {k}" for k in used if k not in known]
            names = {ix["options"]["name"] for ix in c["indexes"]} | {"_id_"}
            if q.get("index") is not None and q["index"] not in names:
                missing.append(f"{q['name']}: index {q['index']} not created")
        self.check(f"{c['name']}: indexes and patterns name its fields", not missing,
                   f"{len(c['indexes'])} index(es), "
                   f"{sum(q['collection'] == c['name'] for q in self.model['queries'])} "
                   "pattern(s)" + (f"; unknown: {', '.join(missing[:4])}" if missing else ""))


def verify_part(part: PartDesign, url: str | None) -> PartCheck:
    """Check the part's validators as JSON Schema; on a real server too when `url` is given."""
    run = _Run(part)
    try:
        run.run()
    except Exception as e:  # a broken model is a failed verification, said so
        return PartCheck(part=part.part, paradigm=part.paradigm, ran=True,
                         engine="JSON Schema (offline)", checks=run.checks,
                         error=f"{type(e).__name__}: {e}")
    check = PartCheck(
        part=part.part, paradigm=part.paradigm, ran=True, engine="JSON Schema (offline)",
        checks=run.checks,
        note="no MongoDB server here: validators checked as JSON Schema (bsonType translated)")
    if url:
        try:
            server = verify_on_server(part, url, run)
        except EngineError as e:
            check.error = str(e)
            return check
        check.engine = f"{server.engine} and JSON Schema (offline)"
        check.url = url
        check.checks += server.checks
        check.note = ""
    return check


# --- a real server (untested here) ---------------------------------------------------------

def _value_at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, list):
            doc = doc[0] if doc else None
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc[0] if isinstance(doc, list) and doc else doc


def query_filter(q: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """The pattern's filter with values taken from a stored sample, so it matches it."""
    flt: dict[str, Any] = {}
    for path, op in q["filter"].items():
        value = doc["_id"] if q.get("embedded") and path == "_id" else _value_at(doc, path)
        if op == "eq":
            flt[path] = value
        elif op == "in":
            flt[path] = {"$in": [value]}
        elif op == "range":
            flt[path] = {"$gte": value}
        elif op == "prefix":
            flt[path] = {"$regex": f"^{str(value)[:3]}"}
        elif op == "text":
            flt["$text"] = {"$search": str(value).split("-")[0]}   # the sample's first word
    return flt


def verify_on_server(part: PartDesign, url: str, run: _Run) -> PartCheck:
    """Apply the design on the MongoDB server at `url` in a scratch database, insert the
    samples, and run every access pattern. NOT exercised by dbarch's tests (no server)."""
    from dbarch.engines.mongodb import DOCUMENT_VALIDATION_FAILURE, MongoEngine

    checks: list[Check] = []
    with MongoEngine(url) as engine:
        for c in part.model["collections"]:
            name = c["name"]
            err = engine.create_collection(name, c["validator"])
            checks.append(Check(name=f"{name}: createCollection with validator", ok=err is None,
                                detail=err or "accepted by the server"))
            if err:
                continue
            bad = [f"{ix['options']['name']}: {e}" for ix in c["indexes"]
                   if (e := engine.create_index(name, ix["keys"], ix["options"]))]
            checks.append(Check(name=f"{name}: createIndex", ok=not bad,
                                detail="; ".join(bad) or f"{len(c['indexes'])} created"))
            stored = [engine.insert(name, d) for d in run.valid.get(name, [])]
            refused = [m for code, m in stored if code is not None]
            checks.append(Check(name=f"{name}: valid documents inserted", ok=not refused,
                                detail=refused[0] if refused else f"{len(stored)} inserted"))
            # The driver adds an _id to a document without one, so that variant is offline only.
            broken = [b for b in run.broken.get(name, []) if b[1] != "_id"]
            wrong = [f"{kind}: {what}" for kind, what, doc in broken
                     if engine.insert(name, doc)[0] != DOCUMENT_VALIDATION_FAILURE]
            checks.append(Check(name=f"{name}: broken documents refused (code 121)",
                                ok=not wrong, detail="; ".join(wrong[:3]) or
                                f"{len(broken)} refused"))
        for q in part.model["queries"]:
            docs = run.valid.get(q["collection"], [])
            if not docs:
                continue
            returned, indexes, stages = engine.find(q["collection"], query_filter(q, docs[-1]),
                                                    q["sort"], q["limit"])
            want = q.get("index")
            used = (want in indexes or (want == "_id_" and any(
                s in ("IDHACK", "EXPRESS_IXSCAN", "EXPRESS_CLUSTERED_IXSCAN") for s in stages))
                or (want is None))
            checks.append(Check(name=f"pattern {q['name']}", ok=used and returned > 0,
                                detail=f"{returned} document(s); plan "
                                f"{' → '.join(stages) or '?'} using {', '.join(indexes) or '—'}"
                                f"; designed {want}"))
        engine_name = f"MongoDB {engine.version}"
    return PartCheck(part=part.part, paradigm=part.paradigm, ran=True, engine=engine_name,
                     url=url, checks=checks)
