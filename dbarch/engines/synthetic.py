"""Synthetic rows for a rehearsal, generated inside PostgreSQL from the catalog's table shapes.

Every column value is an SQL expression of the row number `g` (`md5(g::text)::uuid`,
`timestamp '2020-01-01' + g * interval '1 second'` …), so a table fills with one
`INSERT … SELECT … FROM generate_series` and no row passes through Python. The same
expressions give the workload its statements: the primary key of row `g` is the key expression
at `g`, so a point read by key hits an existing row without asking the server which keys exist.
A foreign key column takes the referenced column's expression at `(g - 1) % parent_rows + 1`:
it points at a row the parent table really has.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dbarch.errors import EngineError

G = "@g@"
"""The row number inside an expression template (a bigint)."""

TEMPLATES: dict[str, str] = {
    "int2": f"({G} % 32767)::int2",
    "int4": f"{G}::int4",
    "int8": G,
    "float4": f"({G} * 0.5)::float4",
    "float8": f"({G} * 0.5)::float8",
    "money": f"({G} % 100000)::numeric::money",
    "bool": f"({G} % 2 = 0)",
    "bytea": f"decode(md5({G}::text), 'hex')",
    "uuid": f"md5({G}::text)::uuid",
    "date": f"date '2020-01-01' + ({G} % 3650)::int4",
    "timestamp": f"timestamp '2020-01-01' + {G} * interval '1 second'",
    "timestamptz": f"timestamptz '2020-01-01 00:00:00+00' + {G} * interval '1 second'",
    "time": f"time '00:00' + ({G} % 86400) * interval '1 second'",
    "timetz": f"(time '00:00' + ({G} % 86400) * interval '1 second')::timetz",
    "interval": f"{G} * interval '1 second'",
    "json": f"json_build_object('n', {G})",
    "jsonb": f"jsonb_build_object('n', {G})",
    "inet": f"'10.0.0.0'::inet + {G}",
    "cidr": f"set_masklen('10.0.0.0'::inet + {G}, 32)::cidr",
    "tsvector": f"to_tsvector('simple', 'w' || {G})",
    "point": f"point({G}, {G})",
}
"""A value expression per base type, unique per row where the type allows it (not bool,
int2 beyond 32,767 rows, date beyond ten years). Strings and numerics depend on the type
modifier and are built in `value_template`; other types get NULL or their default."""

STRING_TYPES = {"text", "varchar", "bpchar", "name", "citext"}


def quote(name: str) -> str:
    """An identifier, always double-quoted."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Column:
    """A column as the catalog describes it."""

    name: str
    type_sql: str  # format_type(): `character varying(20)`, `public.mood`
    base: str  # the base type's name (a domain's underlying type)
    category: str  # pg_type.typcategory of the base type: A array, E enum …
    typmod: int
    not_null: bool
    has_default: bool
    identity: str  # '' | 'a' (ALWAYS) | 'd' (BY DEFAULT)
    generated: bool
    domain: bool
    enum_size: int


@dataclass
class ForeignKey:
    columns: list[str]
    parent: int  # oid
    parent_columns: list[str]


