"""Compare two schemas: the operations that turn the source into the target.

A diff cannot tell a rename from a drop and an add, so renames are said explicitly
(`table.old=new` for a column, `old=new` for a table); where exactly one column of a table
disappears and one of the same type appears, the diff says it may be a rename and how to say so.
A new table that references an existing one and holds columns of the same name and type that
the existing table loses is read as a split (MoveColumns), and the diff says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dbarch.errors import InputError, Problem
from dbarch.migrate.ops import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    AlterColumnType,
    Attached,
    CreateIndex,
    CreateTable,
    Diff,
    DropCheck,
    DropColumn,
    DropDefault,
    DropForeignKey,
    DropIndex,
    DropNotNull,
    DropPrimaryKey,
    DropTable,
    DropUnique,
    MoveColumns,
    Operation,
    RenameColumn,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    SetDefault,
    SetNotNull,
)
from dbarch.schema.model import (
    Check,
    Column,
    ColumnType,
    Default,
    DefaultKind,
    ForeignKey,
    Index,
    Schema,
    Table,
    Unique,
)


@dataclass
class Renames:
    """Renames the user declared: tables old → new, columns (target table, old) → new."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Renames:
        """`orders.total=amount` renames a column, `users=accounts` a table."""
        out = cls()
        problems = []
        for spec in specs:
            old, sep, new = spec.partition("=")
            old, new = old.strip(), new.strip()
            if not sep or not old or not new or "." in new:
                problems.append(Problem("--rename", f"{spec!r}: expected table.old=new or "
                                        "old_table=new_table"))
            elif "." in old:
                table, column = old.split(".", 1)
                out.columns[(table, column)] = new
            else:
                out.tables[old] = new
        if problems:
            raise InputError(problems)
        return out


def parse_fills(specs: Iterable[str]) -> dict[tuple[str, str], str]:
    """`orders.status='new'` → {("orders", "status"): "'new'"}: SQL that gives existing rows
    their value when a column becomes NOT NULL (it may name other columns of the row)."""
    out: dict[tuple[str, str], str] = {}
    problems = []
    for spec in specs:
        target, sep, expr = spec.partition("=")
        table, dot, column = target.strip().partition(".")
        if not sep or not dot or not table or not column or not expr.strip():
            problems.append(Problem("--fill", f"{spec!r}: expected table.column=SQL expression"))
        else:
            out[(table, column)] = expr.strip()
    if problems:
        raise InputError(problems)
    return out


def expression_tools(dialect: str) -> tuple[Callable[[str], str], Callable[[str], list[str]]]:
    """(normalize, columns) for expressions of `dialect`."""
    if dialect == "postgresql":
        from dbarch.parse.postgresql import expression_columns, normalize_expression
    else:
        from dbarch.parse.mysql import expression_columns, normalize_expression
    return normalize_expression, expression_columns


def same_type(a: ColumnType, b: ColumnType) -> bool:
    """Whether two column types are the same (by their native spelling when both have one)."""
    if a.native and b.native:
        return a.native.lower() == b.native.lower()
    return (a.kind, a.length, a.precision, a.scale, a.values, a.items) == (
        b.kind, b.length, b.precision, b.scale, b.values, b.items)


