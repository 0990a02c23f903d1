"""The lint's knowledge files (dbarch/lint/data/*.yaml), each parsed once per process."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def data_file(name: str) -> dict[str, Any]:
    """The mapping in dbarch/lint/data/`name`; callers must not mutate it (it is shared)."""
    from ruamel.yaml import YAML

    text = resources.files("dbarch.lint").joinpath("data", name).read_text(encoding="utf-8")
    return dict(YAML(typ="safe").load(text))
