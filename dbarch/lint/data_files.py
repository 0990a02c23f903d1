"""The lint's knowledge files (dbarch/lint/data/*.yaml), through the shared loader."""

from __future__ import annotations

from typing import Any

from dbarch.data_files import package_data


def data_file(name: str) -> dict[str, Any]:
    """The mapping in dbarch/lint/data/`name`; callers must not mutate it (it is shared)."""
    return package_data("dbarch.lint", name)
