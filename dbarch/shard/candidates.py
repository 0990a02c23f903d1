"""Candidate shard keys for a table when the user names none.

From the schema: columns naming an owner or tenant (tenant_id, account_id, customer_id …),
the primary key, the other foreign-key columns (their cardinality is measured, not guessed);
from the workload: the columns its queries compare by equality on the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from dbarch.advisor.query import Query
from dbarch.shard.model import TableFacts


def propose_keys(facts: TableFacts, queries: Sequence[Query], tables: Mapping[str, TableFacts],
                 owner_pattern: str, limit: int) -> dict[tuple[str, ...], list[str]]:
    """Candidate keys (column tuples) → why each was proposed, most promising first."""
    table = facts.table
    owner = re.compile(owner_pattern, re.IGNORECASE)
    found: dict[tuple[str, ...], list[str]] = {}

    def add(key: tuple[str, ...], why: str) -> None:
        found.setdefault(key, [])
        if why not in found[key]:
            found[key].append(why)

    fk_columns = {tuple(fk.columns): fk for fk in table.foreign_keys}
    for column in table.columns:
        if owner.match(column.name):
            fk = fk_columns.get((column.name,))
            add((column.name,), f"owner column (references {fk.ref_table})" if fk
                else "owner column")
    if table.primary_key:
        add(tuple(table.primary_key), "primary key")
    for columns, fk in fk_columns.items():
        add(columns, f"foreign key to {fk.ref_table}")
    for column in workload_equalities(facts, queries, tables):
        add((column,), "the workload filters on it by equality")
    return dict(list(found.items())[:limit])


def workload_equalities(facts: TableFacts, queries: Sequence[Query],
                        tables: Mapping[str, TableFacts]) -> list[str]:
    """The table's columns the workload compares with a value by equality, most weight first."""
    from pglast import parser

    from dbarch.advisor.sqlshape import UseReader

    schema = facts.qualified.split(".", 1)[0]
    models = {f.qualified: f.table for f in tables.values()}
    weights: dict[str, float] = {}
    for query in queries:
        reader = UseReader(models, search_path=(schema,))
        for use in reader.read(parser.parse_sql(query.sql)[0].stmt):
            if use.table == facts.qualified:
                for column in use.equality:
                    if not column.startswith("("):
                        weights[column] = weights.get(column, 0.0) + query.weight
    return sorted(weights, key=lambda c: -weights[c])


def time_column(facts: TableFacts, pattern: str) -> str | None:
    """The column telling insertion order (created_at …), when the table has one."""
    regex = re.compile(pattern, re.IGNORECASE)
    for column in facts.table.columns:
        if regex.match(column.name) and column.type.kind.value in ("timestamp", "date"):
            return column.name
    return None
