"""What the PostgreSQL and MySQL writers of a migration plan have in common.

A dialect's writer (postgresql.py, mysql.py) subclasses `SqlWriter` and overrides only what it
spells differently, as a renderer subclasses `DdlRenderer`: the same statement on MySQL names
its ALGORITHM and LOCK (`online`), a column allowed NULL says so (`explicit_null`), a batched
backfill is a DO block on one and a stored procedure on the other (`batched`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from dbarch.migrate.statements import Sql
from dbarch.render.base import DdlRenderer
from dbarch.schema.model import Check, Column, ColumnType, ForeignKey, Table


class ReadBackRenderer(DdlRenderer):
    """Renderer overrides that write a parsed schema back as it was read: the native type
    spelling and the CHECK's own expression. List it before the dialect's renderer."""

    def column_type(self, ctype: ColumnType) -> str:
        return ctype.native or super().column_type(ctype)

    def check_clause(self, table: Table, ck: Check) -> str | None:
        if ck.expression:
            return f"CONSTRAINT {self.quote(ck.name)} CHECK ({ck.expression})"
        return super().check_clause(table, ck)


class SqlWriter(ABC):
    """The statements both dialects write alike; a subclass sets `dialect` and its renderer."""

    dialect: ClassVar[str] = ""
    # Whether a column definition that allows NULL says NULL where the statement's point is to
    # allow it (MySQL's MODIFY replaces the whole definition).
    explicit_null: ClassVar[bool] = False

    def __init__(self, renderer: DdlRenderer, batch_size: int, pause: float) -> None:
        self.r = renderer
        self.batch_size = batch_size
        self.pause = pause

    def q(self, name: str) -> str:
        return self.r.quote(name)

    def cols(self, names: list[str]) -> str:
        return self.r.cols(names)

    def type_sql(self, col: Column) -> str:
        return self.r.column_type(col.type)

    def default_sql(self, col: Column) -> str | None:
        return self.r.default_clause(col)

    def online(self, operation: str) -> str:
        """What an ALTER doing `operation` appends to run without blocking (nothing here)."""
        return ""

    # ----------------------------------------------------------------- tables

    def create_table(self, table: Table, deferred: set[str]) -> list[Sql]:
        return [Sql(s.sql, s.comments) for s in self.r.table_statements(table, deferred)]

    def drop_table(self, table: str, why: str) -> Sql:
        return Sql(f"DROP TABLE {self.q(table)}", ignores=[("L406", why)])

    def create_view(self, name: str, table: str) -> Sql:
        return Sql(f"CREATE VIEW {self.q(name)} AS SELECT * FROM {self.q(table)}")

    def drop_view(self, name: str) -> Sql:
        return Sql(f"DROP VIEW IF EXISTS {self.q(name)}")

    # ----------------------------------------------------------------- columns

    def column_def(self, col: Column, *, nullable: bool | None = None,
                   default: bool = True) -> str:
        """A column's definition; `nullable`, when given, overrides the column's own."""
        parts = [self.q(col.name), self.type_sql(col)]
        if not (col.nullable if nullable is None else nullable):
            parts.append("NOT NULL")
        elif nullable and self.explicit_null:
            parts.append("NULL")
        value = self.default_sql(col) if default else None
        if value:
            parts.append(f"DEFAULT {value}")
        return " ".join(parts)

    def add_column(self, table: str, col: Column, *, nullable: bool | None = None,
                   default: bool = True, ignores: list[tuple[str, str]] | None = None) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} ADD COLUMN "
                   f"{self.column_def(col, nullable=nullable, default=default)}"
                   f"{self.online('add_column')}", ignores=list(ignores or []))

    def drop_column(self, table: str, column: str, why: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} DROP COLUMN {self.q(column)}"
                   f"{self.online('drop_column')}", ignores=[("L405", why)])

    def set_default(self, table: str, col: Column) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} ALTER COLUMN {self.q(col.name)} SET DEFAULT "
                   f"{self.default_sql(col)}{self.online('set_default')}")

    def drop_default(self, table: str, column: str, why: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} ALTER COLUMN {self.q(column)} DROP DEFAULT"
                   f"{self.online('set_default')}", ignores=[("L410", why)])

    # ----------------------------------------------------------------- constraints

    def foreign_key_sql(self, table: str, fk: ForeignKey, name: str | None = None) -> str:
        """ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY, named `name` when given."""
        if name:
            fk = fk.model_copy(update={"name": name})
        return f"ALTER TABLE {self.q(table)} ADD {self.r.foreign_key_clause(fk)}"

    def check_sql(self, table: str, ck: Check, name: str | None = None) -> str:
        """ALTER TABLE … ADD CONSTRAINT … CHECK, named `name` when given."""
        if name:
            ck = ck.model_copy(update={"name": name})
        clause = self.r.check_clause(Table(name=table, columns=[], primary_key=[]), ck)
        assert clause is not None, f"check {ck.name} has no condition to write"
        return f"ALTER TABLE {self.q(table)} ADD {clause}"

    # ----------------------------------------------------------------- data

    def cast(self, value: str, col: Column) -> str:
        return f"CAST({value} AS {self.type_sql(col)})"

    def backfill(self, table: str, key: str | None, statement: str, about: str) -> list[Sql]:
        """`statement` (an UPDATE or INSERT … SELECT restricted by `{range}`) run over the
        table in batches of `batch_size` rows of its key (see `batched`); a table without a
        primary key gets one statement, said so."""
        if key is None:
            return [Sql(statement.format(range="TRUE"),
                        [about, f"{table} has no primary key to batch on: one statement"],
                        ignores=[("L505", f"{table} has no primary key to batch by")])]
        return self.batched(table, key, statement, about)

    @abstractmethod
    def batched(self, table: str, key: str, statement: str, about: str) -> list[Sql]:
        """The batched form of `backfill`, which each dialect writes its own way."""
