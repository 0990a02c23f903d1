"""What the advisor asks of a planner, so selection stays pure and testable without a server.

`dbarch.engines.whatif.HypoPGOracle` answers on a real PostgreSQL with hypothetical indexes;
tests of the selection logic use a small table-driven oracle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.query import Query


@dataclass(frozen=True)
class Estimate:
    """The planner's answer for one query under one index configuration."""

    cost: float  # total cost of the plan's top node
    used: frozenset[IndexCandidate]  # the hypothetical indexes the plan reads
    existing: frozenset[str] = frozenset()  # the real indexes it reads, by bare name


class CandidateRefused(Exception):
    """The planner cannot consider this candidate at all (HypoPG refused to create it: say,
    an expression that is not IMMUTABLE); the advisor drops it with the reason."""

    def __init__(self, candidate: IndexCandidate, reason: str) -> None:
        super().__init__(f"{candidate}: {reason}")
        self.candidate = candidate
        self.reason = reason


class CostOracle(Protocol):
    """Planner costs under hypothetical index configurations."""

    calls: int
    """What-if planner calls made so far (cache misses only)."""

    def estimate(self, query: Query, config: Iterable[IndexCandidate]) -> Estimate:
        """Plan `query` as if exactly the existing indexes plus `config` existed."""
        ...

    def size(self, candidate: IndexCandidate) -> int:
        """The candidate's estimated size on disk, in bytes."""
        ...
