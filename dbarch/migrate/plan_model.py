"""The plan's data: its phases, each step with its statements and their rollback, the options it
is written with, and the plan as a whole.

Apart from the planner because what reads a plan (its files and PLAN.md in output.py, the JSON,
the API, the tests) needs these classes and not the recipes that fill them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dbarch.migrate.ops import Operation
from dbarch.migrate.statements import Sql


class PhaseName(StrEnum):
    expand = "expand"
    backfill = "backfill"
    switch = "switch"
    validate = "validate"
    contract = "contract"


PHASES = list(PhaseName)


@dataclass
class PlanOptions:
    """How the plan is written."""

    dialect: str = "postgresql"
    pg_version: int = 15
    batch_size: int = 1000
    pause: float = 0.1  # seconds between backfill batches
    lock_timeout: str = "5s"


@dataclass
class Step:
    """Statements that do one thing, and the statements that undo them."""

    phase: PhaseName
    rank: int
    title: str
    forward: list[Sql]
    backward: list[Sql] = field(default_factory=list)
    operation: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "operation": self.operation,
            "sql": [s.as_dict() for s in self.forward],
            "rollback": [s.as_dict() for s in self.backward],
        }


@dataclass
class Phase:
    """One phase: its steps in order, and what the application must do at this point."""

    name: PhaseName
    steps: list[Step] = field(default_factory=list)
    app: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.steps and not self.app

    def statements(self) -> list[Sql]:
        return [s for step in self.steps for s in step.forward]

    def rollback_statements(self) -> list[Sql]:
        return [s for step in reversed(self.steps) for s in step.backward]


@dataclass
class MigrationPlan:
    """The whole plan: what changes, in which phases, and what the plan could not cover."""

    source: str
    target: str
    options: PlanOptions
    operations: list[Operation]
    phases: list[Phase]
    notes: list[str] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what reading the schemas skipped

    @property
    def dialect(self) -> str:
        return self.options.dialect

    def phase(self, name: PhaseName) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def active_phases(self) -> list[Phase]:
        """The phases with something to run or ship, in order."""
        return [p for p in self.phases if not p.empty]
