"""Decisions: which database serves which part of the workload, and why."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Paradigm(StrEnum):
    relational = "relational"
    document = "document"
    key_value = "key-value"
    graph = "graph"
    time_series = "time-series"
    search = "search"
    blob = "blob"


class Signal(BaseModel):
    """One fact read from the spec that pushes a paradigm's score up or down."""

    name: str = Field(description="Stable id, e.g. multi_entity_transaction")
    weight: float = Field(description="Contribution to the paradigm's score (may be negative)")
    evidence: str = Field(description="The fact, with numbers: 'place_order writes 3 entities'")


class ParadigmScore(BaseModel):
    paradigm: Paradigm
    score: float
    signals: list[Signal] = Field(default_factory=list)


class Rejected(BaseModel):
    """An alternative that was considered and not chosen."""

    product: str
    paradigm: Paradigm
    reason: str


class Decision(BaseModel):
    """The database for one part of the workload."""

    part: str = Field(description="A short name for this part: core, sessions, telemetry …")
    entities: list[str]
    patterns: list[str] = Field(default_factory=list, description="Access patterns it serves")
    paradigm: Paradigm
    product: str = Field(description="Catalogue id: postgresql, redis, …")
    product_name: str = Field(description="Display name: PostgreSQL, Redis, …")
    scores: list[ParadigmScore] = Field(default_factory=list, description="Best first")
    reasons: list[str] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)
    tradeoff: str = Field("", description="Consistency vs availability vs latency, named")
    split_gain: float = Field(0.0, description="Score gained by a dedicated store for this part")
    split_cost: float = Field(0.0, description="Operational cost of one more database")
    offering: str = Field(
        "", description="How it runs: the managed service on the spec's cloud, or self-hosted"
    )
    projection_of: str | None = Field(
        None,
        description="For a search index, object store or graph projection: the part that keeps "
        "the records of truth of these entities (they are listed in both parts)",
    )
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="For a projection: entity → the fields it holds (searched text and filters, "
        "blob attributes, traversed relationships); empty when the part holds whole entities",
    )
    in_primary_schema: bool = Field(
        False,
        description="Its entities are tables in the primary relational database: the primary "
        "itself, or a part on the same product or an extension of it (time-series partitions "
        "in PostgreSQL, a TimescaleDB hypertable)",
    )


class Decisions(BaseModel):
    """Every part of a system's workload with its database; parts[0] is the primary store."""

    system: str
    parts: list[Decision]
    notes: list[str] = Field(default_factory=list, description="Consolidation and such, in words")

    def part_of(self, entity: str) -> Decision:
        for p in self.parts:
            if entity in p.entities:
                return p
        raise KeyError(entity)

    @property
    def relational_entities(self) -> list[str]:
        """Entities stored as tables of the primary relational database, once each."""
        return list(dict.fromkeys(
            e for p in self.parts
            if p.in_primary_schema or p.paradigm == Paradigm.relational
            for e in p.entities
        ))
