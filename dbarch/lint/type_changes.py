"""The column type changes PostgreSQL makes without a rewrite, read from data/type_changes.yaml.

One loader for the two readers: lint rule L306 (which also takes the UTC zone names from it)
and the migration planner (dbarch/migrate/type_changes.py), so both judge from the same list.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from ruamel.yaml import YAML


@cache
def type_changes() -> dict[str, Any]:
    """The no-rewrite type changes and the UTC zones, from data/type_changes.yaml."""
    text = resources.files("dbarch.lint").joinpath("data/type_changes.yaml").read_text()
    return dict(YAML(typ="safe").load(text))
