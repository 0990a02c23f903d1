"""The DDL renderer every SQL dialect shares: it walks a Schema and writes CREATE statements.

A dialect (`postgresql.py`, `mysql.py`, `sqlite.py`) subclasses `DdlRenderer` and overrides only
the statements whose *shape* differs; how a dialect *spells* things (types, identity, defaults,
reserved words) is data in `dbarch/data/types.yaml`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from dbarch.data_files import load_yaml
from dbarch.schema.model import (
    Check,
    Column,
    ColumnType,
    DefaultKind,
    ForeignKey,
    Index,
    IndexColumn,
    IndexMethod,
    PartitionKind,
    Schema,
    Table,
    TypeKind,
    Unique,
)
from dbarch.spec.quantities import human_rate

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Types whose values are words: a GIN index on them means full-text search, not containment.
TEXTUAL = frozenset({TypeKind.string, TypeKind.text})


def dialect_data() -> dict[str, Any]:
    """The parsed `dbarch/data/types.yaml`: per-dialect types, defaults, reserved words."""
    return load_yaml("types.yaml")


@dataclass
class Statement:
    """One SQL statement and the `--` comment lines written above it."""

    sql: str
    comments: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The statement with its comments, without the terminating semicolon."""
        head = "".join(f"-- {one_line(c)}\n" for c in self.comments)
        return head + self.sql


def one_line(text: str) -> str:
    """Text safe inside a `--` comment: one line, and no `;` that a naive splitter would cut at."""
    return " ".join(text.split()).replace(";", ",")


def ordered_tables(tables: list[Table]) -> tuple[list[Table], set[tuple[str, str]]]:
    """Tables in foreign-key dependency order (parents first), stable in the given order.

    Returns the order and the (table, foreign key) pairs that point forward because of a cycle;
    those must be added after both tables exist.
    """
    by_name = {t.name: t for t in tables}
    done: set[str] = set()
    order: list[Table] = []
    forward: set[tuple[str, str]] = set()
    pending = list(tables)
    while pending:
        ready = next(
            (
                t for t in pending
                if all(fk.ref_table in done or fk.ref_table == t.name
                       or fk.ref_table not in by_name for fk in t.foreign_keys)
            ),
            None,
        )
        if ready is None:  # a cycle: break it at the first pending table
            ready = pending[0]
            forward |= {
                (ready.name, fk.name) for fk in ready.foreign_keys
                if fk.ref_table not in done and fk.ref_table != ready.name
            }
        pending.remove(ready)
        done.add(ready.name)
        order.append(ready)
    return order, forward


