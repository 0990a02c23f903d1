"""Candidate indexes for each query of a workload, read off its parse tree.

Per table a query names, `dbarch.advisor.sqlshape.UseReader` finds the equality, range, join,
ORDER BY and GROUP BY keys and the constant predicates; this module turns them into index
shapes in a sound key order (equality columns, then one range column or the ORDER BY
columns), covering and partial variants, and drops what an existing index already serves.
Which candidates pay off is for the what-if evaluation to say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from dbarch.advisor.candidate import IndexCandidate
from dbarch.advisor.query import Query
from dbarch.advisor.sqlshape import TableUse, UseReader, resolve_table

if TYPE_CHECKING:
    from dbarch.schema.model import Table

__all__ = ["MAX_INCLUDE", "MAX_PER_QUERY", "candidate_pool", "generate", "resolve_table",
           "table_candidates"]

MAX_PER_QUERY = 12  # what-if calls grow with the candidates: the best dozen per query suffice
MAX_INCLUDE = 4  # a wider covering index costs more on writes than index-only scans repay


def generate(queries: Iterable[Query], schema_tables: Mapping[str, Table], *,
             search_path: Sequence[str] = ("public",), c_collation: bool = False,
             limit: int = MAX_PER_QUERY) -> dict[str, list[IndexCandidate]]:
    """Candidate indexes per query fingerprint, best first, at most `limit` each.

    `schema_tables` maps schema-qualified names to the introspected tables, whose primary
    keys, unique constraints and indexes say what is already served; bare names in queries
    are resolved through `search_path`. `c_collation`: the database sorts text bytewise, so
    a LIKE prefix needs no text_pattern_ops. Inserts get none (an index only slows them).
    Equal candidates of different queries are one object, so the pool deduplicates.
    """
    import pglast
    from pglast import parser

    reader = UseReader(schema_tables, search_path, c_collation)
    served = {name: _Existing(table) for name, table in schema_tables.items()}
    pool: dict[IndexCandidate, IndexCandidate] = {}
    result: dict[str, list[IndexCandidate]] = {}
    for query in queries:
        try:
            stmt = pglast.parse_sql(query.sql)[0].stmt
        except (parser.ParseError, IndexError):
            result[query.fingerprint] = []  # the workload reader reported it already
            continue
        per_use = [table_candidates(use) for use in reader.read(stmt)
                   if not served[use.table].answers(use)]
        chosen: list[IndexCandidate] = []
        for rank in range(max((len(c) for c in per_use), default=0)):
            # round-robin over the tables, so a join's second table is not crowded out
            for candidates in per_use:
                if rank < len(candidates):
                    candidate = candidates[rank]
                    if candidate not in chosen and not served[candidate.table].serves(candidate):
                        chosen.append(candidate)
        result[query.fingerprint] = [pool.setdefault(c, c) for c in chosen[:limit]]
    return result


def candidate_pool(generated: Mapping[str, list[IndexCandidate]]) -> list[IndexCandidate]:
    """Every candidate of the workload once, in first-seen order."""
    return list(dict.fromkeys(c for candidates in generated.values() for c in candidates))


def table_candidates(use: TableUse) -> list[IndexCandidate]:
    """The index shapes that could serve one table occurrence of a query, best first."""
    equality = use.equality
    ranges = [r for r in use.ranges if r not in equality]
    order = _after(equality, use.order)
    group = _after(equality, use.group)
    joins = [j for j in use.joins if j not in equality]
    shapes: list[list[str]] = []
    if equality or ranges:
        shapes += [[*equality, r] for r in ranges[:2]]  # at most one range column a shape
    if order:
        shapes.append([*equality, *order])
    shapes.append(list(equality))
    if joins:  # a nested-loop lookup: every key an equality, then the range on the rows
        shapes.append([*equality, joins[0], *ranges[:1]])
        shapes.append([*equality, joins[0]])
    if group:
        shapes.append([*equality, *group])
    keys = [s for s in shapes if s]
    found = [IndexCandidate(use.table, tuple(k)) for k in keys]
    covering = _covering(use, keys[0] if keys else [])
    if covering is not None:
        found.insert(1, covering)
    partial = _partial(use, ranges, order)
    if partial is not None:
        found.insert(2, partial)
    singles = [*equality, *joins, *ranges, *order[:1], *group[:1], *use.loose]
    found += [IndexCandidate(use.table, (k.removesuffix(" DESC"),)) for k in singles]
    return list(dict.fromkeys(found))


def _after(leading: list[str], items: list[str]) -> list[str]:
    """ORDER BY/GROUP BY keys after the equality columns: a column fixed by `=` is already
    in order, so it is left out (and keys after it still come out sorted)."""
    fixed = {k.removesuffix(" DESC") for k in leading}
    return [k for k in items if k.removesuffix(" DESC") not in fixed]


def _covering(use: TableUse, keys: list[str]) -> IndexCandidate | None:
    """`keys` with the query's other columns of the table as INCLUDE, when few enough for an
    index-only scan to pay; never for the target of a write, which reads the heap anyway."""
    if use.write or not keys:
        return None
    columns = {k.removesuffix(" DESC").split(" ")[0] for k in keys}
    wanted = use.columns if use.all_columns else tuple(use.referenced)
    include = tuple(c for c in wanted if c not in columns)
    if not 0 < len(include) <= MAX_INCLUDE:
        return None
    return IndexCandidate(use.table, tuple(keys), include=include)


def _partial(use: TableUse, ranges: list[str], order: list[str]) -> IndexCandidate | None:
    """An index on the rows a constant predicate selects (`WHERE status = 'open'`), keyed on
    the query's other keys. Only categorical constants: a partial index per id or date would
    serve that one literal."""
    constants = [c for c in use.constants if c.categorical]
    if not constants:
        return None
    tested = {c.key for c in constants}
    keys = [k for k in use.equality if k not in tested]
    keys += ranges[:1] if ranges else order
    if not keys:
        keys = list(order) or [constants[0].key]
    where = " AND ".join(dict.fromkeys(c.sql for c in constants))
    return IndexCandidate(use.table, tuple(keys), where=where)


class _Existing:
    """What a table's existing indexes (primary key and unique constraints included)
    already serve."""

    def __init__(self, table: Table) -> None:
        from dbarch.parse.postgresql import normalize_expression

        self.normalize = normalize_expression
        self.indexes: list[tuple[tuple[str, ...], str | None]] = []
        self.unique: list[frozenset[str]] = []
        if table.primary_key:
            self.add(tuple(table.primary_key), None, unique=True)
        for constraint in table.uniques:
            self.add(tuple(constraint.columns), None, unique=True)
        for index in table.indexes:
            if index.method.value != "btree":
                continue
            keys = tuple(c.name + (" text_pattern_ops" if c.pattern_ops else "")
                         + (" DESC" if c.desc else "") for c in index.columns)
            self.add(keys, index.where, unique=index.unique)

    def add(self, keys: tuple[str, ...], where: str | None, *, unique: bool) -> None:
        where = self.normalize(where) if where else None
        self.indexes.append((_canonical(keys), where))
        if unique and where is None:
            self.unique.append(frozenset(k.split(" ")[0] for k in keys))

    def answers(self, use: TableUse) -> bool:
        """Whether an existing index already answers the query's predicate and order on this
        table (a unique key fixed by equality, or an index led by the equality columns and
        then the ORDER BY or range key): then no candidate is worth a what-if call."""
        if any(unique <= set(use.equality) for unique in self.unique):
            return True
        order = [k for k in use.order if k.removesuffix(" DESC") not in use.equality]
        ranges = [r for r in use.ranges if r not in use.equality]
        ideal = [*use.equality, *(order or ranges[:1])]
        return bool(ideal) and self.serves(IndexCandidate(use.table, tuple(ideal)))

    def serves(self, candidate: IndexCandidate) -> bool:
        """Whether an existing index makes `candidate` useless: its keys lead the existing
        index's with the same predicate (the existing one serves every lookup it would; an
        INCLUDE is not worth a second index on the same keys), or they start with a unique
        key (at most one row matches, so further keys add nothing)."""
        if candidate.method != "btree":
            return False
        keys = _canonical(candidate.keys)
        where = self.normalize(candidate.where) if candidate.where else None
        for existing, predicate in self.indexes:
            if predicate == where and existing[:len(keys)] == keys:
                return True
        plain = [k.removesuffix(" DESC") for k in candidate.keys]
        return any(unique <= set(plain[:len(unique)]) for unique in self.unique)


def _canonical(keys: Sequence[str]) -> tuple[str, ...]:
    """Keys with directions as a backward scan sees them too (the first ascending), and any
    pattern operator class as one: `(a DESC, b)` serves what `(a, b DESC)` does."""
    flip = bool(keys) and keys[0].endswith(" DESC")
    out = []
    for key in keys:
        desc = key.endswith(" DESC") != flip
        body = key.removesuffix(" DESC")
        column, _, opclass = body.partition(" ")
        if opclass.endswith("_pattern_ops") and not body.startswith("("):
            body = f"{column} pattern_ops"
        out.append(body + (" DESC" if desc else ""))
    return tuple(out)
