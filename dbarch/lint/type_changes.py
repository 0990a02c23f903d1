"""The column type changes PostgreSQL makes without a rewrite, read from data/type_changes.yaml.

One loader for the two readers: lint rule L306 (which also takes the UTC zone names from it)
and the migration planner (dbarch/migrate/type_changes.py), so both judge from the same list.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dbarch.lint.data_files import data_file


@cache
def type_changes() -> dict[str, Any]:
    """The no-rewrite type changes and the UTC zones, from data/type_changes.yaml."""
    return data_file("type_changes.yaml")