class DdlRenderer:
    """Renders a Schema as DDL statements. Subclasses set `dialect` and override what differs."""

    dialect: ClassVar[str] = ""
    # Whether a foreign key may name a table created later (SQLite resolves them at DML time).
    forward_references: ClassVar[bool] = False
    partitions_ahead: ClassVar[int] = 3
    has_include: ClassVar[bool] = False

    def __init__(self, as_of: date | None = None) -> None:
        data = dialect_data()
        self.conf: dict[str, Any] = data[self.dialect]
        self.reserved = frozenset(data["reserved"][self.dialect].split())
        self.as_of = as_of or date.today()
        self.schema = Schema(name="", tables=[])
        self.rates: dict[str, float] = {}
        self.functions: set[str] = set()

    # ----------------------------------------------------------------- the walk

    def render(self, schema: Schema) -> list[Statement]:
        """Every statement that creates `schema`, in an order the engine accepts."""
        self.schema = schema
        self.rates = {q.pattern: q.rate for q in schema.queries}
        self.functions = set()
        self._check_names(schema)
        order, forward = ordered_tables(schema.tables)
        if self.forward_references:
            forward = set()
        statements: list[Statement] = []
        for table in order:
            deferred = {name for t, name in forward if t == table.name}
            statements.extend(self.table_statements(table, deferred))
        for table in order:
            for fk in table.foreign_keys:
                if (table.name, fk.name) in forward:
                    statements.append(self.add_foreign_key(table, fk))
        return statements

    def table_statements(self, table: Table, deferred_fks: set[str]) -> list[Statement]:
        """CREATE TABLE, then its partitions, indexes and comments."""
        notes: list[str] = []
        indexes: list[Statement] = []
        for u in table.uniques:
            stmt = self.unique_index(table, u)
            if stmt is not None:
                indexes.append(stmt)
        for ix in table.indexes:
            indexes.extend(self.create_index(table, ix, notes))
        partitions = self.partition_statements(table, notes)
        create = self.create_table(table, deferred_fks, notes)
        return [create, *partitions, *indexes, *self.comment_statements(table),
                *self.touch_statements(table)]

    # ----------------------------------------------------------------- names and literals

    def quote(self, name: str) -> str:
        """`name` as an identifier: bare when plain and not reserved, quoted otherwise."""
        if _PLAIN.match(name) and name not in self.reserved:
            return name
        q = self.conf["quote"]
        return q + name.replace(q, q + q) + q

    def literal(self, value: str | int | float | bool | None) -> str:
        """A SQL literal."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.bool_literal(value)
        if isinstance(value, int | float):
            return number(value)
        return "'" + str(value).replace("'", "''") + "'"

    def bool_literal(self, value: bool) -> str:
        """How the dialect writes true and false."""
        return "TRUE" if value else "FALSE"

    def _check_names(self, schema: Schema) -> None:
        limit = self.conf.get("max_identifier")
        if not limit:
            return
        for t in schema.tables:
            names = [t.name, *(c.name for c in t.columns), *(i.name for i in t.indexes),
                     *(u.name for u in t.uniques), *(f.name for f in t.foreign_keys),
                     *(c.name for c in t.checks)]
            for n in names:
                if len(n) > limit:
                    raise ValueError(
                        f"{t.name}: identifier {n!r} is {len(n)} characters; "
                        f"{self.dialect} allows {limit}"
                    )

    # ----------------------------------------------------------------- CREATE TABLE

    def create_table(self, table: Table, deferred_fks: set[str], notes: list[str]) -> Statement:
        """The CREATE TABLE statement with columns and inline constraints."""
        items: list[tuple[str, str | None]] = [
            (self.column_def(table, c), self.inline_column_comment(c)) for c in table.columns
        ]
        pk = self.primary_key_clause(table)
        if pk:
            items.append((pk, None))
        items += [(s, None) for u in table.uniques if (s := self.unique_clause(table, u))]
        items += [(s, None) for ck in table.checks if (s := self.check_clause(table, ck))]
        items += [(s, None) for s in self.type_checks(table)]
        items += [
            (self.foreign_key_clause(fk), None)
            for fk in table.foreign_keys if fk.name not in deferred_fks
        ]
        lines = []
        for i, (sql, comment) in enumerate(items):
            sep = "," if i < len(items) - 1 else ""
            lines.append(f"  {sql}{sep}" + (f"  -- {one_line(comment)}" if comment else ""))
        body = "\n".join(lines)
        sql = f"CREATE TABLE {self.quote(table.name)} (\n{body}\n){self.table_suffix(table)}"
        comments = []
        if table.comment and self.conf["comments"] == "sql":
            comments.append(table.comment)
        if table.key_reason:
            comments.append(f"key: {table.key_reason}")
        comments += [f"note: {n}" for n in table.notes]
        if table.partitioning is not None and table.partitioning.reason:
            comments.append(f"partitioning: {table.partitioning.reason}")
        comments += notes
        return Statement(sql, comments)

    def table_suffix(self, table: Table) -> str:
        """What follows the closing parenthesis: table options, partitioning."""
        return ""

    def column_def(self, table: Table, col: Column) -> str:
        """One column: name, type, identity, NOT NULL, default."""
        parts = [self.quote(col.name), self.column_type(col.type)]
        if col.identity:
            parts.append(self.identity_clause(table, col))
        if not col.nullable:
            parts.append("NOT NULL")
        default = self.default_clause(col)
        if default:
            parts.append(f"DEFAULT {default}")
        parts += self.column_extras(table, col)
        return " ".join(p for p in parts if p)

    def column_extras(self, table: Table, col: Column) -> list[str]:
        """Clauses after the default (MySQL: ON UPDATE, COMMENT)."""
        return []

    def inline_column_comment(self, col: Column) -> str | None:
        """A `--` comment after the column line, for dialects that keep comments in the SQL."""
        if self.conf["comments"] != "sql":
            return None
        return column_comment(col)

    def identity_clause(self, table: Table, col: Column) -> str:
        """How the column is generated by the database."""
        return str(self.conf["identity"] or "")

    def column_type(self, ctype: ColumnType) -> str:
        """The dialect's name for a neutral column type."""
        spec = self.conf["types"][ctype.kind.value]
        if isinstance(spec, dict):
            template, fallback = spec["template"], spec.get("fallback")
        else:
            template, fallback = str(spec), None
        values: dict[str, Any] = {
            "length": ctype.length,
            "precision": ctype.precision,
            "scale": ctype.scale if ctype.scale is not None or ctype.precision is None else 0,
            "items": self.column_type(ColumnType(kind=ctype.items)) if ctype.items else None,
        }
        needed = _PLACEHOLDER.findall(template)
        if any(values.get(n) is None for n in needed):
            if fallback is None:
                return _PLACEHOLDER.sub("", template).replace("()", "")
            return str(fallback)
        return template.format(**values)

    def default_clause(self, col: Column) -> str | None:
        """The DEFAULT expression, or None."""
        d = col.default
        if d is None:
            return None
        if d.kind == DefaultKind.now:
            return str(self.conf["defaults"]["now"])
        if d.kind == DefaultKind.uuid_v7:
            expr = self.conf["defaults"].get("uuid_v7")
            return str(expr) if expr else None
        return self.literal(d.value)

    def primary_key_clause(self, table: Table) -> str | None:
        """The table-level PRIMARY KEY clause, or None when declared on the column."""
        cols = self.primary_key(table)
        if not cols:  # a parsed or introspected table may have none
            return None
        return f"CONSTRAINT {self.quote(table.name + '_pkey')} PRIMARY KEY ({self.cols(cols)})"

    def primary_key(self, table: Table) -> list[str]:
        """The key as rendered: a partition column added only for partitioning is dropped
        where this dialect does not partition the table."""
        p = table.partitioning
        pk = list(table.primary_key)
        if (p is not None and not self.partitions_table(table) and len(pk) > 1
                and p.column in pk and "id" in pk):
            # Only beside a surrogate id was it added; in a natural key it is part of the key.
            pk.remove(p.column)
        return pk

    def unique_clause(self, table: Table, u: Unique) -> str | None:
        """An inline UNIQUE constraint; None when the dialect creates it as an index."""
        return f"CONSTRAINT {self.quote(u.name)} UNIQUE ({self.cols(u.columns)})"

    def unique_index(self, table: Table, u: Unique) -> Statement | None:
        """A unique constraint as a CREATE UNIQUE INDEX, for dialects that need that."""
        return None

    def check_clause(self, table: Table, ck: Check) -> str | None:
        """A CHECK constraint from the structured Check model."""
        col = self.quote(ck.column)
        conds = []
        if ck.values is not None:
            if self.native_enum(table, ck):
                return None
            conds.append(f"{col} IN ({', '.join(self.literal(v) for v in ck.values)})")
        if ck.min is not None:
            conds.append(f"{col} >= {number(ck.min)}")
        if ck.max is not None:
            conds.append(f"{col} <= {number(ck.max)}")
        if ck.not_blank:
            conds.append(f"trim({col}) <> ''")
        if not conds:
            return None
        return f"CONSTRAINT {self.quote(ck.name)} CHECK ({' AND '.join(conds)})"

    def native_enum(self, table: Table, ck: Check) -> bool:
        """Whether the column's type already restricts it to the check's values."""
        if self.conf.get("enum_style") != "native":
            return False
        col = table.column(ck.column)
        return col.type.kind == TypeKind.enum and set(col.type.values or ()) == set(ck.values or ())

    def type_checks(self, table: Table) -> list[str]:
        """CHECKs a dialect adds because its types do not enforce themselves (SQLite)."""
        templates: dict[str, str] = self.conf.get("column_checks") or {}
        out = []
        for col in table.columns:
            t = templates.get(col.type.kind.value)
            if t:
                name = self.quote(f"{table.name}_{col.name}_{col.type.kind.value}")
                out.append(f"CONSTRAINT {name} CHECK ({t.format(col=self.quote(col.name))})")
        return out

    def foreign_key_clause(self, fk: ForeignKey) -> str:
        """An inline FOREIGN KEY constraint."""
        return (
            f"CONSTRAINT {self.quote(fk.name)} FOREIGN KEY ({self.cols(fk.columns)}) "
            f"REFERENCES {self.quote(fk.ref_table)} ({self.cols(fk.ref_columns)}) "
            f"ON DELETE {fk.on_delete.value}"
        )

    def add_foreign_key(self, table: Table, fk: ForeignKey) -> Statement:
        """A foreign key added after both tables exist (reference cycles)."""
        return Statement(
            f"ALTER TABLE {self.quote(table.name)} ADD {self.foreign_key_clause(fk)}",
            [f"{table.name} and {fk.ref_table} refer to each other: added once both exist"],
        )

    def cols(self, names: list[str]) -> str:
        """A quoted, comma-separated column list."""
        return ", ".join(self.quote(n) for n in names)

    # ----------------------------------------------------------------- indexes

    def index_comments(self, ix: Index) -> list[str]:
        """`serves: user_orders (200/s)` and the reason, above the index."""
        comments = []
        if ix.serves:
            served = ", ".join(
                f"{p} ({human_rate(self.rates[p])})" if p in self.rates else p for p in ix.serves
            )
            comments.append(f"serves: {served}")
        if ix.reason:
            comments.append(f"why: {ix.reason}")
        return comments

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        """The statements for one index; may add a note to the table when adapted or skipped."""
        stmt = Statement(self.btree_index_sql(table, ix, notes), self.index_comments(ix))
        if ix.include and not ix.unique and not self.has_include:
            stmt.comments.append(f"{self.dialect} has no INCLUDE: covering columns "
                                 f"{', '.join(ix.include)} are trailing key columns")
        return [stmt]

    def btree_index_sql(self, table: Table, ix: Index, notes: list[str]) -> str:
        """A plain CREATE [UNIQUE] INDEX; INCLUDE columns become trailing key columns and a
        partial predicate is dropped, where the dialect lacks them (said in a note)."""
        cols = [self.index_column(table, c) for c in ix.columns]
        if ix.include:
            if ix.unique:
                notes.append(f"{ix.name}: INCLUDE ({', '.join(ix.include)}) not rendered: "
                             f"{self.dialect} has no INCLUDE and extra key columns would "
                             "weaken uniqueness")
            else:
                cols += [self.index_column(table, IndexColumn(name=c)) for c in ix.include]
        unique = "UNIQUE " if ix.unique else ""
        sql = f"CREATE {unique}INDEX {self.quote(ix.name)} ON {self.quote(table.name)} "
        sql += f"({', '.join(cols)})"
        if ix.where:
            sql += f" WHERE {ix.where}"
        return sql

    def index_column(self, table: Table, c: IndexColumn) -> str:
        """One key column of a btree index."""
        return self.quote(c.name) + (" DESC" if c.desc else "")

    def is_text_search(self, table: Table, ix: Index) -> bool:
        """A GIN index over words: the neutral model's way to say full-text search."""
        return ix.method == IndexMethod.gin and all(
            table.column(c.name).type.kind in TEXTUAL for c in ix.columns
        )

    # ----------------------------------------------------------------- partitions, comments

    def partitions_table(self, table: Table) -> bool:
        """Whether this dialect renders the table's partitioning."""
        return False

    def partition_statements(self, table: Table, notes: list[str]) -> list[Statement]:
        """Statements creating the first partitions (PostgreSQL)."""
        if table.partitioning is not None and not self.partitions_table(table):
            notes.append(self.no_partitioning_reason(table))
        return []

    def no_partitioning_reason(self, table: Table) -> str:
        """Why the table's partitioning is not rendered on this dialect."""
        return f"{self.dialect} does not partition tables; {table.name} is one table here"

    def touch_statements(self, table: Table) -> list[Statement]:
        """Triggers that set `updated_at` (per `on_update_now`) on every UPDATE, for dialects
        without MySQL's ON UPDATE column clause; the trigger function comes once."""
        template = self.conf.get("touch_trigger")
        if not template:
            return []
        out = []
        for col in table.columns:
            if col.type.kind != TypeKind.timestamp or col.name not in self.conf["on_update_now"]:
                continue
            function = f"set_{col.name}"
            body = self.conf.get("touch_function")
            if body and function not in self.functions:
                self.functions.add(function)
                out.append(Statement(
                    body.format(function=self.quote(function), col=self.quote(col.name)),
                    [f"keeps {col.name} at the time of the row's last UPDATE"],
                ))
            match = " AND ".join(f"{self.quote(k)} = NEW.{self.quote(k)}"
                                 for k in self.primary_key(table)) or "rowid = NEW.rowid"
            out.append(Statement(template.format(
                trigger=self.quote(fit_name(table.name, f"set_{col.name}",
                                            self.conf.get("max_identifier"))),
                table=self.quote(table.name), col=self.quote(col.name),
                function=self.quote(function), now=self.conf["defaults"]["now"], match=match,
            )))
        return out

    def comment_statements(self, table: Table) -> list[Statement]:
        """COMMENT ON statements, for dialects that have them."""
        return []

    def range_bounds(self, table: Table) -> list[tuple[str, date, date]]:
        """(suffix, from, to) of the first time-range partitions: the current interval and
        `partitions_ahead` more, so inserts never hit the default partition before the
        maintenance job creates the next ones."""
        p = table.partitioning
        assert p is not None and p.kind == PartitionKind.range
        start = interval_start(self.as_of, p.interval or "month")
        out = []
        for _ in range(self.partitions_ahead + 1):
            nxt = next_interval(start, p.interval or "month")
            out.append((interval_suffix(start, p.interval or "month"), start, nxt))
            start = nxt
        return out


