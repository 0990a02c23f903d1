"""What one node of each product sustains, from `dbarch/data/scaling.yaml`, with its sources.

The data file holds every figure and threshold of the capacity model; this module loads it and
gives one product's single-node ceiling (operations per second, connections, RAM, storage) and
the way that product takes each scaling step (pooler, replicas, partitioning, sharding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbarch.data_files import load_yaml


def scaling_data() -> dict[str, Any]:
    """The parsed `dbarch/data/scaling.yaml` (loaded once)."""
    data: dict[str, Any] = load_yaml("scaling.yaml")
    return data


ALL_STEPS = ("pooling", "caching", "replicas", "memory", "partitioning", "sharding")


@dataclass(frozen=True)
class Ceiling:
    """What one node of a product sustains, per the data file, with where the figures come from."""

    product: str
    name: str
    instance: str
    read_ops: float
    write_ops: float
    connections: int
    ram_bytes: int
    max_ram_bytes: int
    storage_bytes: int
    pooler: str
    replica: str
    memory: str
    partitioning: str
    sharding: str
    multi_region: str
    sources: tuple[str, ...]
    measured: bool
    steps: tuple[str, ...] = ALL_STEPS
    cache: str = ""
    shard_note: str = ""
    scale_up_reads: bool = True
    partitioned_foreign_keys: bool = True


def ceiling_of(product: str, display_name: str | None = None) -> Ceiling:
    """The single-node ceiling of `product`; unknown products get the conservative default."""
    products = scaling_data()["products"]
    entry = products.get(product)
    measured = entry is not None
    entry = entry or products["default"]
    return Ceiling(
        product=product,
        name=entry["name"] if measured else (display_name or product),
        instance=entry["instance"],
        read_ops=float(entry["read_ops"]),
        write_ops=float(entry["write_ops"]),
        connections=int(entry["connections"]),
        ram_bytes=int(entry["ram_bytes"]),
        max_ram_bytes=int(entry["max_ram_bytes"]),
        storage_bytes=int(entry["storage_bytes"]),
        pooler=entry["pooler"],
        replica=entry["replica"],
        memory=entry["memory"],
        partitioning=entry["partitioning"],
        sharding=entry["sharding"],
        multi_region=entry["multi_region"],
        sources=tuple(entry["sources"]),
        measured=measured,
        steps=tuple(entry.get("steps", ALL_STEPS)),
        cache=" ".join(str(entry.get("cache", products_default_cache())).split()),
        shard_note=entry.get("shard_note", ""),
        scale_up_reads=bool(entry.get("scale_up_reads", True)),
        partitioned_foreign_keys=bool(entry.get("partitioned_foreign_keys", True)),
    )


def products_default_cache() -> str:
    """How reads are cached when the product names no cache of its own."""
    return str(scaling_data()["default_cache"])
