"""The verification tuning: sample sizes and shapes, parameter choice, from `data/verify.yaml`.

The numbers live in the data file with the reason (or the measurement) behind each; this module
only gives them types.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from dbarch.data_files import load_yaml


class SampleTuning(BaseModel):
    """How many sample rows each table gets and how they are distributed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_rows: int
    min_rows: int
    min_other_rows: int
    fk_skew: float
    min_parents: int
    null_share: float
    self_reference_null_share: float
    value_skew: float
    max_attempts: int


class ParamTuning(BaseModel):
    """How parameter values are drawn from the sample for each filter."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    range_share_alone: float
    range_share_within: float
    prefix_length: int
    in_list_length: int
    pages: int


class JudgeTuning(BaseModel):
    """How a plan is judged (`judge` in verify.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    small_partition_rows: int


class VerifyTuning(BaseModel):
    """Everything in verify.yaml, typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sample: SampleTuning
    params: ParamTuning
    judge: JudgeTuning


@cache
def verify_tuning() -> VerifyTuning:
    """The tuning in `data/verify.yaml` (loaded once)."""
    return VerifyTuning.model_validate(load_yaml("verify.yaml"))