def flat(text: str) -> str:
    """Text on one line: a comment literal must never hold `;` + newline, where scripts split."""
    return " ".join(text.split())


def column_comment(col: Column) -> str | None:
    """The column's comment on one line, marked when the column is sensitive."""
    if col.sensitive:
        text = col.comment or "PII or secret: encrypt at rest, mask in logs and exports"
        return flat(text if text.lower().startswith("sensitive") else f"SENSITIVE: {text}")
    return flat(col.comment) if col.comment else None


def fit_name(base: str, suffix: str, limit: int | None = 63) -> str:
    """`base_suffix`, shortened with a stable hash when longer than the identifier limit."""
    name = f"{base}_{suffix}"
    if limit is None or len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{base[: limit - len(suffix) - 8]}_{digest}_{suffix}"


def number(value: float) -> str:
    """A number literal without a useless `.0`."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def interval_start(day: date, interval: str) -> date:
    """The first day of the interval that contains `day`."""
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "year":
        return date(day.year, 1, 1)
    return date(day.year, day.month, 1)


def next_interval(start: date, interval: str) -> date:
    """The first day of the following interval."""
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    if interval == "year":
        return date(start.year + 1, 1, 1)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def interval_suffix(start: date, interval: str) -> str:
    """A partition name suffix: p2026, p2026_11, p2026_11_23."""
    if interval == "year":
        return f"p{start:%Y}"
    if interval in ("day", "week"):
        return f"p{start:%Y_%m_%d}"
    return f"p{start:%Y_%m}"
