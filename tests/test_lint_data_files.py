"""The lint's knowledge files read the same under YAML 1.1 (the fast loader) and YAML 1.2."""

from __future__ import annotations

from importlib import resources

import pytest
from ruamel.yaml import YAML

from dbarch.lint.data_files import data_file

FILES = sorted(p.name for p in resources.files("dbarch.lint").joinpath("data").iterdir()
               if p.name.endswith(".yaml"))


def test_there_are_knowledge_files() -> None:
    assert "statement_locks.yaml" in FILES and len(FILES) >= 5


@pytest.mark.parametrize("name", FILES)
def test_fast_loader_agrees_with_yaml_1_2(name: str) -> None:
    # A bare `on:` key is the boolean True in YAML 1.1: the lock table's DROP TRIGGER entry
    # once lost its "on: parent" that way.
    text = resources.files("dbarch.lint").joinpath("data", name).read_text(encoding="utf-8")
    assert data_file(name) == YAML(typ="safe").load(text)
