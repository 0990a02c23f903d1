"""Existing indexes judged: which ones can go (duplicate, redundant, unused) and what that frees.

Pure: the indexes come in as `ExistingIndex` values, read from a live PostgreSQL by
`dbarch.engines.index_catalog.fetch_indexes` (or built by hand in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dbarch.advisor.candidate import quote


@dataclass(frozen=True)
class ExistingIndex:
    """One index as the catalog describes it.

    `name` and `table` are schema-qualified (`public.orders_pkey`, `public.orders`). `keys` use
    the same spelling as `IndexCandidate.keys`: a column name as the catalog spells it, or an
    expression in parentheses, followed by a non-default operator class or collation and
    ` DESC` where the index has them, so two keys compare equal only when they sort alike.
    `constraint` names the PRIMARY KEY, UNIQUE or EXCLUDE constraint the index backs.
    `idx_scan` is None when the server keeps no count for it (a partitioned parent index);
    `stats_since` is when the database's statistics were last reset (None: never reset).
    `oid` orders indexes by age: a smaller one was created earlier (barring OID wraparound).
    """

    name: str
    table: str
    keys: tuple[str, ...]
    include: tuple[str, ...] = ()
    unique: bool = False
    primary: bool = False
    constraint: str | None = None
    predicate: str | None = None
    method: str = "btree"
    size_bytes: int = 0
    idx_scan: int | None = None
    stats_since: datetime | None = None
    valid: bool = True
    partitioned: bool = False  # the parent index of a partitioned table
    oid: int = 0

    @property
    def enforces(self) -> bool:
        """Whether dropping it would drop a rule the data obeys (uniqueness, a constraint)."""
        return self.unique or self.primary or self.constraint is not None

    @property
    def shape(self) -> tuple[object, ...]:
        """What makes two indexes interchangeable: the same lookups, the same covered columns."""
        return (self.table, self.method, self.keys, self.predicate, tuple(sorted(self.include)))

    def covers(self, other: ExistingIndex) -> bool:
        """Whether this B-tree serves every lookup `other` serves: `other`'s keys are a left
        prefix of this one's, on the same table and predicate, and `other`'s INCLUDE columns are
        among this one's columns (so its index-only scans stay index-only)."""
        if self.method != "btree" or other.method != "btree" or not self.valid:
            return False
        if (self.table, self.predicate) != (other.table, other.predicate):
            return False
        if self.keys[: len(other.keys)] != other.keys:
            return False
        return set(other.include) <= set(self.keys) | set(self.include)


@dataclass(frozen=True)
class DropCandidate:
    """An existing index that could be dropped, why, and the statement that drops it."""

    index: ExistingIndex
    reason: str  # duplicate | redundant | unused
    detail: str  # one sentence for the report
    other: ExistingIndex | None = None  # the index it duplicates or that covers it
    frees_bytes: int = 0

    @property
    def statement(self) -> str:
        """DROP INDEX CONCURRENTLY (no write lock held while it runs); an index that backs a
        constraint goes with its constraint instead, which briefly locks the table."""
        index = self.index
        if index.constraint is not None:
            return (f"ALTER TABLE {_qualified(index.table)} "
                    f"DROP CONSTRAINT {quote(index.constraint)}")
        # A partitioned parent index cannot be dropped concurrently (PostgreSQL refuses).
        concurrently = "" if index.partitioned else "CONCURRENTLY "
        return f"DROP INDEX {concurrently}{_qualified(index.name)}"

    def as_dict(self) -> dict[str, object]:
        """The drop candidate as plain data, for `--format json`."""
        return {
            "index": self.index.name,
            "table": self.index.table,
            "reason": self.reason,
            "detail": self.detail,
            "other": self.other.name if self.other else None,
            "frees_bytes": self.frees_bytes,
            "statement": self.statement,
        }


