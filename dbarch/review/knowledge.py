"""dbarch/review/data/review.yaml, the review's limits and thresholds, parsed once."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def knowledge() -> dict[str, Any]:
    """The mapping in review.yaml; callers must not mutate it (it is shared)."""
    import yaml

    text = resources.files("dbarch.review").joinpath("data", "review.yaml").read_text(
        encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(text, Loader=loader))
