"""Which tables travel with a shard key, and which are copied to every shard.

A table co-locates with the sharded table when it carries the key: it references the key's
columns (a child of the sharded table keyed on it), the key references it (the tenant table
itself), or it references that parent the same way (a sibling sharing the tenant). Rows with
one key value then live on one shard, so joins on the key stay local. Small, read-mostly tables
the co-located ones reference become reference tables (a copy on every shard, as Citus'
create_reference_table and Vitess' reference tables do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dbarch.shard.model import TableFacts


def colocated_tables(tables: Mapping[str, TableFacts], table: str,
                     key: Sequence[str]) -> dict[str, list[str]]:
    """Each co-located table (bare name) → its columns carrying the key, in key order."""
    group: dict[str, list[str]] = {table: list(key)}
    work = [table]
    while work:
        name = work.pop()
        carried = group[name]
        for fk in tables[name].table.foreign_keys:
            if fk.columns == carried and fk.ref_table in tables and fk.ref_table not in group:
                group[fk.ref_table] = list(fk.ref_columns)
                work.append(fk.ref_table)
        for other, facts in tables.items():
            if other in group:
                continue
            for fk in facts.table.foreign_keys:
                if fk.ref_table == name and fk.ref_columns == carried:
                    group[other] = list(fk.columns)
                    work.append(other)
                    break
    # Tables carrying the key's columns by name without a foreign key (common where the
    # application keeps the constraints): co-locatable all the same. `id` names every table's
    # own key, never a shared one.
    if all(c != "id" for c in key):
        for other, facts in tables.items():
            names = {c.name for c in facts.table.columns}
            if other not in group and all(c in names for c in key) \
                    and facts.table.primary_key != list(key):
                group[other] = list(key)
    return group


def reference_tables(tables: Mapping[str, TableFacts], group: Mapping[str, list[str]],
                     max_rows: int, read_mostly_ratio: float
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """(reference table → why, other table → why) for the tables outside `group`."""
    referenced: dict[str, list[str]] = {}
    for name, facts in tables.items():
        for fk in facts.table.foreign_keys:
            if name in group and fk.ref_table not in group:
                referenced.setdefault(fk.ref_table, []).append(name)
    reference: dict[str, str] = {}
    other: dict[str, str] = {}
    for name, facts in sorted(tables.items()):
        if name in group:
            continue
        users = sorted(set(referenced.get(name, [])))
        writes_ok = facts.writes == 0 or facts.reads >= read_mostly_ratio * facts.writes
        if users and facts.rows <= max_rows and writes_ok:
            usage = ("no writes recorded" if facts.writes == 0 else
                     f"{facts.reads / facts.writes:,.0f} rows read per row written")
            reference[name] = (f"{facts.rows:,} rows, {usage}; referenced by "
                               f"{', '.join(users)}")
        elif users and facts.rows > max_rows:
            other[name] = (f"referenced by {', '.join(users)} but {facts.rows:,} rows, too many "
                           "to copy to every shard: shard it too, with the key added")
        elif users:
            other[name] = (f"referenced by {', '.join(users)} but written often "
                           f"({facts.writes:,} rows written, {facts.reads:,} read): every "
                           "write to a reference table goes to every shard")
        else:
            parents = sorted({fk.ref_table for fk in facts.table.foreign_keys
                              if fk.ref_table in group})
            other[name] = (f"references {', '.join(parents)} by other columns than the key: "
                           "add the key's column(s) to it to co-locate it" if parents else
                           "does not carry the key and no co-located table references it: it "
                           "stays unsharded (on the coordinator) or needs a key of its own")
    return reference, other