def judge(indexes: Iterable[ExistingIndex],
          in_use: Iterable[str] = ()) -> list[DropCandidate]:
    """The indexes that can go, each once, by the first reason that holds: duplicate, then
    redundant, then unused. Ordered by table, then by the bytes each frees (largest first).

    `in_use` names (bare) indexes the workload's plans read: never unused, whatever the scan
    counter says (statistics reset, or a workload the server has not seen yet).
    """
    indexes = list(indexes)
    used_now = set(in_use)

    def _unused(index: ExistingIndex) -> bool:
        return _no_scans(index) and index.name.rsplit(".", 1)[-1] not in used_now

    found: dict[str, DropCandidate] = {}
    for drop in _duplicates(indexes):
        found.setdefault(drop.index.name, drop)
    kept = [i for i in indexes if i.name not in found]
    for drop in _redundant(kept, _unused):
        found.setdefault(drop.index.name, drop)
    # The index a used duplicate or prefix gives way to takes over its scans: it stays, even
    # at no scan so far (else both would go, and with them every lookup they served).
    heirs = {d.other.name for d in found.values() if d.other and not _unused(d.index)}
    for index in indexes:
        if index.name not in found and index.name not in heirs and _unused(index):
            since = (f"since {index.stats_since:%Y-%m-%d %H:%M}" if index.stats_since
                     else "since statistics began")
            found[index.name] = DropCandidate(
                index, "unused", f"no scan {since}; every write still maintains it",
                frees_bytes=index.size_bytes)
    return sorted(found.values(), key=lambda d: (d.index.table, -d.frees_bytes, d.index.name))


def _rank(index: ExistingIndex) -> tuple[object, ...]:
    """Which of interchangeable indexes to keep: the one enforcing the most, then the older."""
    return (not index.primary, index.constraint is None, not index.unique, not index.valid,
            index.oid, index.name)


def _duplicates(indexes: Sequence[ExistingIndex]) -> list[DropCandidate]:
    groups: dict[tuple[object, ...], list[ExistingIndex]] = {}
    for index in indexes:
        groups.setdefault(index.shape, []).append(index)
    drops = []
    for group in groups.values():
        if len(group) < 2:
            continue
        keeper, *others = sorted(group, key=_rank)
        for index in others:
            # The keeper ranks first, so it is unique whenever any of the group is: dropping
            # the others loses no rule. A primary key is never the one dropped.
            if index.primary:
                continue
            detail = f"same definition as {keeper.name}"
            if index.constraint is not None:
                detail += (f"; its constraint {index.constraint} goes with it (refused while "
                           "a foreign key references it)")
            drops.append(DropCandidate(
                index, "duplicate", detail,
                other=keeper, frees_bytes=index.size_bytes))
    return drops


def _redundant(indexes: Sequence[ExistingIndex],
               _unused: Callable[[ExistingIndex], bool]) -> list[DropCandidate]:
    drops = []
    # only an index on the same table can cover another: compare within tables, so a catalog
    # of 10,000 indexes costs 10,000 small comparisons, not 100 million
    by_table: dict[str, list[ExistingIndex]] = {}
    for index in indexes:
        by_table.setdefault(index.table, []).append(index)
    for index in indexes:
        # The longer index does not enforce uniqueness on the prefix: a unique one stays.
        if index.enforces or index.method != "btree":
            continue
        # A used index does not give way to an unused longer one: that one goes instead.
        covering = [o for o in by_table[index.table]
                    if o.name != index.name and o.shape != index.shape and o.covers(index)
                    and (_unused(index) or not _unused(o))]
        if not covering:
            continue
        other = min(covering, key=lambda o: (len(o.keys), o.size_bytes, o.name))
        drops.append(DropCandidate(
            index, "redundant",
            f"its keys ({', '.join(index.keys)}) lead {other.name} "
            f"({', '.join(other.keys)}), which serves the same lookups",
            other=other, frees_bytes=index.size_bytes))
    return drops


def _no_scans(index: ExistingIndex) -> bool:
    return index.idx_scan == 0 and not index.enforces


def _qualified(name: str) -> str:
    return ".".join(quote(part) for part in name.split("."))
