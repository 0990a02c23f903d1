"""What verification found: per engine, whether the DDL applied and how each pattern ran."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dbarch.verify.parts import PartCheck


class PatternCheck(BaseModel):
    """One read access pattern run on a loaded database."""

    pattern: str
    sql: str
    expected_index: str | None
    used_indexes: list[str] = Field(default_factory=list)
    access_path: str = Field("", description="Short plan summary: 'Index Scan using …'")
    cost: float | None = Field(None, description="Planner cost where the engine reports one")
    rows: int | None = Field(None, description="Rows returned")
    ok: bool
    problem: str | None = None
    estimated_rows: int | None = Field(None, description="The planner's row estimate")
    sorted_by_engine: bool | None = Field(
        None,
        description="For a pattern with ORDER BY: whether the engine sorted the rows itself "
        "(Sort, filesort, temp B-tree) instead of reading them in index order. A fact, not "
        "part of ok: with a page's worth of rows or fewer, sorting is what a planner should do.",
    )
    index_usable: bool | None = Field(
        None,
        description="For a failing check on PostgreSQL: whether the designed index serves the "
        "query when sequential scans are disabled. A diagnostic fact, never counted as ok.",
    )
    forced_access_path: str = Field("", description="The plan with sequential scans disabled")
    designed_cost: float | None = Field(
        None,
        description="When the planner chose another index (PostgreSQL): the cost of the plan "
        "with that index dropped, to compare with `cost`. A diagnostic, never counted as ok.",
    )


class AdvisedPattern(BaseModel):
    """One access pattern a recommended index serves, with its planner cost before → after."""

    pattern: str
    cost_before: float
    cost_after: float


class AdvisedIndex(BaseModel):
    """An index the advisor would add to the design."""

    table: str
    statement: str = Field(description="CREATE INDEX CONCURRENTLY …;")
    size_bytes: int = Field(0, description="HypoPG's size estimate on the sample rows")
    patterns: list[AdvisedPattern] = Field(default_factory=list)


class IdleIndex(BaseModel):
    """A designed index that no access pattern's plan reads."""

    index: str = Field(description="Its name, without the run's throwaway schema")
    reason: str = Field(description="unused, redundant or duplicate (the advisor's judgement)")
    detail: str = ""
    designed_for: str = Field(
        "", description="The design's own reason for it (a foreign key, a purge), if any"
    )


class AdvisorCheck(BaseModel):
    """The index advisor (`dbarch indexes`' engine) run over the access patterns as the
    workload, on the sample rows. Evidence beside the checks, never part of ok."""

    add: list[AdvisedIndex] = Field(default_factory=list)
    idle: list[IdleIndex] = Field(default_factory=list)
    patterns: int = Field(0, description="Access patterns the advisor planned")
    cost_before: float | None = Field(None, description="Weighted planner cost as designed")
    cost_after: float | None = Field(None, description="… with the advised indexes added")
    relative_cost: float | None = Field(None, description="cost_after / cost_before")
    whatif_calls: int = 0
    candidates: int = Field(0, description="Candidate indexes the what-if search priced")
    min_gain_share: float = Field(
        0.0, description="The share of the workload's cost an index must save to be advised"
    )
    notices: list[str] = Field(
        default_factory=list, description="Patterns left out of the workload, and why"
    )
    note: str | None = Field(
        None, description="Why the advisor did not run (HypoPG not available, an error)"
    )


class EngineReport(BaseModel):
    engine: str = Field(description="sqlite, postgresql, mariadb")
    url: str = Field(description="Where it ran, password removed")
    version: str = ""
    namespace: str | None = Field(
        None, description="The throwaway schema/database/file the run used (dropped unless kept)"
    )
    applied: bool
    error: str | None = None
    tables: int = 0
    rows_loaded: int = 0
    checks: list[PatternCheck] = Field(default_factory=list)
    advisor: AdvisorCheck | None = Field(
        None, description="PostgreSQL only: what the index advisor says of the designed indexes"
    )

    @property
    def ok(self) -> bool:
        return self.applied and self.error is None and all(c.ok for c in self.checks)


class VerifyReport(BaseModel):
    engines: list[EngineReport]
    parts: list[PartCheck] = Field(
        default_factory=list,
        description="The non-relational parts, each on an engine of its kind (or not run, "
        "saying why: a part left unverified never counts as passed, nor as failed)")

    @property
    def ok(self) -> bool:
        return (bool(self.engines) and all(e.ok for e in self.engines)
                and all(p.ok for p in self.parts if p.ran))
