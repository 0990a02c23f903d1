"""The selection tuning: signal weights, thresholds and costs, loaded from `data/selection.yaml`.

The numbers live in the data file next to their sources; this module only gives them types.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from dbarch.data_files import load_yaml
from dbarch.select.model import Paradigm


class Costs(BaseModel):
    """Operational cost of one more database, in score points."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    new_product: float
    new_product_self_hosted: float
    existing_product: float
    extension_of_primary: float
    same_product: float
    serverless: float
    blob_store: float
    marginal: float


class CloudBonus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    first_party: float
    third_party: float


class Tuning(BaseModel):
    """Everything in selection.yaml, typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cost: Costs
    fit_scale: float
    latency_penalty: float
    cloud_bonus: CloudBonus
    weights: dict[str, Any]
    requires: dict[str, list[str]]
    availability_needs_failover: float
    type_bytes: dict[str, int]
    row_overhead_bytes: int
    builtin_bytes: int
    reference_bytes: int
    index_factor: float
    part_names: dict[Paradigm, str]

    def weight(self, signal: str) -> dict[Paradigm, float]:
        """The per-paradigm weights of `signal`."""
        return {Paradigm(k): float(v) for k, v in self.weights[signal].items()}

    def number(self, name: str) -> float:
        """A scalar setting under `weights:` (a cap, a default)."""
        return float(self.weights[name])

    def ramp(self, name: str, value: float) -> float:
        """0..1: where `value` sits on the `[start, full]` ramp `name`, linear in log10."""
        start, full = (float(x) for x in self.weights[name])
        if value <= start:
            return 0.0
        if value >= full:
            return 1.0
        return (math.log10(value) - math.log10(start)) / (math.log10(full) - math.log10(start))

    def ramp_bounds(self, name: str) -> tuple[float, float]:
        """The `[start, full]` of ramp `name`, for evidence text."""
        start, full = self.weights[name]
        return float(start), float(full)


@cache
def tuning() -> Tuning:
    """The tuning in `data/selection.yaml`."""
    return Tuning.model_validate(load_yaml("selection.yaml"))
