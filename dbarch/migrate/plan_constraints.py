"""The planner's recipes for constraints and indexes: foreign keys and checks added NOT VALID
then validated, unique and primary keys, indexes built CONCURRENTLY, and their renames.

Separate because they share one pattern, built under a temporary name while the source still
has an object of that name and renamed after contract drops it, and touch no column data.
"""

from __future__ import annotations

from collections.abc import Callable

from dbarch.migrate.ops import (
    AddCheck,
    AddForeignKey,
    AddPrimaryKey,
    AddUnique,
    CreateIndex,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropUnique,
    RenameConstraint,
    RenameIndex,
    RenameTable,
)
from dbarch.migrate.plan_model import PhaseName
from dbarch.migrate.plan_state import PlannerState
from dbarch.migrate.statements import Sql


class ConstraintRecipes(PlannerState):
    """Foreign keys, checks, unique and primary keys, and indexes."""

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
