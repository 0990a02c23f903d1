"""The planner's recipes for column renames and type changes: expand/contract through a second
column kept in step by a trigger, or a type changed in place where that needs no rewrite.

Separate because both share one sequence (a new column, its sync trigger, a backfill, the
indexes and constraints carried over to it, a swap or the application switching, then the old
column dropped with a rollback that rebuilds it) that the other recipes never need.
"""

from __future__ import annotations

from typing import Any

from dbarch.migrate.diff import same_type
from dbarch.migrate.ops import (
    AddCheck,
    AddForeignKey,
    AddUnique,
    AlterColumnType,
    Attached,
    CreateIndex,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropUnique,
    Operation,
    RenameColumn,
)
from dbarch.migrate.plan_model import PhaseName
from dbarch.migrate.plan_state import ADDED_HERE, TRIGGER_NAME, PlannerState, _snake
from dbarch.migrate.statements import Sql
from dbarch.render.base import fit_name
from dbarch.schema.model import Column, IndexColumn


class RenameRecipes(PlannerState):
    """Columns renamed or given a new type."""

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
