"""Operations → an ordered zero-downtime plan: expand, backfill, switch, validate, contract.

Each operation becomes steps in one or more phases; each step carries its forward statements
and the statements that undo it, so every phase has a rollback (applied in reverse phase order).
Renames and type changes never happen in one step: a new column is added and kept in step by a
trigger (expand), filled in batches (backfill), the application moves over (switch), the new
column gets its NOT NULL and constraints (validate), and the old one goes (contract).

The PostgreSQL planner is the reference; `dbarch.migrate.mysql_plan` overrides the recipes
that MySQL/MariaDB's online DDL spells differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dbarch.migrate.diff import same_type
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
from dbarch.migrate.postgresql import PostgresWriter
from dbarch.migrate.statements import Sql
from dbarch.render.base import fit_name, ordered_tables
from dbarch.schema.model import Column, DefaultKind, IndexColumn, Schema, Table


class PhaseName(StrEnum):
    expand = "expand"
    backfill = "backfill"
    switch = "switch"
    validate = "validate"
    contract = "contract"


PHASES = list(PhaseName)

# Order of steps inside a phase (lower first): tables before their columns, columns before
# the indexes and constraints on them; in contract, what depends on a column before the column.
RANK = {
    "rename_table": 10, "create_table": 20, "add_column": 30, "drop_not_null": 35,
    "set_default": 38, "trigger": 40, "index": 50, "constraint": 60, "unique": 70,
    "guard": 10, "not_null": 20, "swap": 40, "app": 50,
    "validate": 10,
    "drop_trigger": 10, "drop_view": 20, "drop_foreign_key": 28, "drop_constraint": 30,
    "drop_index": 40, "drop_column": 50, "drop_default": 60, "drop_table": 70, "rename": 80,
}
ADDED_HERE = "added by this plan's expand phase: nothing else uses it yet"
# Trigger names leave room for MySQL's _ins/_upd suffixes under its 64-character limit.
TRIGGER_NAME = 59


@dataclass
class PlanOptions:
    """How the plan is written."""

    dialect: str = "postgresql"
    pg_version: int = 15
    batch_size: int = 1000
    pause: float = 0.1  # seconds between backfill batches
    lock_timeout: str = "5s"


@dataclass
class Step:
    """Statements that do one thing, and the statements that undo them."""

    phase: PhaseName
    rank: int
    title: str
    forward: list[Sql]
    backward: list[Sql] = field(default_factory=list)
    operation: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "operation": self.operation,
            "sql": [s.as_dict() for s in self.forward],
            "rollback": [s.as_dict() for s in self.backward],
        }


@dataclass
class Phase:
    """One phase: its steps in order, and what the application must do at this point."""

    name: PhaseName
    steps: list[Step] = field(default_factory=list)
    app: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.steps and not self.app

    def statements(self) -> list[Sql]:
        return [s for step in self.steps for s in step.forward]

    def rollback_statements(self) -> list[Sql]:
        return [s for step in reversed(self.steps) for s in step.backward]


@dataclass
class MigrationPlan:
    """The whole plan: what changes, in which phases, and what the plan could not cover."""

    source: str
    target: str
    options: PlanOptions
    operations: list[Operation]
    phases: list[Phase]
    notes: list[str] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what reading the schemas skipped

    @property
    def dialect(self) -> str:
        return self.options.dialect

    def phase(self, name: PhaseName) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def active_phases(self) -> list[Phase]:
        """The phases with something to run or ship, in order."""
        return [p for p in self.phases if not p.empty]


class Planner:
    """PostgreSQL recipes; one `plan_<operation>` method per operation kind."""

    def __init__(self, a: Schema, b: Schema, diff: Diff, options: PlanOptions,
                 fills: dict[tuple[str, str], str] | None = None) -> None:
        self.a, self.b, self.diff, self.options = a, b, diff, options
        self.fills = fills or {}
        self.w = self.writer()
        self.phases = {name: Phase(name) for name in PHASES}
        self.unplanned = list(diff.unplanned)
        self.notes = list(diff.notes)
        self.taken = {n for t in a.tables for n in (
            *(i.name for i in t.indexes), *(u.name for u in t.uniques),
            *(f.name for f in t.foreign_keys), *(c.name for c in t.checks))}
        self.dropped_names = {self.object_name(op) for op in diff.operations
                              if isinstance(op, DropIndex | DropUnique | DropForeignKey
                                            | DropCheck)}

    def writer(self) -> Any:
        o = self.options
        return PostgresWriter(o.lock_timeout, o.batch_size, o.pause)

    # ----------------------------------------------------------------- the walk

    def plan(self, source: str, target: str) -> MigrationPlan:
        creates = [op for op in self.diff.operations if isinstance(op, CreateTable)]
        if creates:
            self.plan_create_tables(creates)
        drops = [op for op in self.diff.operations if isinstance(op, DropTable)]
        if drops:
            self.plan_drop_tables(drops)
        for op in self.diff.operations:
            if isinstance(op, CreateTable | DropTable):
                continue
            method = getattr(self, "plan_" + _snake(op.kind))
            method(op)
        for phase in self.phases.values():
            phase.steps.sort(key=lambda s: s.rank)  # stable: operation order within a rank
        return MigrationPlan(source=source, target=target, options=self.options,
                             operations=list(self.diff.operations),
                             phases=[self.phases[n] for n in PHASES],
                             notes=self.notes, unplanned=self.unplanned)

    def step(self, phase: PhaseName, rank: str, title: str, forward: list[Sql],
             backward: list[Sql] | None = None, op: Operation | None = None) -> None:
        self.phases[phase].steps.append(Step(
            phase, RANK[rank], title, forward, backward or [],
            op.describe() if op is not None else None,
        ))

    def app(self, phase: PhaseName, text: str) -> None:
        if text not in self.phases[phase].app:
            self.phases[phase].app.append(text)

    # ----------------------------------------------------------------- names

    @staticmethod
    def object_name(op: Operation) -> str:
        for attr in ("index", "unique", "foreign_key", "check"):
            if hasattr(op, attr):
                return str(getattr(op, attr).name)
        return ""

    def final_or_temp(self, name: str) -> str:
        """The name to create an object under before contract: a temporary one when the
        source schema still has an object of that name (renamed to `name` in contract)."""
        if name in self.taken:
            return fit_name(name, "new")
        return name

    def rename_later(self, table: str, temp: str, final: str, index: bool) -> None:
        """After contract dropped the old object, give the new one its final name."""
        if temp == final:
            return
        if index:
            fwd = self.w.rename_index(temp, final, table)
            back = self.w.rename_index(final, temp, table)
        else:
            fwd = self.w.rename_constraint(table, temp, final)
            back = self.w.rename_constraint(table, final, temp)
        self.step(PhaseName.contract, "rename", f"{final}: its final name", [fwd], [back])

    def table_b(self, name: str) -> Table:
        return self.b.table(name)

    def batch_key(self, table: str) -> str | None:
        """The column backfills batch on: the first primary-key column."""
        try:
            pk = self.b.table(table).primary_key
        except KeyError:
            pk = []
        return pk[0] if pk else None

    # ----------------------------------------------------------------- tables

    def plan_create_tables(self, ops: list[CreateTable]) -> None:
        order, forward = ordered_tables([op.definition for op in ops])
        for table in order:
            deferred = {name for t, name in forward if t == table.name}
            self.step(PhaseName.expand, "create_table", f"create table {table.name}",
                      self.w.create_table(table, deferred),
                      [self.w.drop_table(table.name, "created by this plan's expand phase; the "
                                                     "old application never used it")])
            for fk in table.foreign_keys:
                if fk.name in deferred:
                    self.step(PhaseName.expand, "constraint", f"foreign key {fk.name}",
                              self.w.add_foreign_key(table.name, fk, not_valid=False))

    def plan_drop_tables(self, ops: list[DropTable]) -> None:
        order, _ = ordered_tables([op.definition for op in ops])
        for table in reversed(order):  # children first
            self.step(PhaseName.contract, "drop_table", f"drop table {table.name}",
                      [self.w.drop_table(table.name, "contract: the target schema has no such "
                                                     "table and the switch moved every reader "
                                                     "off it")],
                      [Sql(s.text, ["restores the table's shape, not its rows: restore them "
                                    "from the backup taken before contract", *s.comments])
                       for s in self.w.create_table(table, set())])
            self.app(PhaseName.switch, f"stop reading and writing table {table.name}")
        self.notes.append("contract drops tables: take a backup of "
                          f"{', '.join(op.table for op in ops)} first; their rollback brings "
                          "back the shape, not the rows")

    def plan_rename_table(self, op: RenameTable) -> None:
        w = self.w
        why = "expand/contract: a view under the old name keeps the old application working"
        self.step(PhaseName.expand, "rename_table", op.describe(),
                  [w.begin(), w.rename_table(op.old, op.table, why),
                   w.create_view(op.old, op.table), w.commit()],
                  [w.begin(), w.drop_view(op.old),
                   w.rename_table(op.table, op.old, "rollback of the expand rename"), w.commit()],
                  op)
        self.step(PhaseName.contract, "drop_view", f"drop the view {op.old}",
                  [w.drop_view(op.old)], [w.create_view(op.old, op.table)], op)
        self.app(PhaseName.switch, f"use table {op.table} instead of {op.old} (until contract, "
                                   f"{op.old} is a view of it that accepts writes too)")

    # ----------------------------------------------------------------- columns

    def is_volatile_default(self, col: Column) -> bool:
        if col.default is None:
            return False
        if self.options.pg_version < 11:
            return True  # before PostgreSQL 11 every non-null default rewrites the table
        if col.default.kind != DefaultKind.expression:
            return False
        from dbarch.lint.pg import volatile_functions

        volatile = volatile_functions()
        calls = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", str(col.default.value))
        return any(name.lower() in volatile for name in calls)

    def plan_add_column(self, op: AddColumn) -> None:
        w, t, col = self.w, op.table, op.column
        if col.identity:
            self.unplanned.append(f"{t}.{col.name}: adding an identity/serial column to an "
                                  "existing table rewrites it; not planned (add a nullable "
                                  "bigint, a sequence default, backfill, then NOT NULL)")
            return
        drop = w.drop_column(t, col.name, ADDED_HERE)
        volatile = self.is_volatile_default(col)
        if (col.nullable or col.default is not None) and not volatile:
            self.step(PhaseName.expand, "add_column", op.describe(), [w.add_column(t, col)],
                      [drop], op)
            return
        fill = op.fill
        if volatile:
            fill = fill or str(self.w.default_sql(col))
        self.step(PhaseName.expand, "add_column", op.describe() + " as NULL first",
                  [w.add_column(t, col, nullable=True, default=False)], [drop], op)
        if col.default is not None:
            self.step(PhaseName.expand, "set_default", f"default for new rows of {t}.{col.name}",
                      [w.set_default(t, col)], [w.drop_default(t, col.name, ADDED_HERE)], op)
        if fill is None:
            self.unplanned.append(
                f"{t}.{col.name} is NOT NULL without a default: existing rows need a value. "
                f"Say which with --fill {t}.{col.name}=SQL (it may use the row's columns); "
                "without it the validate phase fails on a table with rows")
        else:
            self.fill_column(op, t, col, fill)
        if not col.nullable:
            self.step(PhaseName.validate, "not_null", f"{t}.{col.name} NOT NULL",
                      w.not_null(t, col.name),
                      [w.drop_not_null(t, col.name, "rollback of validate")], op)

    def fill_column(self, op: Operation, table: str, col: Column, fill: str) -> None:
        """Existing rows get `fill`; until contract a trigger gives it to rows the old
        application writes without the column."""
        w, c = self.w, self.w.q(col.name)
        if not (col.default is not None and fill == w.default_sql(col)):
            name = fit_name(table, f"fill_{col.name}", TRIGGER_NAME)
            body = (f"BEGIN\n  IF NEW.{c} IS NULL THEN NEW.{c} := {self.row_expression(fill)};"
                    f" END IF;\n  RETURN NEW;\nEND")
            self.step(PhaseName.expand, "trigger", f"fill {table}.{col.name} on every write",
                      w.trigger(table, name, body, "BEFORE INSERT OR UPDATE"),
                      w.drop_trigger(table, name), op)
            self.step(PhaseName.contract, "drop_trigger", f"drop the fill trigger of "
                      f"{table}.{col.name}", w.drop_trigger(table, name),
                      w.trigger(table, name, body, "BEFORE INSERT OR UPDATE"), op)
        self.fill_existing(op, table, col, fill)

    def fill_existing(self, op: Operation, table: str, col: Column, fill: str) -> None:
        """The backfill step that gives `fill` to the existing rows still without a value."""
        w, c = self.w, self.w.q(col.name)
        self.step(PhaseName.backfill, "guard", f"fill {table}.{col.name} in existing rows",
                  w.backfill(table, self.batch_key(table),
                             f"UPDATE {w.q(table)} SET {c} = {fill} WHERE {{range}} "
                             f"AND {c} IS NULL",
                             f"existing rows of {table} get {col.name} = {fill}"), [], op)

    def row_expression(self, sql: str) -> str:
        """An expression over the row's columns rewritten for a row trigger (`a * 2` →
        `new.a * 2`)."""
        from dbarch.lint.pg import qualify_columns
        from dbarch.parse.postgresql import deparse, expression_node

        node = expression_node(sql)
        return deparse(qualify_columns(node, "new")) if node is not None else sql

    def plan_drop_column(self, op: DropColumn) -> None:
        w, t, col = self.w, op.table, op.column
        if not col.nullable and col.default is None:
            self.step(PhaseName.expand, "drop_not_null",
                      f"{t}.{col.name} accepts NULL: the new application stops writing it",
                      [w.drop_not_null(t, col.name, "the column is dropped in contract; the new "
                                       "application no longer writes it")],
                      w.not_null(t, col.name), op)
        # With a default, the column comes back NOT NULL at once (PostgreSQL 11+ fills the
        # default without a rewrite); without one, its values are gone and it comes back NULL.
        readd = w.add_column(t, col, nullable=col.nullable or col.default is None)
        readd.comments.append(f"restores {col.name}, not its values (restore those from the "
                              "backup taken before contract)")
        if not col.nullable and col.default is None:
            self.notes.append(f"rolling back past contract brings {t}.{col.name} back empty: "
                              "the expand rollback cannot make it NOT NULL again until its "
                              "values are restored from the backup taken before contract")
        self.step(PhaseName.contract, "drop_column", op.describe(),
                  [w.drop_column(t, col.name, "contract: the switch moved every reader and "
                                 "writer off the column")], [readd], op)
        self.app(PhaseName.switch, f"stop reading and writing {t}.{col.name}")

    def plan_set_not_null(self, op: SetNotNull) -> None:
        w, t, col = self.w, op.table, op.column
        fill = op.fill or (w.default_sql(col) if col.default is not None else None)
        if fill is not None:
            c = w.q(col.name)
            self.step(PhaseName.backfill, "guard", f"fill NULLs of {t}.{col.name}",
                      w.backfill(t, self.batch_key(t),
                                  f"UPDATE {w.q(t)} SET {c} = {fill} WHERE {{range}} "
                                  f"AND {c} IS NULL",
                                  f"rows of {t} where {col.name} is NULL get {fill}"), [], op)
        else:
            self.notes.append(f"{t}.{col.name} becomes NOT NULL: if a row holds NULL, the "
                              f"validate phase stops at VALIDATE; pass --fill {t}.{col.name}=SQL "
                              "to fill them in the backfill phase")
        self.app(PhaseName.switch, f"never write NULL into {t}.{col.name}")
        self.step(PhaseName.validate, "not_null", op.describe(), w.not_null(t, col.name),
                  [w.drop_not_null(t, col.name, "rollback of validate")], op)

    def plan_drop_not_null(self, op: DropNotNull) -> None:
        w, t, c = self.w, op.table, op.column.name
        self.step(PhaseName.expand, "drop_not_null", op.describe(),
                  [w.drop_not_null(t, c, "the target schema allows NULL here; relaxing it "
                                   "first is safe for the running application")],
                  w.not_null(t, c), op)

    def plan_set_default(self, op: SetDefault) -> None:
        w, t = self.w, op.table
        if op.old is None:
            back = w.drop_default(t, op.column.name, "rollback: the source had no default")
        else:
            back = w.set_default(t, op.column.model_copy(update={"default": op.old}))
        self.step(PhaseName.expand, "set_default", op.describe(), [w.set_default(t, op.column)],
                  [back], op)

    def plan_drop_default(self, op: DropDefault) -> None:
        w, t = self.w, op.table
        self.step(PhaseName.contract, "drop_default", op.describe(),
                  [w.drop_default(t, op.column.name, "contract: the new application writes the "
                                  "column itself")], [w.set_default(t, op.column)], op)
        self.app(PhaseName.switch, f"write {t}.{op.column.name} explicitly (its default goes "
                                   "in contract)")

    # ----------------------------------------------------------------- renames, type changes

    def conversion(self, op: RenameColumn | AlterColumnType, row: bool = False
                   ) -> tuple[str, str]:
        """Templates turning an old value into a new one and back (`{v}` is the value). A
        --fill for the column replaces the first (written over the row's columns; `row`
        qualifies them for a row trigger)."""
        fill = self.fills.get((op.table, op.new.name))
        back = "{v}" if same_type(op.old.type, op.new.type) else self.w.cast("{v}", op.old)
        if fill:
            return (self.row_expression(fill) if row else fill), back
        if same_type(op.old.type, op.new.type):
            return "{v}", "{v}"
        return self.w.cast("{v}", op.new), back

    def plan_rename_column(self, op: RenameColumn) -> None:
        w, t, old, new = self.w, op.table, op.old, op.new
        to_new, to_old = self.conversion(op, row=True)
        sync = fit_name(t, f"sync_{new.name}", TRIGGER_NAME)
        self.step(PhaseName.expand, "add_column", f"add {t}.{new.name} beside {old.name}",
                  [w.add_column(t, new, nullable=True, default=False)],
                  [w.drop_column(t, new.name, ADDED_HERE)], op)
        self.step(PhaseName.expand, "trigger", f"keep {old.name} and {new.name} in step",
                  w.sync_trigger(t, sync, old, new, to_new, to_old), w.drop_trigger(t, sync), op)
        converted = self.conversion(op)[0].format(v=w.q(old.name))
        self.copy_column(op, t, new.name, converted)
        self.carry(op, t, op.attached_new, {}, before_app=True)
        self.app(PhaseName.switch, f"read and write {t}.{new.name} instead of {old.name}")
        if not new.nullable:
            self.step(PhaseName.validate, "not_null", f"{t}.{new.name} NOT NULL",
                      w.not_null(t, new.name),
                      [w.drop_not_null(t, new.name, "rollback of validate")], op)
        self.contract_old_column(op, t, old, new, sync, old.name, to_new, to_old)
        if new.default is not None:
            self.step(PhaseName.contract, "drop_default", f"default of {t}.{new.name}",
                      [w.set_default(t, new)],
                      [w.drop_default(t, new.name, "rollback: the default came in contract")],
                      op)

    def copy_column(self, op: Operation, table: str, column: str, converted: str) -> None:
        """Backfill `column` from the old value, and the guard that the switch waits for."""
        w, c = self.w, self.w.q(column)
        self.step(PhaseName.backfill, "guard", f"copy values into {table}.{column}",
                  w.backfill(table, self.batch_key(table),
                              f"UPDATE {w.q(table)} SET {c} = {converted} WHERE {{range}} "
                              f"AND {w.distinct(c, converted)}",
                              f"{table}.{column} = {converted} in existing rows"), [], op)
        self.step(PhaseName.switch, "guard", f"check {table}.{column} is complete",
                  w.guard(f"SELECT 1 FROM {w.q(table)} WHERE {w.distinct(c, converted)}",
                          f"{table}.{column} is not fully backfilled: rerun "
                           "the backfill phase"), [], op)

    def carry(self, op: Operation, table: str, attached: Attached, columns: dict[str, str],
              before_app: bool) -> None:
        """Build the target's indexes and constraints on a new column (its name mapped by
        `columns`) in the switch phase: indexes CONCURRENTLY, constraints NOT VALID (validated
        in validate); each under a temporary name while the source still uses its own."""
        w = self.w

        def on(names: list[str]) -> list[str]:
            return [columns.get(n, n) for n in names]

        for ix in attached.indexes:
            temp = self.final_or_temp(ix.name)
            built = ix.model_copy(update={
                "columns": [IndexColumn(name=columns.get(c.name, c.name), desc=c.desc,
                                        pattern_ops=c.pattern_ops) for c in ix.columns],
                "include": on(ix.include),
                "where": self.rename_in(ix.where, columns) if ix.where else None})
            self.step(PhaseName.switch, "not_null", f"index {ix.name} on the new column",
                      [w.create_index(table, built, name=temp)], [w.drop_index(temp, table)], op)
            self.rename_later(table, temp, ix.name, index=True)
        for u in attached.uniques:
            temp = self.final_or_temp(u.name)
            self.step(PhaseName.switch, "not_null", f"unique {u.name} on the new column",
                      w.add_unique(table, u.model_copy(update={"columns": on(u.columns)}),
                                   name=temp),
                      w.drop_unique(table, temp, "rollback of the switch"), op)
            self.rename_later(table, temp, u.name, index=False)
        for fk in attached.foreign_keys:
            temp = self.final_or_temp(fk.name)
            self.step(PhaseName.switch, "not_null", f"foreign key {fk.name} on the new column",
                      w.add_foreign_key(table, fk.model_copy(update={"columns": on(fk.columns)}),
                                        name=temp),
                      [w.drop_constraint(table, temp, "rollback of the switch",
                                         "foreign_key")], op)
            self.step(PhaseName.validate, "validate", f"validate {fk.name}",
                      w.validate_foreign_key(table, fk, temp), [], op)
            self.rename_later(table, temp, fk.name, index=False)
        for ck in attached.checks:
            temp = self.final_or_temp(ck.name)
            moved = ck.model_copy(update={
                "column": columns.get(ck.column, ck.column),
                "expression": self.rename_in(ck.expression, columns) if ck.expression else None})
            self.step(PhaseName.switch, "not_null", f"check {ck.name} on the new column",
                      [w.add_check(table, moved, name=temp)],
                      [w.drop_constraint(table, temp, "rollback of the switch", "check")], op)
            self.step(PhaseName.validate, "validate", f"validate {ck.name}",
                      w.validate_check(table, ck, temp), [], op)
            self.rename_later(table, temp, ck.name, index=False)

    def rename_in(self, expression: str, columns: dict[str, str]) -> str:
        """An expression with columns renamed (PostgreSQL)."""
        if not columns:
            return expression
        from pglast import ast
        from pglast.visitors import Visitor

        from dbarch.parse.postgresql import deparse, expression_node

        node = expression_node(expression)
        if node is None:
            return expression

        class _Rename(Visitor):  # type: ignore[misc]
            def visit_ColumnRef(self, ancestors: Any, ref: Any) -> Any:
                last = ref.fields[-1]
                if isinstance(last, ast.String) and last.sval in columns:
                    return ast.ColumnRef(fields=(*ref.fields[:-1],
                                                 ast.String(sval=columns[last.sval])))
                return None

        _Rename()(node)
        return deparse(node)

    def contract_old_column(self, op: RenameColumn | AlterColumnType, table: str, old: Column,
                            new: Column, sync: str, old_name: str, to_new: str,
                            to_old: str) -> None:
        """Contract: the trigger and the old column go. The rollback brings the column back
        with its values (copied from the new one), its NOT NULL and its indexes/constraints."""
        w = self.w
        restored = old.model_copy(update={"name": old_name})
        back: list[Sql] = [w.add_column(table, restored, nullable=True)]
        back += w.sync_trigger(table, sync, restored, new, to_new, to_old)
        converted = to_old.format(v=w.q(new.name))
        back.extend(w.backfill(table, self.batch_key(table),
                               f"UPDATE {w.q(table)} SET {w.q(old_name)} = {converted} WHERE "
                               f"{{range}} AND {w.distinct(w.q(old_name), converted)}",
                               f"copy {new.name} back into {old_name}"))
        if not old.nullable:
            back += w.not_null(table, old_name)
        back += self.rebuild(table, op.attached_old, {old.name: old_name})
        # The old column's own indexes and constraints go first and on their own: an index
        # dropped CONCURRENTLY (PostgreSQL) or in place (MySQL, where a DROP COLUMN that must
        # also drop an index is not INSTANT) instead of inside the column's ALTER.
        why = "contract: it belongs to the column dropped next"
        attached = op.attached_old
        first = [*(w.drop_constraint(table, f.name, why, "foreign_key")
                   for f in attached.foreign_keys),
                 *(w.drop_constraint(table, c.name, why, "check") for c in attached.checks),
                 *(w.drop_constraint(table, u.name, why, "unique") for u in attached.uniques),
                 *(w.drop_index(i.name, table) for i in attached.indexes)]
        self.step(PhaseName.contract, "drop_column", f"drop {table}.{old_name} and its trigger",
                  [*w.drop_trigger(table, sync), *first,
                   w.drop_column(table, old_name, "contract of expand/contract: every reader and "
                                 "writer moved to the new column at the switch")],
                  back, op)

    def rebuild(self, table: str, attached: Attached, columns: dict[str, str]) -> list[Sql]:
        """The statements that recreate indexes and constraints (rollback of a contract)."""
        w = self.w
        out: list[Sql] = []

        def on(names: list[str]) -> list[str]:
            return [columns.get(n, n) for n in names]

        for ix in attached.indexes:
            out.append(w.create_index(table, ix.model_copy(update={
                "columns": [IndexColumn(name=columns.get(c.name, c.name), desc=c.desc,
                                        pattern_ops=c.pattern_ops) for c in ix.columns],
                "include": on(ix.include),
                "where": self.rename_in(ix.where, columns) if ix.where else None})))
        for u in attached.uniques:
            out += w.add_unique(table, u.model_copy(update={"columns": on(u.columns)}))
        for fk in attached.foreign_keys:
            moved = fk.model_copy(update={"columns": on(fk.columns)})
            out += [*w.add_foreign_key(table, moved),
                    *w.validate_foreign_key(table, moved, fk.name)]
        for ck in attached.checks:
            check = ck.model_copy(update={
                "expression": self.rename_in(ck.expression, columns) if ck.expression
                else None, "column": columns.get(ck.column, ck.column)})
            out += [w.add_check(table, check), *w.validate_check(table, check, ck.name)]
        return out

    def plan_alter_column_type(self, op: AlterColumnType) -> None:
        from dbarch.migrate.type_changes import in_place

        w, t, old, new = self.w, op.table, op.old, op.new
        change = None
        if old.type.native and new.type.native and (t, new.name) not in self.fills:
            change = in_place(old.type.native, new.type.native, self.options.pg_version)
        if change is not None and not (change.indexes_rebuilt and op.attached_old.indexes):
            self.type_in_place(op, change.describe, change.utc)
            return
        helper, retired = fit_name(new.name, "_new"), fit_name(new.name, "_old")
        to_new, to_old = self.conversion(op, row=True)
        sync = fit_name(t, f"sync_{new.name}", TRIGGER_NAME)
        staged = new.model_copy(update={"name": helper})
        self.step(PhaseName.expand, "add_column", f"add {t}.{helper} ({w.type_sql(new)})",
                  [w.add_column(t, staged, nullable=True, default=False)],
                  [w.drop_column(t, helper, ADDED_HERE)], op)
        self.step(PhaseName.expand, "trigger", f"keep {new.name} and {helper} in step",
                  w.sync_trigger(t, sync, old, staged, to_new, to_old),
                  w.drop_trigger(t, sync), op)
        self.copy_column(op, t, helper, self.conversion(op)[0].format(v=w.q(old.name)))
        if not new.nullable:
            self.step(PhaseName.switch, "not_null", f"{t}.{helper} NOT NULL",
                      w.not_null(t, helper),
                      [w.drop_not_null(t, helper, "rollback of the switch")], op)
        self.carry(op, t, op.attached_new, {new.name: helper}, before_app=True)
        swapped_new = new.model_copy(update={"name": new.name})
        swapped_old = old.model_copy(update={"name": retired})
        forward = [w.begin(),
                   w.rename_column(t, new.name, retired, "swap inside one transaction: the "
                                   "column keeps its name for the application"),
                   w.rename_column(t, helper, new.name, "swap inside one transaction"),
                   *w.sync_trigger(t, sync, swapped_old, swapped_new, to_new, to_old,
                                   replace=True)]
        if new.default is not None:
            forward.append(w.set_default(t, new))
        forward.append(w.commit())
        back = [w.begin()]
        if new.default is not None:
            back.append(w.drop_default(t, new.name, "rollback of the swap"))
        back += [w.rename_column(t, new.name, helper, "rollback of the swap"),
                 w.rename_column(t, retired, old.name, "rollback of the swap")]
        back += [*w.sync_trigger(t, sync, old, staged, to_new, to_old, replace=True),
                 w.commit()]
        self.step(PhaseName.switch, "swap", f"swap {new.name} and {helper}", forward, back, op)
        self.app(PhaseName.switch, f"until contract, write into {t}.{new.name} only values that "
                                   f"also fit {w.type_sql(old)}: the old column is kept in step "
                                   "for a rollback until then")
        self.contract_old_column(op, t, old, swapped_new, sync, retired, to_new, to_old)

    def attached_delta(self, op: AlterColumnType) -> None:
        """For a type changed in place, the column keeps its indexes and constraints: only
        those the target adds or drops on it are planned, as their own operations."""
        old, new = op.attached_old, op.attached_new
        for kind, add, drop in (("indexes", CreateIndex, DropIndex),
                                ("uniques", AddUnique, DropUnique),
                                ("foreign_keys", AddForeignKey, DropForeignKey),
                                ("checks", AddCheck, DropCheck)):
            before = {o.name for o in getattr(old, kind)}
            after = {o.name for o in getattr(new, kind)}
            field_name = {"indexes": "index", "uniques": "unique",
                          "foreign_keys": "foreign_key", "checks": "check"}[kind]
            for item in getattr(new, kind):
                if item.name not in before:
                    made = add(table=op.table, **{field_name: item})
                    getattr(self, "plan_" + _snake(made.kind))(made)
            for item in getattr(old, kind):
                if item.name not in after:
                    made = drop(table=op.table, **{field_name: item})
                    getattr(self, "plan_" + _snake(made.kind))(made)

    def type_in_place(self, op: AlterColumnType, why: str, utc: bool) -> None:
        self.attached_delta(op)
        w, t = self.w, op.table
        forward, back = [], []
        if utc:
            forward.append(Sql("SET TimeZone = 'UTC'", ["PostgreSQL 12+ skips the rewrite only "
                                                        "while the session zone is UTC"]))
            back.append(Sql("SET TimeZone = 'UTC'"))
        forward.append(w.alter_type(t, op.old, op.new))
        forward[-1].comments.append(f"no table rewrite: {why}; ACCESS EXCLUSIVE for a catalog "
                                    "update only")
        forward[-1].ignores.append(("L306", f"{w.type_sql(op.old)} to {w.type_sql(op.new)} is "
                                    f"in place ({why})"))
        back.append(w.alter_type(t, op.new, op.old))
        back[-1].comments.append("narrowing back rewrites the table under ACCESS EXCLUSIVE and "
                                 "fails if a longer value was written since: the application "
                                 "runs on the wider type, so roll this back only if you must")
        back[-1].ignores.append(("L306", "rollback of a widening: the only way back to the "
                                 "source type"))
        self.step(PhaseName.expand, "add_column", op.describe(), forward, back, op)

    # ----------------------------------------------------------------- split

    def plan_move_columns(self, op: MoveColumns) -> None:
        w, t, target = self.w, op.table, op.target
        names = [c.name for c in op.columns]
        blockers = [c.name for c in target.columns
                    if c.name not in names and c.name not in op.key and not c.nullable
                    and c.default is None and not c.identity]
        if blockers:
            self.unplanned.append(f"{target.name}: columns {', '.join(blockers)} are NOT NULL "
                                  f"without a default and do not come from {t}; the split is "
                                  "not planned")
            return
        self.step(PhaseName.expand, "create_table", f"create table {target.name}",
                  w.create_table(target, set()),
                  [w.drop_table(target.name, "created by this plan's expand phase")], op)
        forward_sync = fit_name(t, f"to_{target.name}")
        back_sync = fit_name(target.name, f"to_{t}")
        keys = ", ".join(w.q(k) for k in op.key)
        cols = ", ".join(w.q(c) for c in names)
        new_vals = ", ".join(f"NEW.{w.q(c)}" for c in [*op.ref, *names])
        updates = ", ".join(f"{w.q(c)} = EXCLUDED.{w.q(c)}" for c in names)
        body = (f"BEGIN\n  IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\n"
                f"  INSERT INTO {w.q(target.name)} ({keys}, {cols}) VALUES ({new_vals})\n"
                f"  ON CONFLICT ({keys}) DO UPDATE SET {updates};\n  RETURN NULL;\nEND")
        self.step(PhaseName.expand, "trigger", f"copy writes of {t} into {target.name}",
                  w.trigger(t, forward_sync, body, "AFTER INSERT OR UPDATE"),
                  w.drop_trigger(t, forward_sync), op)
        source_cols = ", ".join(f"{w.q(t)}.{w.q(c)}" for c in [*op.ref, *names])
        self.step(PhaseName.backfill, "guard", f"copy {t} rows into {target.name}",
                  w.backfill(t, self.batch_key(t),
                              f"INSERT INTO {w.q(target.name)} ({keys}, {cols}) SELECT "
                              f"{source_cols} FROM {w.q(t)} WHERE {{range}} ON CONFLICT "
                              f"({keys}) DO NOTHING",
                              f"one {target.name} row per {t} row"), [], op)
        match = " AND ".join(f"x.{w.q(k)} = s.{w.q(r)}" for k, r in zip(op.key, op.ref,
                                                                         strict=True))
        self.step(PhaseName.switch, "guard", f"check every {t} row has its {target.name} row",
                  w.guard(f"SELECT 1 FROM {w.q(t)} s WHERE NOT EXISTS (SELECT 1 FROM "
                           f"{w.q(target.name)} x WHERE {match})",
                           f"{target.name} is not fully backfilled: rerun the backfill phase"),
                  [], op)
        for col in op.columns:
            if not col.nullable:
                self.step(PhaseName.switch, "not_null", f"{t}.{col.name} accepts NULL",
                          [w.drop_not_null(t, col.name, f"the new application writes "
                                           f"{col.name} into {target.name} only")],
                          w.not_null(t, col.name), op)
        back_set = ", ".join(f"{w.q(c)} = NEW.{w.q(c)}" for c in names)
        back_match = " AND ".join(f"{w.q(r)} = NEW.{w.q(k)}" for k, r in zip(op.key, op.ref,
                                                                             strict=True))
        back_body = (f"BEGIN\n  IF pg_trigger_depth() > 1 THEN RETURN NULL; END IF;\n"
                     f"  UPDATE {w.q(t)} SET {back_set} WHERE {back_match};\n"
                     f"  RETURN NULL;\nEND")
        self.step(PhaseName.switch, "swap", f"copy writes of {target.name} back into {t}",
                  w.trigger(target.name, back_sync, back_body, "AFTER INSERT OR UPDATE"),
                  w.drop_trigger(target.name, back_sync), op)
        self.app(PhaseName.switch, f"read and write {', '.join(names)} in {target.name} "
                                   f"(joined on {', '.join(op.key)}) instead of {t}")
        restore = [w.add_column(t, c, nullable=True) for c in op.columns]
        restore_set = ", ".join(f"{w.q(c)} = x.{w.q(c)}" for c in names)
        restore.extend(w.backfill(
            t, self.batch_key(t),
            f"UPDATE {w.q(t)} SET {restore_set} FROM {w.q(target.name)} x WHERE {{range}} AND "
            + " AND ".join(f"x.{w.q(k)} = {w.q(t)}.{w.q(r)}"
                           for k, r in zip(op.key, op.ref, strict=True)),
            f"copy {', '.join(names)} back from {target.name}"))
        restore += w.trigger(target.name, back_sync, back_body, "AFTER INSERT OR UPDATE")
        restore += w.trigger(t, forward_sync, body, "AFTER INSERT OR UPDATE")
        self.step(PhaseName.contract, "drop_column",
                  f"drop {', '.join(names)} from {t} and the triggers",
                  [*w.drop_trigger(target.name, back_sync), *w.drop_trigger(t, forward_sync),
                   *(w.drop_column(t, c, f"contract of the split: {target.name} holds {c} now")
                     for c in names)],
                  restore, op)

    # ----------------------------------------------------------------- constraints

    def plan_add_foreign_key(self, op: AddForeignKey) -> None:
        t, fk = op.table, op.foreign_key
        self.add_not_valid(op, fk.name, "foreign_key",
                           lambda name: self.w.add_foreign_key(t, fk, name=name),
                           lambda name: self.w.validate_foreign_key(t, fk, name))

    def plan_drop_foreign_key(self, op: DropForeignKey) -> None:
        w, t, fk = self.w, op.table, op.foreign_key
        self.step(PhaseName.contract, "drop_foreign_key", op.describe(),
                  [w.drop_constraint(t, fk.name, "contract: the target schema has no such "
                                     "foreign key", "foreign_key")],
                  [*w.add_foreign_key(t, fk), *w.validate_foreign_key(t, fk, fk.name)], op)

    def plan_add_check(self, op: AddCheck) -> None:
        t, ck = op.table, op.check
        self.add_not_valid(op, ck.name, "check",
                           lambda name: [self.w.add_check(t, ck, name=name)],
                           lambda name: self.w.validate_check(t, ck, name))

    def add_not_valid(self, op: AddForeignKey | AddCheck, final: str, kind: str,
                      add: Callable[[str], list[Sql]],
                      validate: Callable[[str], list[Sql]]) -> None:
        """A constraint added NOT VALID in expand (a brief lock; new rows are checked at once)
        and validated in its own phase. While the source still has a constraint called
        `final`, it is added under a temporary name and renamed after contract drops the old
        one. `add` and `validate` write the statements for the name it is added under."""
        name = self.final_or_temp(final) if final in self.dropped_names else final
        self.step(PhaseName.expand, "constraint", op.describe() + " (NOT VALID)", add(name),
                  [self.w.drop_constraint(op.table, name, "rollback of expand", kind)], op)
        self.step(PhaseName.validate, "validate", f"validate {final}", validate(name), [], op)
        self.rename_later(op.table, name, final, index=False)

    def plan_drop_check(self, op: DropCheck) -> None:
        w, t, ck = self.w, op.table, op.check
        self.step(PhaseName.contract, "drop_constraint", op.describe(),
                  [w.drop_constraint(t, ck.name, "contract: the target schema has no such "
                                     "check", "check")],
                  [w.add_check(t, ck), *w.validate_check(t, ck, ck.name)], op)

    def plan_add_unique(self, op: AddUnique) -> None:
        w, t, u = self.w, op.table, op.unique
        name = self.final_or_temp(u.name) if u.name in self.taken else u.name
        self.step(PhaseName.expand, "unique", op.describe(), w.add_unique(t, u, name=name),
                  w.drop_unique(t, name, "rollback of expand"), op)
        self.rename_later(t, name, u.name, index=False)

    def plan_drop_unique(self, op: DropUnique) -> None:
        w, t, u = self.w, op.table, op.unique
        self.step(PhaseName.contract, "drop_constraint", op.describe(),
                  [w.drop_constraint(t, u.name, "contract: the target schema has no such "
                                     "unique constraint", "unique")],
                  w.add_unique(t, u), op)

    def plan_add_primary_key(self, op: AddPrimaryKey) -> None:
        w, t = self.w, op.table
        steps: list[Sql] = []
        a_cols = {c.name: c for c in self.a.table(self._source_table(t)).columns}
        for name in op.columns:
            if name in a_cols and a_cols[name].nullable:
                steps += w.not_null(t, name)
        steps += w.add_primary_key(t, op.columns)
        self.step(PhaseName.validate, "not_null", op.describe(), steps,
                  [w.drop_constraint(t, f"{t}_pkey", "rollback of validate", "primary")], op)

    def _source_table(self, name: str) -> str:
        for op in self.diff.operations:
            if isinstance(op, RenameTable) and op.table == name:
                return op.old
        return name

    def plan_drop_primary_key(self, op: DropPrimaryKey) -> None:
        w, t = self.w, op.table
        self.step(PhaseName.contract, "drop_constraint", op.describe(),
                  [w.drop_constraint(t, f"{t}_pkey", "contract: the target schema has no "
                                     "primary key here", "primary")],
                  w.add_primary_key(t, op.columns), op)

    def plan_rename_constraint(self, op: RenameConstraint) -> None:
        self.step(PhaseName.contract, "rename", op.describe(),
                  [self.w.rename_constraint(op.table, op.old, op.new)],
                  [self.w.rename_constraint(op.table, op.new, op.old)], op)

    # ----------------------------------------------------------------- indexes

    def plan_create_index(self, op: CreateIndex) -> None:
        w, t, ix = self.w, op.table, op.index
        name = self.final_or_temp(ix.name) if ix.name in self.taken else ix.name
        self.step(PhaseName.expand, "index", op.describe(), [w.create_index(t, ix, name=name)],
                  [w.drop_index(name, t)], op)
        self.rename_later(t, name, ix.name, index=True)

    def plan_drop_index(self, op: DropIndex) -> None:
        w, t, ix = self.w, op.table, op.index
        self.step(PhaseName.contract, "drop_index", op.describe(), [w.drop_index(ix.name, t)],
                  [w.create_index(t, ix)], op)

    def plan_rename_index(self, op: RenameIndex) -> None:
        self.step(PhaseName.contract, "rename", op.describe(),
                  [self.w.rename_index(op.old, op.new, op.table)],
                  [self.w.rename_index(op.new, op.old, op.table)],
                  op)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def plan_migration(a: Schema, b: Schema, *, renames: list[str] | None = None,
                   fills: list[str] | None = None, options: PlanOptions | None = None,
                   source: str = "A", target: str = "B") -> MigrationPlan:
    """Diff `a` → `b` and plan it: the whole of `dbarch migrate plan` after reading schemas.

    `renames` are `table.old=new` / `old_table=new_table`; `fills` are `table.column=SQL`
    (the value existing rows get when a column becomes NOT NULL, or the conversion of a type
    change). Raises InputError on a malformed or impossible rename or fill.
    """
    from dbarch.migrate.diff import Renames, diff_schemas, parse_fills

    options = options or PlanOptions()
    fill_map = parse_fills(fills or [])
    diff = diff_schemas(a, b, Renames.parse(renames or []), fill_map, options.dialect)
    planner: Planner
    if options.dialect == "mysql":
        from dbarch.migrate.mysql_plan import MySqlPlanner

        planner = MySqlPlanner(a, b, diff, options, fill_map)
    else:
        planner = Planner(a, b, diff, options, fill_map)
    return planner.plan(source, target)
