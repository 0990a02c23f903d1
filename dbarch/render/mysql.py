"""MySQL 8 and MariaDB 10.11: AUTO_INCREMENT, inline COMMENT, ENUM, FULLTEXT, no INCLUDE."""

from __future__ import annotations

from typing import ClassVar

from dbarch.render.base import DdlRenderer, Statement, column_comment, flat
from dbarch.schema.model import (
    Column,
    ColumnType,
    Index,
    IndexColumn,
    IndexMethod,
    PartitionKind,
    Table,
    TypeKind,
)

# Columns InnoDB can index only by a prefix of their value.
_PREFIX_ONLY = frozenset({TypeKind.text, TypeKind.blob})


class MySqlRenderer(DdlRenderer):
    """MySQL 8.0 / MariaDB 10.11 DDL: one text that both accept."""

    dialect: ClassVar[str] = "mysql"

    def literal(self, value: str | int | float | bool | None) -> str:
        """Backslashes doubled too: MySQL reads them as escapes inside string literals."""
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return super().literal(value)

    def column_type(self, ctype: ColumnType) -> str:
        """ENUM('a', 'b') for enums; the type map for the rest."""
        if ctype.kind == TypeKind.enum and ctype.values and self.conf["enum_style"] == "native":
            return f"ENUM({', '.join(self.literal(v) for v in ctype.values)})"
        return super().column_type(ctype)

    def default_clause(self, col: Column) -> str | None:
        """Literal defaults of JSON/TEXT/BLOB columns as expressions (MySQL 8.0.13+)."""
        # MySQL 8 rejects literal defaults on JSON/TEXT/BLOB columns (only expressions).
        if col.type.kind in (TypeKind.json, TypeKind.array, TypeKind.text, TypeKind.blob) and (
            col.default is not None and col.default.kind.value == "value"
        ):
            return f"({super().default_clause(col)})"
        return super().default_clause(col)

    def column_extras(self, table: Table, col: Column) -> list[str]:
        """ON UPDATE CURRENT_TIMESTAMP(6) for updated_at, and the inline COMMENT."""
        out = []
        if col.type.kind == TypeKind.timestamp and col.name in self.conf["on_update_now"]:
            out.append(f"ON UPDATE {self.conf['defaults']['now']}")
        text = column_comment(col)
        if text:  # MySQL refuses column comments over 1024 characters in strict mode
            out.append(f"COMMENT {self.literal(text[:1024])}")
        return out

    def table_suffix(self, table: Table) -> str:
        """ENGINE and charset, table COMMENT, and RANGE COLUMNS / KEY partitioning."""
        out = f" {self.conf['table_options']}"
        if table.comment:
            out += f" COMMENT={self.literal(flat(table.comment)[:2048])}"
        p = table.partitioning
        if p is not None and self.partitions_table(table):
            if p.kind == PartitionKind.hash:
                out += f"\nPARTITION BY KEY ({self.quote(p.column)}) PARTITIONS {p.partitions or 8}"
            else:
                parts = [
                    f"  PARTITION {suffix} VALUES LESS THAN ('{end.isoformat()}')"
                    for suffix, _, end in self.range_bounds(table)
                ]
                parts.append("  PARTITION pmax VALUES LESS THAN (MAXVALUE)")
                out += (f"\nPARTITION BY RANGE COLUMNS ({self.quote(p.column)}) (\n"
                        + ",\n".join(parts) + "\n)")
        return out

    def partitions_table(self, table: Table) -> bool:
        """Only where InnoDB allows it: no foreign keys either way, no FULLTEXT."""
        p = table.partitioning
        if p is None or p.kind == PartitionKind.list:
            return False
        referenced = any(
            fk.ref_table == table.name for t in self.schema.tables for fk in t.foreign_keys
        )
        text_search = any(self.is_text_search(table, ix) for ix in table.indexes)
        return not table.foreign_keys and not referenced and not text_search

    def no_partitioning_reason(self, table: Table) -> str:
        """What InnoDB forbids, and what to do instead."""
        return (f"not partitioned on {self.dialect}: InnoDB partitioned tables can neither have "
                "nor be the target of foreign keys, nor carry FULLTEXT indexes; keep the "
                "foreign keys and purge old rows in batches by the time column instead")

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        """FULLTEXT for text search; no JSON GIN and no partial indexes, said in notes."""
        if self.is_text_search(table, ix):
            sql = (f"CREATE FULLTEXT INDEX {self.quote(ix.name)} ON {self.quote(table.name)} "
                   f"({self.cols(ix.column_names)})")
            return [Statement(sql, [*self.index_comments(ix),
                                    "InnoDB FULLTEXT: query with MATCH (...) AGAINST (...)"])]
        if ix.method == IndexMethod.gin:
            notes.append(f"{ix.name} not rendered: InnoDB cannot index a whole JSON document; "
                         "index a generated column per key that is searched")
            return []
        kinds = {table.column(c.name).type.kind for c in ix.columns}
        if kinds & {TypeKind.json, TypeKind.array}:
            notes.append(f"{ix.name} not rendered: InnoDB cannot index a JSON column; index a "
                         "generated column of the key that is searched")
            return []
        if TypeKind.geo in kinds:
            col = table.column(ix.columns[0].name)
            if len(ix.columns) == 1 and not col.nullable:
                return [Statement(f"CREATE SPATIAL INDEX {self.quote(ix.name)} ON "
                                  f"{self.quote(table.name)} ({self.quote(col.name)})",
                                  self.index_comments(ix))]
            notes.append(f"{ix.name} not rendered: a SPATIAL index takes one NOT NULL column")
            return []
        if ix.where and ix.unique:
            notes.append(f"{ix.name} not rendered: a partial unique index (WHERE {ix.where}) has "
                         "no equivalent on MySQL; enforce it in the application")
            return []
        if ix.where:
            notes.append(f"{ix.name}: MySQL has no partial indexes, so it covers every row")
        stmt = super().create_index(table, ix, notes)
        if ix.method != IndexMethod.btree:
            stmt[0].comments.append(f"{ix.method.value} is PostgreSQL-only: a B-tree here")
        return stmt

    def btree_index_sql(self, table: Table, ix: Index, notes: list[str]) -> str:
        """A B-tree without the partial predicate MySQL cannot express."""
        return super().btree_index_sql(table, ix.model_copy(update={"where": None}), notes)

    def index_column(self, table: Table, c: IndexColumn) -> str:
        """A key column, by a prefix of its value for TEXT/BLOB columns."""
        out = self.quote(c.name)
        if table.column(c.name).type.kind in _PREFIX_ONLY:
            out += f"({self.conf['index_prefix']})"
        return out + (" DESC" if c.desc else "")
