"""Ready configuration for the recommended key: Citus, Vitess (VSchema), MongoDB.

Each renderer writes what its product needs and says where the product differs from the
recommendation (Citus distributes on one column, by hash; MongoDB hashes one field at most).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from dbarch.shard.model import HASH, KeyReport, TableFacts


def citus(report: KeyReport, table: str, tables: Mapping[str, TableFacts],
          reference: list[str]) -> str:
    """create_distributed_table for the table and what co-locates with it, reference tables."""
    lines = []
    if len(report.columns) > 1:
        lines.append(f"-- Citus distributes on one column: {report.columns[0]} leads the key "
                     f"({report.name}).")
    if report.strategy != HASH:
        lines.append("-- Citus distributes by hash; keep ranges of time with PostgreSQL "
                     "partitioning under each shard.")
    for name in reference:
        lines.append(f"SELECT create_reference_table({_literal(tables[name].qualified)});")
    lines.append(f"SELECT create_distributed_table({_literal(tables[table].qualified)}, "
                 f"{_literal(report.colocated[table][0])});")
    for name, columns in report.colocated.items():
        if name == table:
            continue
        lines.append(f"SELECT create_distributed_table({_literal(tables[name].qualified)}, "
                     f"{_literal(columns[0])}, colocate_with => "
                     f"{_literal(tables[table].qualified)});")
    return "\n".join(lines) + "\n"


def vitess(report: KeyReport, tables: Mapping[str, TableFacts], reference: list[str]) -> str:
    """A VSchema: a hash vindex (xxhash for non-integer keys, multicol for composite ones; the
    numeric/binary identity vindex when range sharding), every co-located table on it."""
    kinds = {c.type.kind.value for name, cols in report.colocated.items()
             for c in tables[name].table.columns if c.name in cols}
    integer = kinds <= {"smallint", "int", "bigint"}
    if len(report.columns) > 1:
        vindex = {"type": "multicol", "params": {"column_count": str(len(report.columns))}}
        name = "multicol"
    elif report.strategy == HASH:
        vindex = {"type": "hash" if integer else "xxhash"}
        name = vindex["type"]
    else:
        vindex = {"type": "numeric" if integer else "binary"}
        name = vindex["type"]
    schema: dict[str, object] = {"sharded": True, "vindexes": {name: vindex}, "tables": {}}
    entries: dict[str, object] = {}
    for table, columns in report.colocated.items():
        entry = ({"columns": columns, "name": name} if len(columns) > 1
                 else {"column": columns[0], "name": name})
        entries[table] = {"column_vindexes": [entry]}
    for table in reference:
        entries[table] = {"type": "reference"}
    schema["tables"] = entries
    return json.dumps(schema, indent=2) + "\n"


def mongodb(report: KeyReport, database: str, table: str) -> str:
    """sh.shardCollection with a hashed key (one hashed field, the last) or a ranged one."""
    fields = []
    for i, column in enumerate(report.columns):
        hashed = report.strategy == HASH and i == len(report.columns) - 1
        fields.append(f"{column}: {json.dumps('hashed') if hashed else 1}")
    return f'sh.shardCollection("{database}.{table}", {{{", ".join(fields)}}})\n'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
