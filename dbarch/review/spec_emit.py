"""Reverse engineering: a requirements spec (the YAML `dbarch design` reads) from an existing
schema and, for a live database, its row counts.

Tables become entities (a link table of two foreign keys becomes a many-to-many relationship),
columns become attributes (the key, created_at and updated_at are implied by the spec, foreign
key columns become relationships), foreign keys become many-to-one relationships (one-to-one
when the column is unique; owned when the key cascades deletes), row counts become volumes.
Access patterns come from PostgreSQL's pg_stat_statements when the facts hold its statements
(`dbarch.review.spec_patterns`); otherwise none are invented, and the description says so.
"""

from __future__ import annotations

import re
from typing import Any

from dbarch.review.context import singular
from dbarch.review.facts import Facts
from dbarch.review.spec_patterns import StatementFacts, access_patterns
from dbarch.schema.model import Column, OnDelete, Schema, Table, TypeKind

_IMPLIED = frozenset({"created_at", "updated_at"})
_TYPES = {
    TypeKind.smallint: "int", TypeKind.int: "int", TypeKind.bigint: "bigint",
    TypeKind.decimal: "decimal", TypeKind.float: "float", TypeKind.bool: "bool",
    TypeKind.string: "string", TypeKind.text: "text", TypeKind.date: "date",
    TypeKind.timestamp: "timestamp", TypeKind.uuid: "uuid", TypeKind.json: "json",
    TypeKind.blob: "blob", TypeKind.enum: "enum", TypeKind.geo: "geo", TypeKind.array: "list",
}
_IN_LIST = re.compile(r"^\(?\s*(?P<col>\w+)\s+IN\s*\((?P<values>.*)\)\s*\)?$", re.IGNORECASE)


