"""The planner's recipes for whole tables: create, drop, rename, and a split that moves columns
into a new table.

Separate because tables change as a whole (created in dependency order, dropped children
first, renamed behind a view, split behind a pair of sync triggers) while the other recipes
work on one column or one constraint of a table that stays.
"""

from __future__ import annotations

from dbarch.migrate.ops import CreateTable, DropTable, MoveColumns, RenameTable
from dbarch.migrate.plan_model import PhaseName
from dbarch.migrate.plan_state import PlannerState
from dbarch.migrate.statements import Sql
from dbarch.render.base import fit_name, ordered_tables


class TableRecipes(PlannerState):
    """Tables created, dropped, renamed or split."""

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
