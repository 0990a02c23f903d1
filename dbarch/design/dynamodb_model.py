"""What every part of the DynamoDB designer shares: the facts of `dbarch/data/dynamodb.yaml`,
the plan of each item type (`EntityPlan`), the key a read needs (`Shape`), and the designer's
state (`DesignerState`: the spec, the decision, the plans, patterns, writes and findings).

The designer's steps are mixins over this one state, one module per step (dynamodb_shapes,
dynamodb_entities, dynamodb_patterns, dynamodb_capacity), so each can be read on its own;
`dynamodb._Designer` puts them together and runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from dbarch.data_files import load_yaml
from dbarch.design.capacity import PatternLoad, pattern_loads
from dbarch.design.parts import PartFinding
from dbarch.select.model import Decision, Decisions
from dbarch.spec.model import Relationship, Spec


@cache
def dynamodb_data() -> dict[str, Any]:
    """The parsed `dbarch/data/dynamodb.yaml`."""
    data: dict[str, Any] = load_yaml("dynamodb.yaml")
    return data


def _num(section: str, name: str) -> float:
    item = dynamodb_data()[section][name]
    return float(item["value"] if isinstance(item, dict) else item)


def _source(section: str, name: str) -> str:
    return str(dynamodb_data()[section][name]["source"])


@dataclass
class Shape:
    """The key a read needs: partition fields, sort fields, and how the pattern uses them."""

    pk: list[str]
    sk: list[str]
    sk_eq: int = 0                     # leading sort fields fixed by equality
    range_field: str | None = None     # the sort field a range or prefix applies to
    range_op: str | None = None
    in_fields: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    client_sort: bool = False
    order: str | None = None
    desc: bool = False

    @property
    def used_sk(self) -> list[str]:
        """The sort fields the key condition or the order reads (the id tail excluded)."""
        n = self.sk_eq + (1 if self.range_field or self.order_in_key else 0)
        return self.sk[:n]

    @property
    def order_in_key(self) -> bool:
        return bool(self.order) and not self.client_sort and self.order in self.sk


@dataclass
class EntityPlan:
    """One item type of the table: an entity, or the edge items of a many-to-many link."""

    name: str
    prefix: str
    fields: dict[str, str]
    enums: dict[str, list[str]]
    refs: dict[str, str]
    volume_now: int
    volume_horizon: int
    record_bytes: int
    ttl: float | None = None
    edge_of: tuple[str, str] | None = None
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_pk: list[str] = field(default_factory=list)
    base_sk: list[str] = field(default_factory=list)
    slots: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = field(default_factory=dict)
    item_bytes: int = 0
    optional: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)


class DesignerState:
    """The designer's state: what it reads, and the plans, patterns and findings it fills."""

    def __init__(self, spec: Spec, decision: Decision) -> None:
        self.spec = spec
        self.decision = decision
        self.entities: dict[str, EntityPlan] = {}
        self.findings: list[PartFinding] = []
        self.patterns: list[dict[str, Any]] = []
        self.writes: list[dict[str, Any]] = []
        self.edges: dict[str, Relationship] = {}
        self.loads: dict[str, PatternLoad] = {
            ld.name: ld for ld in pattern_loads(
                spec, [decision], Decisions(system=spec.system, parts=[decision]))}
        self.table = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{spec.system}_{decision.part}")
