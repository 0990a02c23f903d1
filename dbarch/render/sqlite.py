"""SQLite (3.35+): INTEGER PRIMARY KEY rowids, WITHOUT ROWID junctions, FTS5, named unique
indexes, CHECKs where its types do not enforce themselves."""

from __future__ import annotations

from typing import ClassVar

from dbarch.render.base import DdlRenderer, Statement
from dbarch.schema.model import (
    Column,
    Index,
    IndexMethod,
    Table,
    TableRole,
    Unique,
)


class SqliteRenderer(DdlRenderer):
    """SQLite DDL. Foreign keys are enforced only with `PRAGMA foreign_keys = ON`."""

    dialect: ClassVar[str] = "sqlite"
    forward_references: ClassVar[bool] = True

    def bool_literal(self, value: bool) -> str:
        """SQLite stores booleans as 0 and 1."""
        return "1" if value else "0"

    def rowid_column(self, table: Table) -> Column | None:
        """The identity column that becomes the rowid (`INTEGER PRIMARY KEY`), if any."""
        pk = self.primary_key(table)
        if len(pk) == 1:
            col = table.column(pk[0])
            if col.identity:
                return col
        return None

    def column_def(self, table: Table, col: Column) -> str:
        """The rowid column is exactly `INTEGER PRIMARY KEY` (any other spelling is not)."""
        rowid = self.rowid_column(table)
        if rowid is not None and col.name == rowid.name:
            return f"{self.quote(col.name)} INTEGER PRIMARY KEY"
        return super().column_def(table, col)

    def primary_key_clause(self, table: Table) -> str | None:
        """None when the key is the rowid column, declared inline."""
        if self.rowid_column(table) is not None:
            return None
        return super().primary_key_clause(table)

    def table_suffix(self, table: Table) -> str:
        """WITHOUT ROWID for junction tables and tables keyed by a natural composite key."""
        # A junction row is its key: WITHOUT ROWID stores it once, in the key's B-tree. A
        # natural key likewise: a rowid would be the surrogate id the design left out, and a
        # second B-tree (the key's autoindex) beside the table's.
        pk = self.primary_key(table)
        natural = len(pk) > 1 and "id" not in pk
        if (table.role == TableRole.junction or natural) and self.rowid_column(table) is None:
            return " WITHOUT ROWID"
        return ""

    def unique_clause(self, table: Table, u: Unique) -> str | None:
        """None: unique constraints are created as named unique indexes instead."""
        # An inline UNIQUE gets an automatic name (sqlite_autoindex_*); an explicit index keeps
        # the constraint's name, which is how verification recognises it in query plans.
        return None

    def unique_index(self, table: Table, u: Unique) -> Statement | None:
        """CREATE UNIQUE INDEX under the constraint's name."""
        return Statement(
            f"CREATE UNIQUE INDEX {self.quote(u.name)} ON {self.quote(table.name)} "
            f"({self.cols(u.columns)})"
        )

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        """FTS5 for text search; no JSON GIN (said in a note); B-trees otherwise."""
        if self.is_text_search(table, ix):
            return self.fts5(table, ix)
        if ix.method == IndexMethod.gin:
            notes.append(f"{ix.name} not rendered: SQLite cannot index a JSON document as a "
                         "whole; an expression index on json_extract(col, '$.key') can serve "
                         "one key")
            return []
        stmt = super().create_index(table, ix, notes)
        if ix.method != IndexMethod.btree:
            stmt[0].comments.append(f"{ix.method.value} is PostgreSQL-only: a B-tree here")
        return stmt

    def fts5(self, table: Table, ix: Index) -> list[Statement]:
        """An external-content FTS5 table and the three triggers that keep it in step.

        Each trigger is written on one line so that splitting the script at `;` + newline
        never cuts a trigger body.
        """
        fts = self.quote(ix.name)
        t = self.quote(table.name)
        cols = self.cols(ix.column_names)
        rowid_col = self.rowid_column(table)
        rowid = self.quote(rowid_col.name) if rowid_col else "rowid"
        new = ", ".join(f"new.{self.quote(c)}" for c in ix.column_names)
        old = ", ".join(f"old.{self.quote(c)}" for c in ix.column_names)
        insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{rowid}, {new});"
        delete = (f"INSERT INTO {fts}({fts}, rowid, {cols}) "
                  f"VALUES ('delete', old.{rowid}, {old});")
        content = f"content={self.literal(table.name)}"
        if rowid_col is not None:
            content += f", content_rowid={self.literal(rowid_col.name)}"
        return [
            Statement(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, {content})",
                [*self.index_comments(ix),
                 "SQLite full-text search is an FTS5 table over the rows; query it with "
                 f"{ix.name} MATCH ? and join back on rowid"],
            ),
            Statement(f"CREATE TRIGGER {self.quote(ix.name + '_ai')} AFTER INSERT ON {t} "
                      f"BEGIN {insert} END"),
            Statement(f"CREATE TRIGGER {self.quote(ix.name + '_ad')} AFTER DELETE ON {t} "
                      f"BEGIN {delete} END"),
            Statement(f"CREATE TRIGGER {self.quote(ix.name + '_au')} AFTER UPDATE OF {cols} "
                      f"ON {t} BEGIN {delete} {insert} END"),
        ]
