"""What MEMORY USAGE reports for one Redis key: allocator size classes, sds strings, and the
encodings of each structure (embstr, listpack, intset, hashtable, skiplist, stream nodes,
HyperLogLog), with their thresholds read from `dbarch/data/keyvalue.yaml`.

Kept apart from the key design because it is pure arithmetic on byte counts that both the
designer (dbarch/design/keyvalue.py) and the verifier (dbarch/verify/keyvalue.py, which
compares it with the server's MEMORY USAGE key by key) use; it knows nothing of a spec.
"""

from __future__ import annotations

import math
import re
from typing import Any

from dbarch.data_files import load_yaml


def kv_data() -> dict[str, Any]:
    """The parsed `dbarch/data/keyvalue.yaml`."""
    data: dict[str, Any] = load_yaml("keyvalue.yaml")
    return data


def size_class(n: int, data: dict[str, Any] | None = None) -> int:
    """The jemalloc allocation an `n`-byte request gets (multiples of 16 up to 128, then four
    classes per doubling)."""
    alloc = (data or kv_data())["allocator"]
    step, small_max, per = alloc["small_step"], alloc["small_max"], alloc["classes_per_doubling"]
    if n <= 8:
        return 8
    if n <= small_max:
        return math.ceil(n / step) * step
    group = 1 << (math.ceil(math.log2(n)) - 1)  # the power of two just below n
    spacing = group // per
    return math.ceil(n / spacing) * spacing


def sds_bytes(length: int, data: dict[str, Any] | None = None) -> int:
    """An sds string's allocation: header (by length) + bytes + NUL, rounded to its class."""
    data = data or kv_data()
    header = next(h for limit, h in sorted((int(k), v) for k, v in
                                           data["struct_bytes"]["sds_header"].items())
                  if length <= limit)
    return size_class(header + length + 1, data)


def key_overhead(key_len: int, data: dict[str, Any] | None = None) -> int:
    """What MEMORY USAGE adds for the key itself: its dict entry and its name."""
    data = data or kv_data()
    return int(data["struct_bytes"]["dict_entry"]) + sds_bytes(key_len, data)


def _as_int(text: str) -> int | None:
    if re.fullmatch(r"-?[1-9][0-9]{0,18}|0", text):
        value = int(text)
        return value if -(1 << 63) <= value < (1 << 63) else None
    return None


def listpack_entry(text: str) -> int:
    """Bytes one element takes in a listpack: an integer encoding for integer text, else a
    length header (1, 2 or 5 bytes) + the bytes; then the back-length (1 or 2 bytes)."""
    number = _as_int(text)
    if number is not None:
        if 0 <= number <= 127:
            body = 1
        else:
            bits = max(number.bit_length() + 1, 13)
            body = 2 if bits <= 13 else 3 if bits <= 16 else 4 if bits <= 24 else (
                5 if bits <= 32 else 9)
    else:
        n = len(text.encode())
        body = n + (1 if n <= 63 else 2 if n <= 4095 else 5)
    return body + (1 if body <= 127 else 2 if body < 16383 else 3)


def string_value_bytes(length: int, data: dict[str, Any] | None = None, *,
                       integer: bool = False) -> int:
    """A string value: an integer is kept in the object header itself (int encoding), other
    values up to 44 bytes in one allocation with it (embstr), longer ones in an sds beside it."""
    data = data or kv_data()
    robj = int(data["struct_bytes"]["robj"])
    if integer:
        return robj
    if length <= data["encodings"]["embstr_max"]:
        return size_class(robj + 3 + length + 1, data)
    return robj + sds_bytes(length, data)


def _slots(n: int) -> int:
    return max(4, 1 << math.ceil(math.log2(max(n, 1))))


