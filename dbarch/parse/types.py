"""A dialect's own type names read back into the neutral ColumnType (dbarch/data/native_types.yaml).

Both the DDL parsers and live-database introspection go through `column_type`, so a column reads
the same whether it came from a file or from a server.
"""

from __future__ import annotations

from typing import Any

from dbarch.data_files import load_yaml
from dbarch.schema.model import ColumnType, TypeKind


def native_types() -> dict[str, dict[str, dict[str, Any]]]:
    """The parsed `dbarch/data/native_types.yaml`: dialect → type name → how it reads."""
    return load_yaml("native_types.yaml")


def column_type(
    dialect: str,
    name: str,
    mods: list[int] | None = None,
    *,
    array_dims: int = 0,
    values: tuple[str, ...] | None = None,
) -> tuple[ColumnType, bool]:
    """The ColumnType of a type called `name` with modifiers `mods`, and whether the type makes
    the column an identity (PostgreSQL's serial pseudo-types).

    `values` are an enum's labels (a MySQL ENUM's, or a PostgreSQL enum type's from CREATE TYPE).
    A name the data file does not list keeps its spelling in `native` and reads as text.
    """
    mods = list(mods or [])
    entry = native_types()[dialect].get(name) or native_types()[dialect].get(name.lower())
    if entry is None:
        native = name + "[]" * array_dims
        kind = TypeKind.enum if values is not None else TypeKind.text
        if array_dims:
            return ColumnType(kind=TypeKind.array, items=kind, native=native), False
        return ColumnType(kind=kind, values=values, native=native), False
    kind = TypeKind(entry["kind"])
    sql = str(entry["sql"])
    if entry.get("boolean_width") is not None and mods == [entry["boolean_width"]]:
        return column_type(dialect, "BOOLEAN")[0], False
    meaning: list[str] = list(entry.get("mods") or [])
    fields: dict[str, int] = dict(zip(meaning, mods, strict=False))
    kept = mods[: len(meaning)]
    if values is not None:
        native = f"{sql}({', '.join(_quoted(v) for v in values)})"
    else:
        native = f"{sql}({','.join(str(m) for m in kept)})" if kept else sql
    if entry.get("suffix"):
        native += f" {entry['suffix']}"
    identity = bool(entry.get("identity"))
    if array_dims:
        return ColumnType(kind=TypeKind.array, items=kind, native=native + "[]" * array_dims), False
    return ColumnType(
        kind=kind,
        length=fields.get("length"),
        precision=fields.get("precision"),
        scale=fields.get("scale"),
        values=values,
        native=native,
    ), identity


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
