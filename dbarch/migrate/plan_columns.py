"""The planner's recipes for one column: added (with the fill its existing rows get), dropped,
made NOT NULL or nullable, its default set or dropped.

Separate because these keep the column's name and type; renames and type changes, which go
through a second column, are in plan_renames.
"""

from __future__ import annotations

import re

from dbarch.migrate.ops import (
    AddColumn,
    DropColumn,
    DropDefault,
    DropNotNull,
    Operation,
    SetDefault,
    SetNotNull,
)
from dbarch.migrate.plan_model import PhaseName
from dbarch.migrate.plan_state import ADDED_HERE, TRIGGER_NAME, PlannerState
from dbarch.render.base import fit_name
from dbarch.schema.model import Column, DefaultKind


class ColumnRecipes(PlannerState):
    """Columns added, dropped, made NOT NULL or nullable, given or stripped of a default."""

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
