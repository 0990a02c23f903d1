"""What the Mermaid diagrams show, as data: the ER model of a schema, the flow of each part.

The templates `er.mmd.j2` and `part.mmd.j2` turn these into Mermaid text; this module only
decides the names, types, key markers and cardinalities Mermaid's grammar accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dbarch.schema.model import Column, Schema, Table

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def mermaid_id(name: str) -> str:
    """A name Mermaid accepts as an entity or node id (letters, digits, underscore)."""
    safe = _UNSAFE.sub("_", name)
    return safe if safe[:1].isalpha() else f"n_{safe}"


@dataclass(frozen=True)
class ErAttribute:
    """One attribute line of an entity block: `type name KEYS "comment"`."""

    type: str
    name: str
    keys: str
    comment: str


@dataclass
class ErEntity:
    """One entity block: a table and its attribute lines."""

    name: str
    attributes: list[ErAttribute] = field(default_factory=list)


@dataclass(frozen=True)
class ErRelation:
    """`parent left--right child : "label"` in crow's-foot notation."""

    parent: str
    child: str
    left: str
    right: str
    label: str


def _type_comment(column: Column) -> str:
    t = column.type
    parts = []
    if t.length:
        parts.append(f"{t.kind.value}({t.length})")
    elif t.precision:
        parts.append(f"{t.kind.value}({t.precision},{t.scale or 0})")
    if t.values:
        parts.append(" / ".join(t.values))
    if t.items:
        parts.append(f"of {t.items.value}")
    if column.nullable:
        parts.append("nullable")
    if column.identity:
        parts.append("identity")
    if column.default is not None and column.default.kind.value == "uuid_v7":
        parts.append("UUIDv7")
    if column.sensitive:
        parts.append("sensitive")
    return ", ".join(parts)


def _keys(table: Table, column: str) -> str:
    keys = []
    if column in table.primary_key:
        keys.append("PK")
    if any(column in fk.columns for fk in table.foreign_keys):
        keys.append("FK")
    if any(u.columns == [column] for u in table.uniques):
        keys.append("UK")
    return ", ".join(keys)


def _one_to_one(table: Table, columns: list[str]) -> bool:
    return columns == table.primary_key or any(u.columns == columns for u in table.uniques)


def er_model(schema: Schema) -> tuple[list[ErEntity], list[ErRelation]]:
    """The entities (tables with their columns) and relations (foreign keys) of `schema`."""
    entities = [
        ErEntity(
            mermaid_id(t.name),
            [ErAttribute(c.type.kind.value, mermaid_id(c.name), _keys(t, c.name),
                         _type_comment(c)) for c in t.columns],
        )
        for t in schema.tables
    ]
    relations = []
    for t in schema.tables:
        for fk in t.foreign_keys:
            optional = any(t.column(c).nullable for c in fk.columns if c in
                           {col.name for col in t.columns})
            relations.append(ErRelation(
                parent=mermaid_id(fk.ref_table),
                child=mermaid_id(t.name),
                left="|o" if optional else "||",
                right="o|" if _one_to_one(t, fk.columns) else "o{",
                label=", ".join(fk.columns),
            ))
    return entities, relations
