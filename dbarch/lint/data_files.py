"""The lint's knowledge files (dbarch/lint/data/*.yaml), each parsed once per process.

They are read with PyYAML's C loader: a lint run starts in a fraction of a second, and the
pure-Python YAML loaders spent a third of that on these files. PyYAML speaks YAML 1.1, where
a bare `on`, `off`, `yes` or `no` is a boolean; the files quote such words, and a test checks
that every file reads the same under YAML 1.2 (ruamel), so the trap cannot come back unseen.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def data_file(name: str) -> dict[str, Any]:
    """The mapping in dbarch/lint/data/`name`; callers must not mutate it (it is shared)."""
    import yaml

    text = resources.files("dbarch.lint").joinpath("data", name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # no libyaml: slower, same result
    return dict(yaml.load(text, Loader=loader))