class Differ:
    """Walks the two schemas once; `run()` returns the Diff."""

    def __init__(self, a: Schema, b: Schema, renames: Renames, fills: dict[tuple[str, str], str],
                 dialect: str) -> None:
        self.a, self.b = a, b
        self.renames = renames
        self.fills = fills
        self.normalize, self.columns_of = expression_tools(dialect)
        self.out = Diff()
        self.check_renames()

    # ----------------------------------------------------------------- names across schemas

    def check_renames(self) -> None:
        a_names = {t.name for t in self.a.tables}
        b_names = {t.name for t in self.b.tables}
        problems = []
        for old, new in self.renames.tables.items():
            if old not in a_names:
                problems.append(Problem("--rename", f"{old}={new}: the source has no table {old}"))
            if new not in b_names:
                problems.append(Problem("--rename", f"{old}={new}: the target has no table {new}"))
        for (table, old), new in self.renames.columns.items():
            target = self.b_table(self.renames.tables.get(table, table))
            source = self.a_table(self.source_name(table))
            if target is None or source is None:
                problems.append(Problem("--rename", f"{table}.{old}={new}: no table {table} in "
                                        "both schemas"))
                continue
            if old not in {c.name for c in source.columns}:
                problems.append(Problem("--rename", f"{table}.{old}={new}: the source's "
                                        f"{source.name} has no column {old}"))
            if new not in {c.name for c in target.columns}:
                problems.append(Problem("--rename", f"{table}.{old}={new}: the target's "
                                        f"{target.name} has no column {new}"))
        if problems:
            raise InputError(problems)

    def source_name(self, b_name: str) -> str:
        """The source's name of a target table (itself unless renamed)."""
        for old, new in self.renames.tables.items():
            if new == b_name:
                return old
        return b_name

    def target_name(self, a_name: str) -> str:
        return self.renames.tables.get(a_name, a_name)

    def a_table(self, name: str) -> Table | None:
        return next((t for t in self.a.tables if t.name == name), None)

    def b_table(self, name: str) -> Table | None:
        return next((t for t in self.b.tables if t.name == name), None)

    def column_map(self, b_table: str) -> dict[str, str]:
        """Source column name → target column name, for one (target) table."""
        a_name = self.source_name(b_table)
        out = {}
        for (table, old), new in self.renames.columns.items():
            if table in (b_table, a_name):
                out[old] = new
        return out

    # ----------------------------------------------------------------- the walk

    def run(self) -> Diff:
        ops = self.out.operations
        common: list[tuple[Table, Table]] = []
        created: list[Table] = []
        a_mapped = {self.target_name(t.name): t for t in self.a.tables}
        for old, new in self.renames.tables.items():
            ops.append(RenameTable(table=new, old=old))
        for table in self.b.tables:
            if table.name in a_mapped:
                common.append((a_mapped[table.name], table))
            else:
                created.append(table)
        moves = self.find_moves(created, common)
        for table in created:
            if table.name not in {m.target.name for m in moves}:
                ops.append(CreateTable(table=table.name, definition=table))
        ops.extend(moves)
        moved = {(m.table, c.name) for m in moves for c in m.columns}
        for a_table, b_table in common:
            self.compare_table(a_table, b_table, moved)
        b_names = {t.name for t in self.b.tables}
        for table in self.a.tables:
            if self.target_name(table.name) not in b_names:
                ops.append(DropTable(table=table.name, definition=table))
        return self.out

    def find_moves(self, created: list[Table], common: list[tuple[Table, Table]]
                   ) -> list[MoveColumns]:
        """New tables that take over columns an existing table loses (a split)."""
        pairs = {b.name: (a, b) for a, b in common}
        moves = []
        for new in created:
            for fk in new.foreign_keys:
                if fk.ref_table not in pairs or not self.is_key(new, fk.columns):
                    continue
                a_table, b_table = pairs[fk.ref_table]
                renamed = set(self.column_map(b_table.name))
                kept = {c.name for c in b_table.columns}
                lost = [c for c in a_table.columns
                        if c.name not in kept and c.name not in renamed]
                taken = [c for c in lost if any(
                    n.name == c.name and same_type(n.type, c.type) for n in new.columns)]
                if taken:
                    moves.append(MoveColumns(table=b_table.name, target=new, columns=taken,
                                             key=list(fk.columns), ref=list(fk.ref_columns)))
                    self.out.notes.append(
                        f"{new.name} references {b_table.name} and takes over its columns "
                        f"{', '.join(c.name for c in taken)}: planned as a split (the columns "
                        f"are copied, kept in step by triggers, then dropped from "
                        f"{b_table.name}). If {new.name} is unrelated, rename its columns.")
                    break
        return moves

    @staticmethod
    def is_key(table: Table, columns: list[str]) -> bool:
        """Whether `columns` identify one row of `table` (its primary key or a unique)."""
        keys = [table.primary_key, *(u.columns for u in table.uniques),
                *(i.column_names for i in table.indexes if i.unique and not i.where)]
        return any(sorted(k) == sorted(columns) for k in keys if k)

    # ----------------------------------------------------------------- one table

    def compare_table(self, a: Table, b: Table, moved: set[tuple[str, str]]) -> None:
        ops = self.out.operations
        renamed = self.column_map(b.name)
        a_cols = {renamed.get(c.name, c.name): c for c in a.columns}
        b_cols = {c.name: c for c in b.columns}
        added = [c for c in b.columns if c.name not in a_cols]
        removed = [c for c in a.columns if renamed.get(c.name, c.name) not in b_cols
                   and (b.name, c.name) not in moved]
        if len(added) == 1 and len(removed) == 1 and same_type(added[0].type, removed[0].type):
            self.out.notes.append(
                f"{b.name}: column {removed[0].name} disappears and {added[0].name} of the same "
                f"type appears. If it is a rename, say --rename {b.name}.{removed[0].name}="
                f"{added[0].name}, or the plan drops the column and its values.")
        reshaped: set[str] = set()  # target names of columns rebuilt by a rename/type change
        for name, new in b_cols.items():
            old = a_cols.get(name)
            if old is None:
                continue
            if old.name != name or not same_type(old.type, new.type):
                reshaped.add(name)
        for col in added:
            ops.append(AddColumn(table=b.name, column=col, fill=self.fills.get((b.name, col.name))))
        for name in b_cols:
            if name in reshaped or name not in a_cols:
                continue
            self.compare_column(b.name, a_cols[name], b_cols[name])
        old_reshaped = {a_cols[n].name for n in reshaped}
        for name in [n for n in b_cols if n in reshaped]:  # the target's column order, not a set's
            old, new = a_cols[name], b_cols[name]
            attached_old = self.attached(a, old.name)
            attached_new = self.attached(b, new.name)
            blocker = self.reshape_blocker(a, old)
            if blocker:
                self.out.unplanned.append(blocker)
                continue
            if old.name != name:
                ops.append(RenameColumn(table=b.name, old=old, new=new,
                                        attached_old=attached_old, attached_new=attached_new))
            else:
                ops.append(AlterColumnType(table=b.name, old=old, new=new,
                                           attached_old=attached_old, attached_new=attached_new))
        self.compare_keys(a, b, renamed, old_reshaped, reshaped)
        for col in removed:
            ops.append(DropColumn(table=b.name, column=col))

    def reshape_blocker(self, a: Table, col: Column) -> str | None:
        """Why a column cannot be renamed or retyped by expand/contract automatically."""
        if col.name in a.primary_key:
            return (f"{a.name}.{col.name} is (part of) the primary key: renaming or retyping it "
                    "needs a primary-key swap the plan does not write; do it as its own migration "
                    "(new column, unique index CONCURRENTLY, ADD PRIMARY KEY USING INDEX)")
        referencing = [f"{t.name}.{fk.name}" for t in self.a.tables for fk in t.foreign_keys
                       if fk.ref_table == a.name and col.name in fk.ref_columns]
        if referencing:
            return (f"{a.name}.{col.name} is referenced by foreign keys "
                    f"({', '.join(referencing)}): renaming or retyping it needs those rebuilt "
                    "first; not planned")
        if col.identity:
            return (f"{a.name}.{col.name} is an identity/serial column: its sequence cannot move "
                    "to a new column by expand/contract; not planned")
        return None

    def compare_column(self, table: str, old: Column, new: Column) -> None:
        ops = self.out.operations
        if old.nullable and not new.nullable:
            ops.append(SetNotNull(table=table, column=new, fill=self.fills.get((table, new.name))))
        elif not old.nullable and new.nullable:
            ops.append(DropNotNull(table=table, column=old))
        if not self.same_default(old.default, new.default):
            if new.default is None:
                ops.append(DropDefault(table=table, column=old))
            else:
                ops.append(SetDefault(table=table, column=new, old=old.default))
        if old.identity != new.identity:
            self.out.unplanned.append(
                f"{table}.{new.name}: identity/serial {'added' if new.identity else 'removed'}; "
                "not planned")

    def same_default(self, a: Default | None, b: Default | None) -> bool:
        if a is None or b is None:
            return a is b
        if a.kind != b.kind:
            return False
        if a.kind == DefaultKind.expression:
            return self.normalize(str(a.value)) == self.normalize(str(b.value))
        return a.value == b.value

    def attached(self, table: Table, column: str) -> Attached:
        """The indexes and constraints of `table` that involve `column`."""
        return Attached(
            indexes=[i for i in table.indexes
                     if column in i.column_names or column in i.include
                     or (i.where and column in self.columns_of(i.where))],
            uniques=[u for u in table.uniques if column in u.columns],
            foreign_keys=[f for f in table.foreign_keys if column in f.columns],
            checks=[c for c in table.checks if column in self.check_columns(c)],
        )

    def check_columns(self, check: Check) -> list[str]:
        if check.expression:
            return self.columns_of(check.expression)
        return [check.column]

    # ----------------------------------------------------------------- keys, constraints, indexes

    def compare_keys(self, a: Table, b: Table, renamed: dict[str, str], old_reshaped: set[str],
                     new_reshaped: set[str]) -> None:
        """Primary key, foreign keys, uniques, checks and indexes. Those on a renamed or
        retyped column belong to that column's operation."""
        ops = self.out.operations
        table = b.name

        def mapped(cols: list[str]) -> list[str]:
            return [renamed.get(c, c) for c in cols]

        a_pk, b_pk = mapped(a.primary_key), b.primary_key
        if a_pk != b_pk:
            if a_pk and b_pk:
                self.out.unplanned.append(f"{table}: primary key changes from ({', '.join(a_pk)}) "
                                          f"to ({', '.join(b_pk)}); not planned")
            elif b_pk:
                ops.append(AddPrimaryKey(table=table, columns=b_pk))
            else:
                ops.append(DropPrimaryKey(table=table, columns=a.primary_key))

        def skip_old(cols: Iterable[str]) -> bool:
            return bool(set(cols) & old_reshaped)

        def skip_new(cols: Iterable[str]) -> bool:
            return bool(set(cols) & new_reshaped)

        self.match(
            table,
            [f for f in a.foreign_keys if not skip_old(f.columns)],
            [f for f in b.foreign_keys if not skip_new(f.columns)],
            lambda f: (tuple(mapped(f.columns)), self.target_name(f.ref_table),
                       tuple(f.ref_columns), f.on_delete),
            lambda f: (tuple(f.columns), f.ref_table, tuple(f.ref_columns), f.on_delete),
            lambda f: AddForeignKey(table=table, foreign_key=f),
            lambda f: DropForeignKey(table=table, foreign_key=f),
            "constraint",
        )
        self.match(
            table,
            [u for u in a.uniques if not skip_old(u.columns)],
            [u for u in b.uniques if not skip_new(u.columns)],
            lambda u: tuple(mapped(u.columns)),
            lambda u: tuple(u.columns),
            lambda u: AddUnique(table=table, unique=u),
            lambda u: DropUnique(table=table, unique=u),
            "constraint",
        )
        self.match(
            table,
            [c for c in a.checks if not skip_old(self.check_columns(c))],
            [c for c in b.checks if not skip_new(self.check_columns(c))],
            lambda c: self.check_key(c, renamed),
            lambda c: self.check_key(c, {}),
            lambda c: AddCheck(table=table, check=c),
            lambda c: DropCheck(table=table, check=c),
            "constraint",
        )
        self.match(
            table,
            [i for i in a.indexes if not skip_old(self.index_columns(i))],
            [i for i in b.indexes if not skip_new(self.index_columns(i))],
            lambda i: self.index_key(i, renamed),
            lambda i: self.index_key(i, {}),
            lambda i: CreateIndex(table=table, index=i),
            lambda i: DropIndex(table=table, index=i),
            "index",
        )

    def index_columns(self, index: Index) -> list[str]:
        where = self.columns_of(index.where) if index.where else []
        return [*index.column_names, *index.include, *where]

    def index_key(self, index: Index, renamed: dict[str, str]) -> tuple[object, ...]:
        return (
            tuple((renamed.get(c.name, c.name), c.desc, c.pattern_ops) for c in index.columns),
            index.unique, index.method, tuple(renamed.get(c, c) for c in index.include),
            self.normalize(index.where) if index.where else None,
        )

    def check_key(self, check: Check, renamed: dict[str, str]) -> tuple[object, ...]:
        if check.expression:
            text = self.normalize(check.expression)
            for old, new in renamed.items():  # a renamed column's checks are carried, not here
                text = text.replace(old, new) if old in self.columns_of(text) else text
            return ("expression", text)
        return (renamed.get(check.column, check.column), check.values, check.min, check.max,
                check.not_blank)

    def match(
        self,
        table: str,
        old: list[Unique] | list[ForeignKey] | list[Check] | list[Index],
        new: list[Unique] | list[ForeignKey] | list[Check] | list[Index],
        old_key: Callable[..., object],
        new_key: Callable[..., object],
        add: Callable[..., Operation],
        drop: Callable[..., Operation],
        kind: str,
    ) -> None:
        """Pair old and new items by definition; a pair with two names is a rename."""
        ops = self.out.operations
        remaining = list(old)
        for item in new:
            same = next((o for o in remaining if old_key(o) == new_key(item)
                         and o.name == item.name), None)
            same = same or next((o for o in remaining if old_key(o) == new_key(item)), None)
            if same is None:
                ops.append(add(item))
                continue
            remaining.remove(same)
            if same.name != item.name:
                rename = RenameIndex if kind == "index" else RenameConstraint
                ops.append(rename(table=table, old=same.name, new=item.name))
        for item in remaining:
            ops.append(drop(item))


def diff_schemas(a: Schema, b: Schema, renames: Renames | None = None,
                 fills: dict[tuple[str, str], str] | None = None,
                 dialect: str = "postgresql") -> Diff:
    """The operations that turn schema `a` into schema `b`."""
    return Differ(a, b, renames or Renames(), fills or {}, dialect).run()
