"""The non-relational parts of a design: one designer per paradigm, one shape for all of them.

`dbarch recommend` may place part of a workload outside the relational store (sessions in
Redis, telemetry in a time-series store, a follow graph in a graph database). Each paradigm's
designer (a module of this package, registered in DESIGNERS) turns that part of the spec into
a `PartDesign`: the files it writes under OUT/ (key schemas, validators, table definitions,
Cypher), the Markdown section ARCHITECTURE.md shows under the part's heading, the findings
where the spec asks for something the engine cannot do, and its own model as plain data so
`dbarch verify` can reload it. Designers are pure; their verifiers live in dbarch/verify/.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from dbarch.select.model import Decision, Decisions
from dbarch.spec.model import Spec

# paradigm (as dbarch.select.model.Paradigm spells it) → "module:function" of its designer.
# A paradigm with no entry keeps what the document already says of it (sizes, the product
# and why), and no artifact. A product id may have its own entry where one paradigm has
# products of different designs (DynamoDB is key-value like Redis); it wins over the paradigm.
DESIGNERS: dict[str, str] = {
    "time-series": "dbarch.design.timeseries:design_part",
    "document": "dbarch.design.document:design_part",
    "dynamodb": "dbarch.design.dynamodb:design_part",
    "graph": "dbarch.design.graph:design_part",
    "key-value": "dbarch.design.keyvalue:design_part",
}


class PartFinding(BaseModel):
    """Something the spec asks of this part that its engine cannot do, or can only with care."""

    severity: Literal["info", "warning", "error"] = "warning"
    message: str
    pattern: str | None = Field(None, description="The access pattern concerned, if one")


class PartDesign(BaseModel):
    """One non-relational part, designed."""

    part: str
    paradigm: str
    product: str
    summary: str = Field("", description="One paragraph: what was designed and why")
    section: str = Field("", description="Markdown for the part's subsection of §3")
    artifacts: dict[str, str] = Field(default_factory=dict,
                                      description="OUT-relative path → file text")
    findings: list[PartFinding] = Field(default_factory=list)
    model: dict[str, Any] = Field(default_factory=dict,
                                  description="The paradigm's design as data, for verify")


Designer = Callable[[Spec, Decision], PartDesign]


def designer_for(paradigm: str) -> Designer | None:
    """The registered designer of a paradigm, imported on first use."""
    target = DESIGNERS.get(paradigm)
    if target is None:
        return None
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def design_parts(spec: Spec, decisions: Decisions) -> list[PartDesign]:
    """A PartDesign for every non-relational part whose paradigm has a designer."""
    designs = []
    for decision in decisions.parts:
        if decision.paradigm.value == "relational":
            continue
        design = designer_for(decision.product) or designer_for(decision.paradigm.value)
        if design is not None:
            designs.append(design(spec, decision))
    return designs
