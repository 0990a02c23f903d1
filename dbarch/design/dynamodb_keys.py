"""How DynamoDB keys are spelled: the type prefix of an entity, a value encoded so that string
order is its order, a key string from its template, and the write shard of an item.

Apart from the designer because verification builds the same key strings from sample records
(`dbarch.verify.dynamodb`), and the sizes read the encoded widths; none of it needs the spec.
"""

from __future__ import annotations

import zlib
from typing import Any

from dbarch.spec.model import snake

# Width of a value once encoded into a key string (see `encode`): numbers are offset and
# zero-padded so that string order is numeric order.
_KEY_WIDTH: dict[str, int] = {"int": 20, "bigint": 20, "decimal": 20, "money": 20, "float": 20,
                              "timestamp": 27, "date": 10, "bool": 1, "id": 26, "ref": 26}
_DEFAULT_KEY_WIDTH = 25
_NUMERIC = {"int", "bigint", "decimal", "money", "float"}

_NUMBER_SCALE = 10_000        # four decimals kept in a key
_NUMBER_OFFSET = 10 ** 19     # keeps negatives below positives in string order


def encode(kind: str, value: Any) -> str:
    """`value` as it appears inside a key, so that string order is the value's order.

    Numbers are scaled, offset and zero-padded to 20 digits; timestamps are ISO 8601 in UTC
    with microseconds (fixed width); booleans are 0/1; the rest as text. A value holding the
    `#` separator must be escaped by the application (sample values never do).
    """
    if kind in _NUMERIC:
        return f"{round(float(value) * _NUMBER_SCALE) + _NUMBER_OFFSET:020d}"
    if kind == "bool":
        return "1" if value else "0"
    return str(value)


def shard_of(identity: str, shards: int) -> int:
    """The write shard of an item: a stable hash of its identity (not Python's salted hash)."""
    return zlib.crc32(identity.encode()) % shards


def key_value(template: dict[str, Any], fields: dict[str, str], record: dict[str, Any],
              identity: str = "") -> str:
    """The key string of `record` under `template` ({prefix, fields, shards})."""
    parts = [template["prefix"]]
    parts += [encode(fields.get(f, "string"), record[f]) for f in template["fields"]]
    shards = int(template.get("shards", 1))
    if shards > 1:
        parts.append(f"S{shard_of(identity, shards)}")
    return "#".join(parts)


def prefix_of(entity: str) -> str:
    """`InventoryItem` → `INVENTORY_ITEM`: the type prefix of its keys."""
    return snake(entity).upper()

