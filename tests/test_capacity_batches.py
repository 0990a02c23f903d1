"""Batched inserts count once per batch both as row writes and as connections in flight."""

from __future__ import annotations

import pytest

from dbarch.design.ceilings import scaling_data
from dbarch.design.scaling import capacity_model
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec


def _core(append_only: bool, rate: str) -> tuple[float, float, int]:
    spec = Spec.model_validate({
        "system": "m",
        "entities": {"Sample": {"volume": "1M", "append_only": append_only,
                                "attributes": {"value": "float"}}},
        "access_patterns": [{"name": "ingest", "kind": "write", "touches": ["Sample"],
                             "operation": "insert", "rate": rate}],
    })
    decisions = Decisions(system="m", parts=[Decision(
        part="core", entities=["Sample"], paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])
    now = capacity_model(spec, decisions, None).part("core").point("now")
    return now.write_rate, now.in_flight, now.connections


# (append-only, rate, statements per second the server sees)
CASES = [
    (True, "20k/s", 20_000 / 10),
    (False, "20k/s", 20_000),
    (True, "100/s", 100 / 10),
]


@pytest.mark.parametrize(("append_only", "rate", "statements"), CASES)
def test_connections_follow_the_statements_not_the_rows(
    append_only: bool, rate: str, statements: float
) -> None:
    data = scaling_data()
    writes, in_flight, connections = _core(append_only, rate)
    assert data["append_batch_factor"] == 10
    assert writes == pytest.approx(statements)
    assert in_flight == pytest.approx(statements * data["service_time_seconds"]["write"])
    assert connections == pytest.approx(in_flight * data["pool_overprovision"], abs=1)
