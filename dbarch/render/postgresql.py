"""PostgreSQL (15+): identity columns, COMMENT ON, INCLUDE, GIN/BRIN, declarative partitioning."""

from __future__ import annotations

from typing import ClassVar

from dbarch.render.base import DdlRenderer, Statement, column_comment, fit_name, flat
from dbarch.schema.model import (
    Index,
    IndexColumn,
    IndexMethod,
    PartitionKind,
    Table,
    TypeKind,
)


class PostgresRenderer(DdlRenderer):
    """PostgreSQL DDL."""

    dialect: ClassVar[str] = "postgresql"
    has_include: ClassVar[bool] = True

    def bool_literal(self, value: bool) -> str:
        """PostgreSQL's own spelling: lower-case true/false."""
        return "true" if value else "false"

    def table_suffix(self, table: Table) -> str:
        """PARTITION BY RANGE/HASH on the parent table."""
        p = table.partitioning
        if p is None or not self.partitions_table(table):
            return ""
        return f" PARTITION BY {p.kind.value.upper()} ({self.quote(p.column)})"

    def partitions_table(self, table: Table) -> bool:
        """Range and hash partitioning are rendered; list needs values the model lacks."""
        p = table.partitioning
        return p is not None and p.kind in (PartitionKind.range, PartitionKind.hash)

    def partition_statements(self, table: Table, notes: list[str]) -> list[Statement]:
        """The first range partitions plus a DEFAULT one, or every hash partition."""
        p = table.partitioning
        if p is None:
            return []
        if not self.partitions_table(table):
            notes.append(f"{p.kind.value} partitioning needs its value lists: not rendered")
            return []
        parent = self.quote(table.name)
        out: list[Statement] = []
        if p.kind == PartitionKind.hash:
            n = p.partitions or 8
            for i in range(n):
                name = self.quote(fit_name(table.name, f"h{i}", self.conf["max_identifier"]))
                out.append(Statement(
                    f"CREATE TABLE {name} PARTITION OF {parent} "
                    f"FOR VALUES WITH (MODULUS {n}, REMAINDER {i})"
                ))
            return out
        for i, (suffix, start, end) in enumerate(self.range_bounds(table)):
            name = self.quote(fit_name(table.name, suffix, self.conf["max_identifier"]))
            comments = ([f"the current {p.interval or 'month'} and {self.partitions_ahead} ahead; "
                         "a scheduled job creates the next ones (pg_partman or cron)"]
                        if i == 0 else [])
            out.append(Statement(
                f"CREATE TABLE {name} PARTITION OF {parent} "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')",
                comments,
            ))
        default = self.quote(fit_name(table.name, "default", self.conf["max_identifier"]))
        out.append(Statement(
            f"CREATE TABLE {default} PARTITION OF {parent} DEFAULT",
            ["catches rows outside the created ranges; alert if it is ever non-empty"],
        ))
        return out

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        """GIN over to_tsvector for text search, USING for the other methods."""
        if any(table.column(c.name).type.kind == TypeKind.geo for c in ix.columns):
            # point has no B-tree operator class; GiST indexes it and serves <-> nearest
            sql = (f"CREATE INDEX {self.quote(ix.name)} ON {self.quote(table.name)} "
                   f"USING gist ({self.cols(ix.column_names)})")
            return [Statement(sql, [*self.index_comments(ix), "GiST: points have no B-tree"])]
        if ix.method == IndexMethod.btree:
            return super().create_index(table, ix, notes)
        if self.is_text_search(table, ix):
            cfg = self.conf["text_search_config"]
            keys = ", ".join(
                f"to_tsvector('{cfg}', {self.quote(c.name)})" for c in ix.columns
            )
        else:
            keys = ", ".join(self.index_column(table, c) for c in ix.columns)
        sql = (f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {self.quote(ix.name)} "
               f"ON {self.quote(table.name)} USING {ix.method.value} ({keys})")
        if ix.include and ix.method == IndexMethod.btree:
            sql += f" INCLUDE ({self.cols(ix.include)})"
        if ix.where:
            sql += f" WHERE {ix.where}"
        return [Statement(sql, self.index_comments(ix))]

    def btree_index_sql(self, table: Table, ix: Index, notes: list[str]) -> str:
        """A B-tree with real INCLUDE columns and a partial predicate."""
        cols = ", ".join(self.index_column(table, c) for c in ix.columns)
        sql = (f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {self.quote(ix.name)} "
               f"ON {self.quote(table.name)} ({cols})")
        if ix.include:
            sql += f" INCLUDE ({self.cols(ix.include)})"
        if ix.where:
            sql += f" WHERE {ix.where}"
        return sql

    def index_column(self, table: Table, c: IndexColumn) -> str:
        """A key column, with text_pattern_ops where it serves prefix LIKE."""
        out = self.quote(c.name)
        if c.pattern_ops and table.column(c.name).type.kind in (
            TypeKind.string, TypeKind.text, TypeKind.enum
        ):
            out += f" {self.conf['prefix_opclass']}"
        return out + (" DESC" if c.desc else "")

    def comment_statements(self, table: Table) -> list[Statement]:
        """COMMENT ON TABLE and COMMENT ON COLUMN, sensitive columns marked."""
        out = []
        if table.comment:
            out.append(Statement(
                f"COMMENT ON TABLE {self.quote(table.name)} IS {self.literal(flat(table.comment))}"
            ))
        for col in table.columns:
            text = column_comment(col)
            if text:
                out.append(Statement(
                    f"COMMENT ON COLUMN {self.quote(table.name)}.{self.quote(col.name)} "
                    f"IS {self.literal(text)}"
                ))
        return out
