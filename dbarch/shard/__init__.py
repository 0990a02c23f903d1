"""`dbarch shard`: choose a shard key for a live table from its data and its workload.

Pure: the statistics come from dbarch/engines/shard_stats.py (SQL aggregates run in the
database); this package proposes candidate keys, routes the workload's queries, scores and
ranks the keys, and writes the configuration for Citus, Vitess and MongoDB.
"""

from __future__ import annotations

from typing import Any


def shard_data() -> dict[str, Any]:
    """The parsed `dbarch/shard/data/shard.yaml`: thresholds, with their sources."""
    from dbarch.data_files import package_data

    return package_data("dbarch.shard", "shard.yaml")
