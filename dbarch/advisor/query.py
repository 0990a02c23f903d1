"""A workload query: one normalized shape, how much it counts, and where it was seen."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Query:
    """One query shape of the workload.

    `sql` is an executable representative: the first text seen for the shape, literals kept
    when the source had them, `$n` placeholders when it came from pg_stat_statements (then
    `parameters` says how many, and the what-if oracle plans it generically).
    `fingerprint` is pglast's fingerprint, suffixed with the lengths of its IN lists (see
    sqlshape.in_list_shape): queries that differ only in constants share it.
    `weight` is how much the shape counts: its frequency (`-- weight: N` in a file, calls in
    pg_stat_statements, occurrences in a log). `kind` is select, insert, update or delete;
    writes count against every index on the table they change.
    `tables` are the relations it reads or writes, schema-qualified when the SQL qualifies
    them (else bare, resolved against the schema by the candidate generator).
    """

    sql: str
    fingerprint: str
    weight: float = 1.0
    kind: str = "select"
    parameters: int = 0
    tables: tuple[str, ...] = ()
    sources: list[str] = field(default_factory=list)
    mean_ms: float | None = None  # from statistics or a log, when known
    mean_rows: float | None = None  # rows a call returned, from statistics, when known
    label: str = ""  # a short name for reports: `q3`, `queries.sql:12`

    @property
    def is_write(self) -> bool:
        return self.kind in ("insert", "update", "delete")