def emit_spec(schema: Schema, facts: Facts | None = None, *, system: str = "",
              money_words: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The spec as plain data, ready to dump as YAML."""
    links = {t.name for t in schema.tables if _link_table(t)}
    names = {t.name: entity_name(t.name) for t in schema.tables if t.name not in links}
    entities: dict[str, Any] = {}
    relationships: list[dict[str, Any]] = []
    refs_of: dict[str, dict[str, str]] = {}
    for table in schema.tables:
        if table.name in links:
            relationships.append(_many_to_many(table, names))
            continue
        entity, refs = _entity(table, facts, money_words)
        entities[names[table.name]] = entity
        refs_of[table.name] = refs
        for fk in table.foreign_keys:
            if fk.ref_table in names and len(fk.columns) == 1:
                relationships.append(_many_to_one(table, fk, names, refs))
    name = re.sub(r"[^A-Za-z0-9_-]", "_", system or schema.name or "system")
    patterns: list[dict[str, Any]] = []
    known = ("access patterns are not known from the schema: add them before `dbarch design`")
    log = facts.statements if isinstance(facts, StatementFacts) else None
    if log is not None:
        patterns, known = access_patterns(schema, log, names, _fields(schema, names, entities,
                                                                       refs_of))
    spec: dict[str, Any] = {
        "system": name if name[:1].isalpha() else f"db_{name}",
        "description": f"Reverse-engineered by dbarch review from {schema.name or 'a schema'}"
                       f"{' with its row counts' if facts else ''}; {known}.",
        "entities": entities,
        "relationships": relationships,
    }
    if patterns:
        spec["access_patterns"] = patterns
    return spec


def _fields(schema: Schema, names: dict[str, str], entities: dict[str, Any],
            refs_of: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Table → column → the field of its entity a pattern names it by: the key is `id`, a
    foreign key column its reference's name (when the relationship was emitted), the rest
    their attribute's name."""
    out: dict[str, dict[str, str]] = {}
    for table in schema.tables:
        if table.name not in names:
            continue
        attributes = entities[names[table.name]]["attributes"]
        refs = {column: ref for column, ref in refs_of[table.name].items()
                if any(fk.columns == [column] and fk.ref_table in names
                       for fk in table.foreign_keys)}
        key = table.primary_key[0] if len(table.primary_key) == 1 else None
        fields = {c: c for c in _IMPLIED}
        for column in table.columns:
            if column.name in refs:
                fields[column.name] = refs[column.name]
            elif column.name == key:
                fields[column.name] = "id"
            elif column.name in attributes:
                fields[column.name] = column.name
        out[table.name] = fields
    return out


def entity_name(table: str) -> str:
    """`order_items` → `OrderItem`."""
    words = [w for w in table.split("_") if w]
    if words:
        words[-1] = singular(words[-1])
    return "".join(w[:1].upper() + w[1:] for w in words) or "Entity"




def _link_table(table: Table) -> bool:
    """Two foreign keys make up the key, with at most one more column."""
    single = [fk for fk in table.foreign_keys if len(fk.columns) == 1]
    in_fks = {fk.columns[0] for fk in single}
    others = [c for c in table.columns if c.name not in in_fks and c.name not in _IMPLIED]
    return (len(single) == 2 and set(table.primary_key) == in_fks and not others)


def _entity(table: Table, facts: Facts | None,
            money_words: frozenset[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The entity, and the reference name of each foreign key column."""
    refs = {fk.columns[0]: _ref_name(fk.columns[0], fk.ref_table)
            for fk in table.foreign_keys if len(fk.columns) == 1}
    key = table.primary_key[0] if len(table.primary_key) == 1 else None
    unique_single = {u.columns[0] for u in table.uniques if len(u.columns) == 1}
    unique_single |= {ix.columns[0].name for ix in table.indexes
                      if ix.unique and len(ix.columns) == 1 and ix.where is None}
    attributes: dict[str, Any] = {}
    for column in table.columns:
        if (column.name == key and key not in refs) or column.name in _IMPLIED \
                or column.name in refs:
            continue
        attributes[column.name] = _attribute(table, column, column.name in unique_single,
                                             money_words)
    entity: dict[str, Any] = {}
    rows = facts.tables[table.name].rows if facts and table.name in facts.tables else 0
    if rows:
        entity["volume"] = rows
    if key is not None and table.column(key).type.kind == TypeKind.uuid:
        entity["public_id"] = True
    entity["attributes"] = attributes
    groups = [[refs.get(c, c) for c in u.columns] for u in table.uniques if len(u.columns) > 1]
    groups += [[refs.get(c, c) for c in ix.column_names] for ix in table.indexes
               if ix.unique and len(ix.columns) > 1 and ix.where is None]
    if len(table.primary_key) > 1:
        groups.insert(0, [refs.get(c, c) for c in table.primary_key])
    known = set(attributes) | set(refs.values()) | _IMPLIED
    groups = [g for g in groups if set(g) <= known]
    if groups:
        entity["unique"] = groups
    return entity, refs


def _attribute(table: Table, column: Column, unique: bool,
               money_words: frozenset[str]) -> dict[str, Any] | str:
    kind = column.type.kind
    values = _check_values(table, column.name)
    attr: dict[str, Any] = {"type": _TYPES.get(kind, "string")}
    if kind == TypeKind.enum and column.type.values:
        attr["values"] = list(column.type.values)
    elif values and kind in (TypeKind.string, TypeKind.text):
        attr = {"type": "enum", "values": values}
    elif kind == TypeKind.decimal and money_words & set(column.name.lower().split("_")):
        attr["type"] = "money"
    elif kind == TypeKind.decimal:
        attr.update({k: v for k, v in (("precision", column.type.precision),
                                       ("scale", column.type.scale)) if v is not None})
    elif kind == TypeKind.string and column.type.length:
        attr["max_length"] = column.type.length
    elif kind == TypeKind.array:
        attr["items"] = _TYPES.get(column.type.items or TypeKind.text, "string")
    if column.nullable:
        attr["required"] = False
    if unique:
        attr["unique"] = True
    return attr["type"] if len(attr) == 1 else attr


def _check_values(table: Table, column: str) -> list[str] | None:
    """The values of a `column IN ('a', 'b')` CHECK, if the table has one on `column`."""
    for check in table.checks:
        if check.values and check.column == column:
            return list(check.values)
        match = _IN_LIST.match((check.expression or "").strip())
        if match and match["col"] == column:
            return re.findall(r"'((?:[^']|'')*)'", match["values"])
    return None


def _ref_name(column: str, ref_table: str) -> str:
    """`customer_id` → `customer`; a column without `_id` keeps its name."""
    stem = column[:-3] if column.lower().endswith("_id") and len(column) > 3 else column
    return stem if stem != column else f"{singular(ref_table)}_ref"


def _many_to_one(table: Table, fk: Any, names: dict[str, str],
                 refs: dict[str, str]) -> dict[str, Any]:
    column = table.column(fk.columns[0])
    unique = any(u.columns == fk.columns for u in table.uniques) or any(
        ix.unique and ix.column_names == fk.columns for ix in table.indexes)
    rel: dict[str, Any] = {"from": names[table.name], "to": names[fk.ref_table],
                           "kind": "one-to-one" if unique else "many-to-one"}
    if refs[fk.columns[0]] != entity_snake(names[fk.ref_table]):
        rel["name"] = refs[fk.columns[0]]
    if fk.on_delete == OnDelete.cascade:
        rel["owned"] = True
    if column.nullable:
        rel["required"] = False
    return rel


def _many_to_many(table: Table, names: dict[str, str]) -> dict[str, Any]:
    a, b = (fk for fk in table.foreign_keys if len(fk.columns) == 1)
    return {"from": names.get(a.ref_table, entity_name(a.ref_table)),
            "to": names.get(b.ref_table, entity_name(b.ref_table)), "kind": "many-to-many"}


def entity_snake(name: str) -> str:
    """`OrderItem` → `order_item`, as the spec names a reference by default."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