def hash_value_bytes(fields: list[tuple[str, str]], data: dict[str, Any] | None = None
                     ) -> tuple[int, str]:
    """A hash's bytes and encoding (listpack below both thresholds, else hashtable)."""
    data = data or kv_data()
    s = data["struct_bytes"]
    limits = data["encodings"]["hash"]
    if len(fields) <= limits["entries"] and all(
            len(f.encode()) <= limits["value"] and len(v.encode()) <= limits["value"]
            for f, v in fields):
        body = s["listpack_header"] + sum(listpack_entry(f) + listpack_entry(v) for f, v in fields)
        return s["robj"] + size_class(body, data), "listpack"
    table = s["robj"] + s["dict"] + s["bucket"] * _slots(len(fields))
    return table + sum(s["dict_entry"] + sds_bytes(len(f.encode()), data)
                       + sds_bytes(len(v.encode()), data) for f, v in fields), "hashtable"


def zset_value_bytes(members: int, member: str, score: str,
                     data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A sorted set of `members` members like `member` with scores like `score` (a listpack
    stores integer text in integer encodings)."""
    data = data or kv_data()
    s = data["struct_bytes"]
    limits = data["encodings"]["zset"]
    member_len = len(member.encode())
    if members <= limits["entries"] and member_len <= limits["value"]:
        body = s["listpack_header"] + members * (listpack_entry(member) + listpack_entry(score))
        return s["robj"] + size_class(body, data), "listpack"
    p, top = s["skiplist_p"], s["skiplist_max_level"]
    # Expected node size over the geometric level distribution (levels ≥ 1, one more w.p. p).
    node = sum((1 - p) * p ** (lvl - 1) * size_class(s["skiplist_node"] + s["skiplist_level"]
                                                       * lvl, data) for lvl in range(1, 12))
    fixed = (s["robj"] + s["zset"] + s["dict"] + s["bucket"] * _slots(members) + s["zskiplist"]
             + size_class(s["skiplist_node"] + s["skiplist_level"] * top, data))
    per = node + s["dict_entry"] + sds_bytes(member_len, data)
    return math.ceil(fixed + members * per), "skiplist"


def set_value_bytes(members: int, member_len: int, integers: bool,
                    data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A set: an intset when every member is an integer (up to 512), else a hashtable."""
    data = data or kv_data()
    s = data["struct_bytes"]
    if integers and members <= data["encodings"]["set_intset_entries"]:
        width = 2 if member_len <= 4 else 4 if member_len <= 9 else 8
        return s["robj"] + size_class(s["intset_header"] + members * width, data), "intset"
    return (s["robj"] + s["dict"] + s["bucket"] * _slots(members)
            + members * (s["dict_entry"] + sds_bytes(member_len, data))), "hashtable"


def stream_value_bytes(entries: int, entry_bytes: int, data: dict[str, Any] | None = None
                       ) -> tuple[int, str]:
    """A stream: listpack nodes of up to 4 KiB or 100 entries, plus the radix tree."""
    data = data or kv_data()
    st = data["stream"]
    per_node = max(1, min(st["node_max_entries"],
                          st["node_max_bytes"] // max(1, entry_bytes + st["per_entry_overhead"])))
    nodes = max(1, math.ceil(entries / per_node))
    # A node is allocated at stream-node-max-bytes up front and trimmed only when it closes.
    node_bytes = max(st["node_max_bytes"],
                     per_node * (entry_bytes + st["per_entry_overhead"]))
    return st["fixed_bytes"] + nodes * size_class(node_bytes, data), "stream"


def hll_value_bytes(data: dict[str, Any] | None = None) -> tuple[int, str]:
    """A dense HyperLogLog: 12 KiB of registers in a string (sparse ones are smaller)."""
    data = data or kv_data()
    return string_value_bytes(data["hyperloglog"]["dense_bytes"], data), "raw (dense)"


__all__ = ["hash_value_bytes", "hll_value_bytes", "key_overhead", "kv_data", "listpack_entry",
           "sds_bytes", "set_value_bytes", "size_class", "stream_value_bytes",
           "string_value_bytes", "zset_value_bytes"]
