"""The schema a DDL file builds up, statement by statement, whatever its dialect.

CREATE TABLE adds a table; later ALTER TABLE, CREATE INDEX, COMMENT ON and DROP statements change
it, so a schema dump (pg_dump, mysqldump) or a history of migrations reads as the schema it
leaves behind. What cannot be represented is recorded as a located notice, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dbarch.errors import Problem
from dbarch.parse.located import Locator
from dbarch.schema.model import Check, Column, ForeignKey, Index, Schema, Table, Unique


@dataclass
class SchemaBuilder:
    """Tables by name, in the order the file creates them, and the notices met on the way."""

    path: str
    tables: dict[str, Table] = field(default_factory=dict)
    notices: list[Problem] = field(default_factory=list)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, table: Table) -> None:
        self.tables[table.name] = table

    def find(self, name: str) -> Table | None:
        return self.tables.get(name)

    def index_owner(self, index: str) -> tuple[Table, Index] | None:
        """The table holding the index called `index`, and the index."""
        for table in self.tables.values():
            for ix in table.indexes:
                if ix.name == index:
                    return table, ix
        return None

    def constraint_names(self, table: Table) -> set[str]:
        """Every constraint and index name of a table (to make generated names unique)."""
        return {
            *(u.name for u in table.uniques), *(f.name for f in table.foreign_keys),
            *(c.name for c in table.checks), *(i.name for i in table.indexes),
        }

    def drop_constraint(self, table: Table, name: str) -> bool:
        """Remove the named constraint (unique, foreign key or check); False when none has it."""
        for attr in ("uniques", "foreign_keys", "checks"):
            items: list[Unique | ForeignKey | Check] = getattr(table, attr)
            for item in items:
                if item.name == name:
                    items.remove(item)
                    return True
        if name == f"{table.name}_pkey" and table.primary_key:
            table.primary_key = []
            return True
        return False

    def drop_column(self, table: Table, name: str) -> None:
        """Remove a column and what only it held up (PostgreSQL and MySQL both drop those)."""
        table.columns = [c for c in table.columns if c.name != name]
        table.primary_key = [c for c in table.primary_key if c != name]
        table.uniques = [u for u in table.uniques if name not in u.columns]
        table.foreign_keys = [f for f in table.foreign_keys if name not in f.columns]
        table.checks = [c for c in table.checks if c.column != name]
        table.indexes = [i for i in table.indexes
                         if name not in i.column_names and name not in i.include]

    def rename_column(self, table: Table, old: str, new: str) -> None:
        """Rename a column everywhere the table names it."""

        def swap(names: list[str]) -> list[str]:
            return [new if n == old else n for n in names]

        table.column(old).name = new
        table.primary_key = swap(table.primary_key)
        for u in table.uniques:
            u.columns = swap(u.columns)
        for fk in table.foreign_keys:
            fk.columns = swap(fk.columns)
        for ck in table.checks:
            ck.column = new if ck.column == old else ck.column
        for ix in table.indexes:
            ix.columns = [c.model_copy(update={"name": new}) if c.name == old else c
                          for c in ix.columns]
            ix.include = swap(ix.include)
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.ref_table == table.name:
                    fk.ref_columns = swap(fk.ref_columns)

    def rename_table(self, old: str, new: str) -> None:
        """Rename a table, and the foreign keys that point at it."""
        table = self.tables.pop(old, None)
        if table is None:
            return
        table.name = new
        self.tables[new] = table
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.ref_table == old:
                    fk.ref_table = new

    def schema(self, name: str) -> Schema:
        """The finished Schema: foreign keys that named no columns point at the parent's key."""
        for table in self.tables.values():
            for fk in table.foreign_keys:
                parent = self.tables.get(fk.ref_table)
                if not fk.ref_columns and parent is not None:
                    fk.ref_columns = list(parent.primary_key)
        return Schema(name=name, tables=list(self.tables.values()))


class DdlReader:
    """What both dialects' statement readers share: the builder they apply statements to, and
    the notices (located at the statement being read) for what a statement names but the file
    has not created. A dialect's reader subclasses it with one method per statement kind."""

    def __init__(self, build: SchemaBuilder, where: Locator) -> None:
        self.build = build
        self.where = where
        self.offset = 0  # byte offset of the statement being read, where its notices point

    def note(self, message: str, hint: str | None = None) -> None:
        self.build.notices.append(self.where.problem(self.offset, message, hint))

    def table(self, name: str) -> Table | None:
        """The table called `name`, or None with a notice that the statement is skipped."""
        table = self.build.find(name)
        if table is None:
            self.note(f"table {name} is not created earlier in the file; statement skipped")
        return table

    def column(self, table: Table, name: str) -> Column | None:
        """The column `name` of `table`, or None with a notice that the statement is skipped."""
        for col in table.columns:
            if col.name == name:
                return col
        self.note(f"{table.name} has no column {name}; statement skipped")
        return None