@dataclass
class TableShape:
    """A table's columns, keys and foreign keys."""

    oid: int
    name: str  # schema.table as PostgreSQL prints it
    sql: str  # "schema"."table", quoted
    columns: list[Column]
    key: list[str] = field(default_factory=list)
    uniques: list[set[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)


@dataclass
class FilledTable:
    """A filled table: its shape, how many rows, and the expression of each column."""

    shape: TableShape
    rows: int
    templates: dict[str, str]  # column → expression of G

    def workload(self) -> dict[str, str]:
        """The workload's statements on this table, with `%(g)s` (an existing row, a new row)
        and `%(h)s` (another row number) as parameters: read by key, insert, update by key."""
        statements: dict[str, str] = {}
        columns = list(self.templates)
        values = ", ".join(self.templates[c] for c in columns)
        statements["insert"] = (
            f"INSERT INTO {self.shape.sql} ({', '.join(map(quote, columns))}) "
            f"OVERRIDING SYSTEM VALUE VALUES ({values})"
        )
        key = [c for c in self.shape.key if c in self.templates]
        if key and len(key) == len(self.shape.key):
            where = " AND ".join(f"{quote(c)} = {self.templates[c]}" for c in key)
            # the columns by name: a prepared `SELECT *` fails once a column is added
            listed = ", ".join(quote(c.name) for c in self.shape.columns)
            statements["read"] = f"SELECT {listed} FROM {self.shape.sql} WHERE {where}"
            target = self._update_target()
            assignment = (f"{quote(target)} = {self.templates[target].replace(G, H)}"
                          if target else f"{quote(key[0])} = {quote(key[0])}")
            statements["update"] = f"UPDATE {self.shape.sql} SET {assignment} WHERE {where}"
        return {op: _parameters(sql) for op, sql in statements.items()}

    def _update_target(self) -> str | None:
        """A plain column to update: not in a key, a unique constraint or a foreign key."""
        taken = set(self.shape.key)
        for unique in self.shape.uniques:
            taken |= unique
        for fk in self.shape.foreign_keys:
            taken.update(fk.columns)
        for column in self.shape.columns:
            if column.name in self.templates and column.name not in taken:
                return column.name
        return None


H = "@h@"


def _parameters(sql: str) -> str:
    """Template → psycopg statement: a literal % doubled, G and H as bigint parameters."""
    return sql.replace("%", "%%").replace(G, "%(g)s::int8").replace(H, "%(h)s::int8")


def value_template(column: Column) -> str | None:
    """The expression for a column's value in row G, or None when the generator has none."""
    if column.category == "A":
        return f"'{{}}'::{column.type_sql}"
    if column.category == "E" and column.enum_size:
        expr = f"(enum_range(NULL::{column.type_sql}))[1 + ({G} % {column.enum_size})::int4]"
        return expr
    base = column.base
    expr: str | None
    if base in STRING_TYPES:
        expr = _string(column)
    elif base == "numeric":
        expr = _numeric(column)
    else:
        expr = TEMPLATES.get(base)
    if expr is not None and column.domain:
        expr = f"({expr})::{column.type_sql}"
    return expr


def _string(column: Column) -> str:
    """`'email-' || g`, or the bare number when the length limit leaves no room for a prefix.
    Text converts to varchar, char, name and citext by assignment, so no cast is written."""
    length = column.typmod - 4 if column.base in ("varchar", "bpchar") and column.typmod >= 4 \
        else None
    prefix = column.name[:16].replace("'", "''") + "-"
    if length is None or length >= len(prefix) + 8:
        return f"'{prefix}' || {G}"
    return f"{G}::text" if length >= 8 else f"left({G}::text, {length})"


def _numeric(column: Column) -> str:
    if column.typmod < 4:
        return f"{G}::numeric"
    precision = ((column.typmod - 4) >> 16) & 0xFFFF
    scale = (column.typmod - 4) & 0xFFFF
    digits = precision - scale
    if digits <= 0:
        return "0"
    if digits >= 12:
        return f"{G}::numeric"
    return f"({G} % {10 ** digits - 1})::numeric"


def introspect(conn: psycopg.Connection[Any], oids: Iterable[int]) -> dict[int, TableShape]:
    """The shapes of the tables with these oids and of every table they reference, recursively."""
    shapes: dict[int, TableShape] = {}
    todo = list(oids)
    while todo:
        oid = todo.pop()
        if oid in shapes:
            continue
        shape = _shape(conn, oid)
        shapes[oid] = shape
        todo.extend(fk.parent for fk in shape.foreign_keys if fk.parent not in shapes)
    return shapes


def _shape(conn: psycopg.Connection[Any], oid: int) -> TableShape:
    (name, sql), = conn.execute(
        "SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || "
        "quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = %s", (oid,)).fetchall()
    columns = [Column(*row) for row in conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), b.typname, b.typcategory, "
        "  CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END, "
        "  a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), a.atthasdef, "
        "  a.attidentity::text, a.attgenerated <> '', t.typtype = 'd', "
        "  (SELECT count(*) FROM pg_enum e WHERE e.enumtypid = b.oid)::int "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (oid,)).fetchall()]
    shape = TableShape(oid=oid, name=name, sql=sql, columns=columns)
    for contype, cols, parent, parent_cols in conn.execute(
        "SELECT c.contype::text, "
        "  array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
        "        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), "
        "  c.confrelid::int8, "
        "  array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
        "        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) "
        "FROM pg_constraint c WHERE c.conrelid = %s AND c.contype IN ('p', 'u', 'f') "
        "ORDER BY c.conname", (oid,)).fetchall():
        if contype == "p":
            shape.key = list(cols)
        elif contype == "u":
            shape.uniques.append(set(cols))
        else:
            shape.foreign_keys.append(ForeignKey(list(cols), int(parent), list(parent_cols)))
    for (cols,) in conn.execute(
        "SELECT array(SELECT a.attname FROM unnest(x.indkey::int2[]) k(n) "
        "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n) "
        "FROM pg_index x WHERE x.indrelid = %s AND x.indisunique AND NOT x.indisprimary",
        (oid,)).fetchall():
        if cols and set(cols) not in shape.uniques:
            shape.uniques.append(set(cols))
    return shape


