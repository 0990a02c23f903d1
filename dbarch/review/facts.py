"""What a live database's catalog tells beyond the Schema model: row counts, column statistics,
sequences, index usage. Pure values: dbarch/engines/review_facts.py fills them from a server,
tests build them by hand.

`provides` says which kinds of fact the source has; a rule that needs a kind that is missing is
not run and is listed with the reason (`unavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.advisor.existing import ExistingIndex

ROWS = "rows"
COLUMN_STATS = "column_stats"
SEQUENCES = "sequences"
INDEX_USAGE = "index_usage"
KINDS = (ROWS, COLUMN_STATS, SEQUENCES, INDEX_USAGE)

NEEDS_LIVE = "needs a live database (the DDL says nothing about the data)"


@dataclass(frozen=True)
class ColumnStats:
    """A column's statistics: share of NULLs, distinct values (a count), the commonest values."""

    null_frac: float | None = None
    n_distinct: float | None = None
    common_values: tuple[str, ...] = ()


@dataclass
class TableFacts:
    """One table: rows (estimate or count), total bytes, statistics and how often it is read.

    `stats_rows` is how many rows the column statistics describe (the table's rows for
    PostgreSQL's pg_stats, the sample's for a sampled engine); 0 when there are none.
    `reads` is sequential + index scans since statistics began (None: not kept).
    """

    rows: int = 0
    bytes: int = 0
    stats_rows: int = 0
    reads: int | None = None
    columns: dict[str, ColumnStats] = field(default_factory=dict)


@dataclass(frozen=True)
class SequenceFacts:
    """The value a key column's generator has reached (a sequence, AUTO_INCREMENT)."""

    table: str
    column: str
    last_value: int
    sequence: str | None = None  # PostgreSQL: the sequence's qualified name


@dataclass
class Facts:
    """Everything the catalog told, and which kinds of fact it could tell."""

    source: str = ""
    provides: frozenset[str] = frozenset()
    unavailable: dict[str, str] = field(default_factory=dict)  # kind → why not
    tables: dict[str, TableFacts] = field(default_factory=dict)
    sequences: list[SequenceFacts] = field(default_factory=list)
    indexes: list[ExistingIndex] | None = None  # PostgreSQL's, with scans and sizes
    sampled: int | None = None  # column statistics from the first N rows of each table

    def why_missing(self, kind: str) -> str:
        """Why `kind` is not available from this source."""
        return self.unavailable.get(kind, f"{self.source or 'this source'} does not tell {kind}")
