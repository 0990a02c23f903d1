"""dbarch/review/data/review.yaml, the review's limits and thresholds, parsed once."""

from __future__ import annotations

from typing import Any

from dbarch.data_files import package_data


def knowledge() -> dict[str, Any]:
    """The mapping in review.yaml; callers must not mutate it (it is shared)."""
    return package_data("dbarch.review", "review.yaml")
