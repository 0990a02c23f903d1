"""The acceptance: every read access pattern of every example is served by its designed index,
on SQLite, PostgreSQL and MariaDB, with sample data sized like production's fan-out."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbarch import api
from dbarch.verify.run import verify

EXAMPLES = sorted(Path(__file__).resolve().parent.parent.joinpath("examples").glob("*.yaml"))


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_verifies(example: Path, engine_url: str) -> None:
    design = api.plan(example)
    assert design.relational.queries, f"{example.name}: the design has no read access queries"
    report = verify(design.relational, api.render_ddls(design), [engine_url], spec=design.spec)
    (engine,) = report.engines
    assert engine.error is None, engine.error
    failures = [f"{c.pattern}: {c.problem}" for c in engine.checks if not c.ok]
    assert failures == [], f"{example.name} on {engine.engine}"
