"""The packages' knowledge files read the same under YAML 1.1 (the fast loader) and YAML 1.2."""

from __future__ import annotations

from importlib import resources

import pytest
from ruamel.yaml import YAML

from dbarch.data_files import PACKAGES, package_data
from dbarch.lint.data_files import data_file

FILES = sorted((package, p.name) for package in PACKAGES
               for p in resources.files(package).joinpath("data").iterdir()
               if p.name.endswith(".yaml"))


def test_there_are_knowledge_files() -> None:
    assert ("dbarch.lint", "statement_locks.yaml") in FILES
    assert {package for package, _ in FILES} == set(PACKAGES)


@pytest.mark.parametrize(("package", "name"), FILES)
def test_fast_loader_agrees_with_yaml_1_2(package: str, name: str) -> None:
    # A bare `on:` key is the boolean True in YAML 1.1: the lock table's DROP TRIGGER entry
    # once lost its "on: parent" that way.
    text = resources.files(package).joinpath("data", name).read_text(encoding="utf-8")
    assert package_data(package, name) == YAML(typ="safe").load(text)


def test_the_lint_reads_its_files_through_the_shared_loader() -> None:
    assert data_file("locks.yaml") is package_data("dbarch.lint", "locks.yaml")
