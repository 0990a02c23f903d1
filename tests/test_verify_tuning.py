"""The verification tuning in dbarch/data/verify.yaml: typed, and every number says why."""

from __future__ import annotations

from importlib.resources import files

import pytest
from ruamel.yaml import YAML

from dbarch.verify import params, sample
from dbarch.verify.tuning import verify_tuning


def _lines() -> list[str]:
    return files("dbarch").joinpath("data/verify.yaml").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("section", ["sample", "params"])
def test_every_setting_has_a_comment_saying_why(section: str) -> None:
    data = YAML(typ="safe").load("\n".join(_lines()))
    lines = _lines()
    for key in data[section]:
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:"))
        assert lines[at - 1].strip().startswith("#"), f"{section}.{key} has no comment above it"


def test_the_modules_use_the_loaded_values() -> None:
    tuning = verify_tuning()
    assert tuning.sample.min_rows == sample.MIN_ROWS
    assert tuning.sample.max_rows == sample.MAX_ROWS
    assert sample.MIN_ROWS < sample.MAX_ROWS
    assert params._TUNING is tuning.params
    # Loaded once: the same object on every call.
    assert verify_tuning() is tuning
