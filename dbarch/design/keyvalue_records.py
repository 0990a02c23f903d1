"""A key-value record's fields, key names and sample values.

Each entity's record is a list of `Field_` (attributes, references, timestamps) with the
characters each takes as text; key names keep their `{...}` hash tags; sample records hold
every field at its planned length. Separate from the designer because the verifier
(dbarch/verify/keyvalue.py) writes the same sample records under the same key names to
Redis, so both must build them from one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dbarch.design.keyvalue_encodings import kv_data
from dbarch.spec.model import Attribute, AttrType, Spec, snake


@dataclass
class Field_:
    """One field of a record: its name, spec type and planned characters as text."""

    name: str
    type: str
    chars: int
    values: list[str] = field(default_factory=list)
    unique: bool = False


def _ttl(spec: Spec, entity: str) -> int | None:
    ttl = spec.entities[entity].ttl
    return int(ttl) if ttl else None


def _id_chars(spec: Spec, entity: str, data: dict[str, Any]) -> int:
    e = spec.entities[entity]
    if e.public_id:
        return int(data["uuid_chars"])
    return len(str(max(int(e.volume_at(spec.scale.horizon_years)), e.volume, 1)))


def _chars(attr: Attribute, data: dict[str, Any]) -> int:
    base = int(data["text_chars"][attr.type.value])
    if attr.avg_size:
        return int(attr.avg_size)
    if attr.type == AttrType.enum and attr.values:
        return max(1, round(sum(len(v) for v in attr.values) / len(attr.values)))
    if attr.max_length:
        return min(base, attr.max_length)
    return base


def record_fields(spec: Spec, entity: str, data: dict[str, Any] | None = None) -> list[Field_]:
    """The fields a record holds besides its id (in the key): attributes, references,
    created_at and updated_at."""
    data = data or kv_data()
    fields = [Field_(n, a.type.value, _chars(a, data), list(a.values or []), a.unique)
              for n, a in spec.entities[entity].attributes.items()]
    for rel in spec.references_of(entity):
        fields.append(Field_(rel.field_name, "reference", _id_chars(spec, rel.parent, data)))
    stamp = int(data["text_chars"]["timestamp"])
    fields += [Field_("created_at", "timestamp", stamp), Field_("updated_at", "timestamp", stamp)]
    return fields


def key_name(pattern: str, values: dict[str, str]) -> str:
    """A key from its pattern: each `{name}` becomes `{value}`, braces kept (the Redis Cluster
    hash tag)."""
    for name, value in values.items():
        pattern = pattern.replace("{" + name + "}", "{" + value + "}")
    return pattern


def sample_id(i: int, chars: int) -> str:
    """The i-th sample id, `chars` characters long like the design's ids (UUIDs at 36)."""
    if chars == 36:
        return f"00000000-0000-4000-8000-{i:012d}"
    return str(10 ** (chars - 1) + i) if chars > 1 else str(i % 10)


def window_of(record: dict[str, str], window: float | None) -> str:
    """The number of the time window a record falls in (epoch ms // window), "" without one."""
    if not window:
        return ""
    return str(int(record.get("created_at", "0")) // int(window * 1000))


def sample_value(f: Field_, i: int, distinct: int = 5) -> str:
    """The i-th sample value of a field, exactly `f.chars` characters long; equality fields take
    `distinct` values so an index key holds several records."""
    if f.type == "timestamp":
        return str(1_700_000_000_000 + i * 60_000)[: max(f.chars, 1)]
    if f.values:
        return f.values[i % len(f.values)]
    if f.type in ("int", "bigint", "reference"):
        n = i if f.unique else i % distinct
        return str(n + 1).rjust(f.chars, "1")[-f.chars:] if f.chars > len(str(n + 1)) \
            else str(n + 1)
    if f.type in ("decimal", "money", "float"):
        return f"{i % distinct}.{i % 100:02d}".rjust(f.chars, "1")
    if f.type == "bool":
        return "1" if i % 2 else "0"
    if f.type in ("json", "map"):
        body = json.dumps({"n": i % distinct, "pad": ""}, separators=(",", ":"))
        pad = max(0, f.chars - len(body))
        return json.dumps({"n": i % distinct, "pad": "p" * pad}, separators=(",", ":"))
    head = f"{f.name[:3]}{i if f.unique else i % distinct}-"
    return (head + "v" * f.chars)[: max(f.chars, len(head))]


def sample_record(fields: list[Field_], i: int) -> dict[str, str]:
    """One sample record: every field at its planned length."""
    return {f.name: sample_value(f, i) for f in fields}


def record_json(record: dict[str, str]) -> str:
    """The record as the string value stores it: compact JSON."""
    return json.dumps(record, separators=(",", ":"))


def _key(app: str, entity: str, *parts: str) -> str:
    return ":".join([app, snake(entity), *parts])


__all__ = ["Field_", "key_name", "record_fields", "record_json", "sample_id", "sample_record",
           "sample_value", "window_of"]
