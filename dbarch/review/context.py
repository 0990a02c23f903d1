"""What a review rule reads: the schema, the dialect, the live facts, the knowledge file, and
the SQL spellings each dialect needs for its fixes."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from dbarch.advisor.existing import DropCandidate, ExistingIndex, judge
from dbarch.review.facts import ColumnStats, Facts, TableFacts
from dbarch.review.knowledge import knowledge
from dbarch.schema.model import Column, DefaultKind, Schema, Table, TypeKind

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
_INT_KINDS = {TypeKind.smallint: "smallint", TypeKind.int: "int", TypeKind.bigint: "bigint"}
_NATIVE_INTS = {"tinyint": "tinyint", "smallint": "smallint", "int2": "smallint",
                "mediumint": "mediumint", "int": "int", "integer": "int", "int4": "int",
                "serial": "int", "bigint": "bigint", "int8": "bigint", "bigserial": "bigint"}


class ReviewContext:
    """The input of every rule; `facts` is None when the schema came from a DDL file."""

    def __init__(self, schema: Schema, dialect: str, facts: Facts | None = None,
                 data: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.dialect = dialect
        self.facts = facts
        self.data = data if data is not None else knowledge()
        self._modified: dict[tuple[str, str], dict[str, Any]] = {}

    # ------------------------------------------------------------------ SQL spelling

    def q(self, name: str) -> str:
        """An identifier as the dialect needs it written: bare when lowercase and plain."""
        if _PLAIN.match(name):
            return name
        if self.dialect == "mysql":
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def columns_sql(self, names: list[str]) -> str:
        return ", ".join(self.q(n) for n in names)

    def alter_column(self, table: Table, column: Column, *, native: str | None = None,
                     not_null: bool | None = None) -> str | None:
        """The statement that changes a column's type and/or nullability, or None on SQLite
        (which cannot alter a column in place: the table is rebuilt)."""
        t, c = self.q(table.name), self.q(column.name)
        if self.dialect == "postgresql":
            parts = []
            if native is not None:
                parts.append(f"ALTER COLUMN {c} TYPE {native}")
            if not_null:
                parts.append(f"ALTER COLUMN {c} SET NOT NULL")
            return f"ALTER TABLE {t} " + ", ".join(parts) + ";"
        if self.dialect == "mysql":
            # MODIFY restates the whole column: a later fix to the same column carries the
            # earlier ones' changes, or applying both would undo the first.
            earlier = self._modified.setdefault((table.name, column.name), {})
            merged = bool(earlier)
            native = native or earlier.get("native")
            not_null = not_null if not_null is not None else earlier.get("not_null")
            earlier.update({k: v for k, v in (("native", native), ("not_null", not_null))
                            if v is not None})
            nullable = column.nullable if not_null is None else not not_null
            definition = native or column.type.native or column.type.kind.value
            definition += " NULL" if nullable else " NOT NULL"
            default = column.default
            if default is not None:
                if default.kind == DefaultKind.now:
                    definition += " DEFAULT CURRENT_TIMESTAMP"
                elif default.kind == DefaultKind.value and isinstance(default.value, str):
                    definition += " DEFAULT '" + default.value.replace("'", "''") + "'"
                elif default.value is not None:
                    definition += f" DEFAULT {default.value}"
            if column.identity:
                definition += " AUTO_INCREMENT"
            statement = f"ALTER TABLE {t} MODIFY {c} {definition}, ALGORITHM=COPY;"
            if merged:
                statement += "  -- with the change above to this column"
            return statement
        return None

    # ------------------------------------------------------------------ the schema

    def key_column_lists(self, table: Table) -> list[list[str]]:
        """The column lists of the table's primary key, unique constraints and indexes (plain
        B-tree, no predicate): what can serve a lookup on their leading columns."""
        lists = [list(table.primary_key)] if table.primary_key else []
        lists += [list(u.columns) for u in table.uniques]
        lists += [ix.column_names for ix in table.indexes
                  if ix.method.value == "btree" and ix.where is None]
        return lists

    def int_limit(self, column: Column) -> int | None:
        """The largest value the column's integer type holds (None: not an integer). The
        native spelling decides (MySQL's INT UNSIGNED reads as the neutral bigint)."""
        native = (column.type.native or "").lower()
        limits = self.data["int_limits"]["unsigned" if "unsigned" in native else "signed"]
        if self.dialect == "sqlite":
            return int(limits["bigint"])  # every SQLite INTEGER is 64-bit
        word = re.split(r"[\s(]", native, maxsplit=1)[0]
        name = _NATIVE_INTS.get(word) or _INT_KINDS.get(column.type.kind)
        return int(limits[name]) if name else None

    @staticmethod
    def words(name: str) -> list[str]:
        """A name's words: split on _ and on case changes, lowercased."""
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
        return [w for w in re.split(r"[_\W]+", spaced.lower()) if w]

    # ------------------------------------------------------------------ the facts

    def table_facts(self, table: str) -> TableFacts | None:
        return self.facts.tables.get(table) if self.facts else None

    def stats(self, table: str, column: str) -> tuple[ColumnStats, TableFacts] | None:
        """A column's statistics, when the table has enough rows behind them to mean something."""
        found = self.table_facts(table)
        if found is None or found.stats_rows < int(self.data["min_rows_for_stats"]):
            return None
        stats = found.columns.get(column)
        return (stats, found) if stats is not None else None

    def existing_indexes(self) -> list[ExistingIndex]:
        """The indexes as advisor.existing judges them: the server's (PostgreSQL: with sizes
        and scan counts), else built from the schema model (no usage known)."""
        if self.facts is not None and self.facts.indexes is not None:
            return self.facts.indexes
        found = []
        for table in self.schema.tables:
            if table.primary_key:
                found.append(ExistingIndex(
                    name=f"{table.name}_pkey" if self.dialect != "mysql" else "PRIMARY",
                    table=table.name, keys=tuple(table.primary_key), unique=True, primary=True,
                    constraint=f"{table.name}_pkey"))
            for u in table.uniques:
                found.append(ExistingIndex(name=u.name, table=table.name, keys=tuple(u.columns),
                                           unique=True, constraint=u.name))
            for ix in table.indexes:
                keys = tuple(c.name + (" DESC" if c.desc else "") + (" text_pattern_ops"
                             if c.pattern_ops else "") for c in ix.columns)
                found.append(ExistingIndex(
                    name=ix.name, table=table.name, keys=keys, include=tuple(ix.include),
                    unique=ix.unique, predicate=ix.where, method=ix.method.value))
        return found

    @cached_property
    def drops(self) -> list[DropCandidate]:
        """advisor.existing.judge over the indexes: duplicate, redundant, unused. Indexes of a
        table read fewer than `unused_index.min_table_reads` times are kept out of "unused"."""
        floor = int(self.data["unused_index"]["min_table_reads"])
        by_table: dict[str, list[ExistingIndex]] = {}
        quiet = []
        for index in self.existing_indexes():
            by_table.setdefault(index.table, []).append(index)
            found = self.table_facts(bare(index.table))
            if found is None or found.reads is None or found.reads < floor:
                quiet.append(bare(index.name))
        # judge compares every index with every other (quadratic); only indexes of one table
        # can duplicate or cover each other, so judging table by table gives the same answer
        # in linear time over the tables (10,000 indexes: 0.1 s instead of minutes).
        drops: list[DropCandidate] = []
        for table in sorted(by_table):
            drops.extend(judge(by_table[table], in_use=quiet))
        return drops

    def drop_statement(self, drop: DropCandidate) -> str:
        """The statement that drops an index (or the constraint behind it) in this dialect."""
        if self.dialect == "postgresql":
            return drop.statement + ";"
        index, table = drop.index, self.q(bare(drop.index.table))
        if self.dialect == "mysql":
            return f"ALTER TABLE {table} DROP INDEX {self.q(bare(index.name))}, " \
                   "ALGORITHM=INPLACE, LOCK=NONE;"
        return f"DROP INDEX {self.q(bare(index.name))};"


def singular(word: str) -> str:
    """`orders` → `order`, `categories` → `category`, `addresses` → `address`; `status` stays
    (a heuristic for table names, not a dictionary)."""
    lowered = word.lower()
    if lowered.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if lowered.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def bare(name: str) -> str:
    """`public.orders` → `orders`: findings name tables as the schema model does."""
    return name.rsplit(".", 1)[-1]