def fill_order(shapes: dict[int, TableShape]) -> list[int]:
    """Referenced tables before the tables that reference them (a cycle is cut anywhere)."""
    order: list[int] = []
    state: dict[int, str] = {}

    def visit(oid: int) -> None:
        if state.get(oid):
            return
        state[oid] = "visiting"
        for fk in shapes[oid].foreign_keys:
            if fk.parent != oid and fk.parent in shapes:
                visit(fk.parent)
        state[oid] = "done"
        order.append(oid)

    for oid in sorted(shapes):
        visit(oid)
    return order


def templates_for(
    shape: TableShape, done: dict[int, FilledTable], rows: int
) -> dict[str, str]:
    """Column → expression for one table of `rows` rows; a foreign key column follows its
    parent's rows, so it points at a row the parent has for any G (new rows too)."""
    templates: dict[str, str] = {}
    for column in shape.columns:
        if column.generated:
            continue
        expr = value_template(column)
        if expr is not None:
            templates[column.name] = expr
    for fk in shape.foreign_keys:
        if fk.parent == shape.oid:  # a tree: row g points at row g/2 (itself for g = 1)
            row = f"((greatest({G} / 2, 1) - 1) % {rows} + 1)"
            for child, parent in zip(fk.columns, fk.parent_columns, strict=True):
                if parent in templates:
                    templates[child] = templates[parent].replace(G, row)
            continue
        filled = done.get(fk.parent)
        if filled is None:
            continue
        row = f"(({G} - 1) % {filled.rows} + 1)"
        for child, parent in zip(fk.columns, fk.parent_columns, strict=True):
            if parent in filled.templates:
                templates[child] = filled.templates[parent].replace(G, row)
    for column in shape.columns:
        if column.name not in templates and column.not_null and not column.has_default \
                and not column.generated:
            raise EngineError(
                f"{shape.name}.{column.name}: no synthetic values for type {column.type_sql} "
                "(NOT NULL without a default); give --schema a copy where it has a default")
    return templates


def fill(
    conn: psycopg.Connection[Any], shapes: dict[int, TableShape], rows: int
) -> dict[int, FilledTable]:
    """Fill every table with `rows` synthetic rows, referenced tables first, then ANALYZE.

    Foreign key triggers are switched off for the fill when the role may do so
    (session_replication_role = replica): the values are consistent by construction, and a
    trigger per row would make a million-row fill take minutes.
    """
    with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
        conn.execute("SET session_replication_role = replica")
    done: dict[int, FilledTable] = {}
    for oid in fill_order(shapes):
        shape = shapes[oid]
        templates = templates_for(shape, done, rows)
        try:
            conn.execute(_insert(shape, templates, rows).encode())
        except psycopg.Error as first:
            # a CHECK on an optional column, say: try again with the optional columns NULL
            keep = _required(shape)
            templates = {c: e for c, e in templates.items() if c in keep}
            try:
                conn.execute(_insert(shape, templates, rows).encode())
            except psycopg.Error:
                raise EngineError(
                    f"cannot fill {shape.name} with synthetic rows: "
                    f"{str(first).strip().splitlines()[0]}") from first
        _reset_sequences(conn, shape, rows)
        done[oid] = FilledTable(shape, rows, templates)
    conn.execute("RESET session_replication_role")
    for filled in done.values():
        conn.execute(f"ANALYZE {filled.shape.sql}".encode())
    return done


def _required(shape: TableShape) -> set[str]:
    keep = {c.name for c in shape.columns if c.not_null}
    keep.update(shape.key)
    for fk in shape.foreign_keys:
        keep.update(fk.columns)
    for unique in shape.uniques:
        keep.update(unique)
    return keep


def _insert(shape: TableShape, templates: dict[str, str], rows: int) -> str:
    columns = list(templates)
    target = f" ({', '.join(map(quote, columns))})" if columns else ""
    values = ", ".join(templates[c].replace(G, "s.g") for c in columns)
    return (
        f"INSERT INTO {shape.sql}{target} OVERRIDING SYSTEM VALUE "
        f"SELECT {values} FROM generate_series(1::int8, {int(rows)}::int8) AS s(g)"
    )


def _reset_sequences(conn: psycopg.Connection[Any], shape: TableShape, rows: int) -> None:
    """Serial and identity sequences continue after the synthetic rows, so the migration's own
    inserts (and the application's defaults) do not collide with them."""
    for column in shape.columns:
        (sequence,), = conn.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", (shape.sql, column.name)).fetchall()
        if sequence:
            conn.execute("SELECT setval(%s, %s)", (sequence, max(rows, 1)))
