"""Rows pinned to a home region are not copied to the other regions by the multi-region step."""

from __future__ import annotations

from typing import Any

import pytest

from dbarch.design.scaling import capacity_model
from dbarch.select.model import Decision, Decisions, Paradigm
from dbarch.spec.model import Spec

TENANT = {"volume": "1k", "attributes": {"name": "string"}}
HOMED = {"volume": "1k", "attributes": {
    "name": "string", "home_region": {"type": "enum", "values": ["eu-central-1", "us-east-1"]}}}


def _step(tenant: dict[str, Any], regions: list[str]) -> tuple[str, list[str]]:
    spec = Spec.model_validate({"system": "s", "entities": {"Tenant": tenant},
                                "access_patterns": [], "scale": {"regions": regions}})
    decisions = Decisions(system="s", parts=[Decision(
        part="core", entities=["Tenant"], paradigm=Paradigm.relational,
        product="postgresql", product_name="PostgreSQL")])
    step = next(s for s in capacity_model(spec, decisions, None).steps
                if s.key == "multi_region")
    return step.action, step.notes


# (Tenant, regions, the action's opening words, whether a residency note is given)
CASES = [
    (HOMED, ["eu-central-1", "us-east-1"], "Run one primary per region", True),
    (TENANT, ["eu-central-1", "us-east-1"], "Use a cross-region streaming replica", False),
    (HOMED, ["eu-central-1"], "Use a cross-region streaming replica", False),
]


@pytest.mark.parametrize(("tenant", "regions", "action", "noted"), CASES)
def test_a_home_region_field_keeps_rows_in_their_region(
    tenant: dict[str, Any], regions: list[str], action: str, noted: bool
) -> None:
    text, notes = _step(tenant, regions)
    assert text.startswith(action)
    assert any("Tenant.home_region pins rows to a region" in n for n in notes) == noted
