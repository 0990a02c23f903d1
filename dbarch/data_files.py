"""The knowledge files a package keeps beside its code (`<package>/data/*.yaml`), each parsed
once per process.

They are read with PyYAML's C loader: `dbarch lint` starts in a fraction of a second, and the
pure-Python YAML loaders spent a third of that on its files. PyYAML speaks YAML 1.1, where a
bare `on`, `off`, `yes` or `no` is a boolean; the files quote such words, and
tests/test_data_files.py checks that every file read here reads the same under YAML 1.2
(ruamel), so the trap cannot come back unseen.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

PACKAGES = ("dbarch", "dbarch.lint", "dbarch.review", "dbarch.shard", "dbarch.advisor")
"""The packages whose data files are read through here (the test checks each one's files)."""


@cache
def package_data(package: str, name: str) -> dict[str, Any]:
    """The mapping in `<package>/data/<name>`; callers must not mutate it (it is shared)."""
    import yaml

    text = resources.files(package).joinpath("data", name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # no libyaml: slower, same result
    return dict(yaml.load(text, Loader=loader))


def load_yaml(name: str) -> dict[str, Any]:
    """The mapping in `dbarch/data/<name>`, the designer's and the selector's knowledge
    (products, types, design rules …); callers must not mutate it (it is shared)."""
    return package_data("dbarch", name)
