"""Schema changes as objects: what `diff` finds between two schemas, and what `plan` phases.

One class per kind of change, each holding the full definitions it needs (the old one too, so
a plan can write the rollback) and a one-line `describe()`. Table names are the target schema's;
a renamed table's changes follow its RenameTable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, is_dataclass
from typing import Any

from dbarch.schema.model import (
    Check,
    Column,
    Default,
    ForeignKey,
    Index,
    Table,
    Unique,
)


@dataclass
class Operation:
    """One change to one table."""

    table: str

    @property
    def kind(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        """One line for people."""
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        """The operation as plain data, for `--format json`."""
        out: dict[str, Any] = {"kind": self.kind, "table": self.table, "summary": self.describe()}
        for name, value in vars(self).items():
            if name == "table":
                continue
            out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _default_text(default: Default | None) -> str:
    if default is None:
        return "none"
    return default.kind.value if default.value is None else repr(default.value)


# ------------------------------------------------------------------------------- tables

@dataclass
class CreateTable(Operation):
    definition: Table

    def describe(self) -> str:
        return f"create table {self.table}"


@dataclass
class DropTable(Operation):
    definition: Table

    def describe(self) -> str:
        return f"drop table {self.table}"


@dataclass
class RenameTable(Operation):
    old: str

    def describe(self) -> str:
        return f"rename table {self.old} to {self.table}"


@dataclass
class MoveColumns(Operation):
    """Columns of `table` moved to the new table `target`, one target row per source row:
    `key` (target columns) references `ref` (source columns), usually the source's primary key."""

    target: Table
    columns: list[Column]
    key: list[str]
    ref: list[str]

    def describe(self) -> str:
        names = ", ".join(c.name for c in self.columns)
        return f"move {self.table}.({names}) to the new table {self.target.name}"


# ------------------------------------------------------------------------------- columns

@dataclass
class AddColumn(Operation):
    column: Column
    fill: str | None = None  # SQL giving existing rows their value (--fill)

    def describe(self) -> str:
        null = "NULL" if self.column.nullable else "NOT NULL"
        return f"add column {self.table}.{self.column.name} ({_type(self.column)} {null})"


@dataclass
class DropColumn(Operation):
    column: Column

    def describe(self) -> str:
        return f"drop column {self.table}.{self.column.name}"


@dataclass
class Attached:
    """The indexes and constraints of a table that involve one column."""

    indexes: list[Index] = field(default_factory=list)
    uniques: list[Unique] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    def names(self) -> list[str]:
        return [*(i.name for i in self.indexes), *(u.name for u in self.uniques),
                *(f.name for f in self.foreign_keys), *(c.name for c in self.checks)]


@dataclass
class RenameColumn(Operation):
    """`old` (the source's definition) becomes `new` (the target's, maybe of another type).

    The indexes and constraints on the column are rebuilt on the new one: `attached_new` are
    the target's, `attached_old` the source's (for the rollback)."""

    old: Column
    new: Column
    attached_old: Attached = field(default_factory=Attached)
    attached_new: Attached = field(default_factory=Attached)

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old.name} to {self.new.name}"


@dataclass
class AlterColumnType(Operation):
    old: Column
    new: Column
    attached_old: Attached = field(default_factory=Attached)
    attached_new: Attached = field(default_factory=Attached)

    def describe(self) -> str:
        return (f"change type of {self.table}.{self.new.name} from {_type(self.old)} to "
                f"{_type(self.new)}")


def _type(col: Column) -> str:
    return col.type.native or col.type.kind.value


@dataclass
class SetNotNull(Operation):
    column: Column  # the target definition
    fill: str | None = None

    def describe(self) -> str:
        return f"make {self.table}.{self.column.name} NOT NULL"


@dataclass
class DropNotNull(Operation):
    column: Column  # the source definition

    def describe(self) -> str:
        return f"allow NULL in {self.table}.{self.column.name}"


@dataclass
class SetDefault(Operation):
    column: Column  # the target definition (its default is the new one)
    old: Default | None = None

    def describe(self) -> str:
        return (f"default of {self.table}.{self.column.name}: {_default_text(self.old)} → "
                f"{_default_text(self.column.default)}")


@dataclass
class DropDefault(Operation):
    column: Column  # the source definition (its default is the one dropped)

    def describe(self) -> str:
        return f"drop the default of {self.table}.{self.column.name}"


# ------------------------------------------------------------------------------- constraints

@dataclass
class AddForeignKey(Operation):
    foreign_key: ForeignKey

    def describe(self) -> str:
        fk = self.foreign_key
        return (f"add foreign key {fk.name}: {self.table}({', '.join(fk.columns)}) → "
                f"{fk.ref_table}({', '.join(fk.ref_columns)})")


@dataclass
class DropForeignKey(Operation):
    foreign_key: ForeignKey

    def describe(self) -> str:
        return f"drop foreign key {self.foreign_key.name} of {self.table}"


@dataclass
class AddCheck(Operation):
    check: Check

    def describe(self) -> str:
        return f"add check {self.check.name} on {self.table}"


@dataclass
class DropCheck(Operation):
    check: Check

    def describe(self) -> str:
        return f"drop check {self.check.name} of {self.table}"


@dataclass
class AddUnique(Operation):
    unique: Unique

    def describe(self) -> str:
        return f"add unique {self.unique.name} on {self.table}({', '.join(self.unique.columns)})"


@dataclass
class DropUnique(Operation):
    unique: Unique

    def describe(self) -> str:
        return f"drop unique {self.unique.name} of {self.table}"


@dataclass
class AddPrimaryKey(Operation):
    columns: list[str]

    def describe(self) -> str:
        return f"add primary key on {self.table}({', '.join(self.columns)})"


@dataclass
class DropPrimaryKey(Operation):
    columns: list[str]

    def describe(self) -> str:
        return f"drop the primary key of {self.table}"


@dataclass
class RenameConstraint(Operation):
    old: str
    new: str

    def describe(self) -> str:
        return f"rename constraint {self.old} of {self.table} to {self.new}"


# ------------------------------------------------------------------------------- indexes

@dataclass
class CreateIndex(Operation):
    index: Index

    def describe(self) -> str:
        kind = "unique index" if self.index.unique else "index"
        columns = ", ".join(self.index.column_names)
        return f"create {kind} {self.index.name} on {self.table}({columns})"


@dataclass
class DropIndex(Operation):
    index: Index

    def describe(self) -> str:
        return f"drop index {self.index.name} of {self.table}"


@dataclass
class RenameIndex(Operation):
    old: str
    new: str

    def describe(self) -> str:
        return f"rename index {self.old} of {self.table} to {self.new}"


@dataclass
class Diff:
    """What changes from one schema to another, and what the diff could not decide alone."""

    operations: list[Operation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. "this may be a rename: say so with…"
    unplanned: list[str] = field(default_factory=list)  # differences no operation covers
