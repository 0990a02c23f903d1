"""Operations → an ordered zero-downtime plan: expand, backfill, switch, validate, contract.

Each operation becomes steps in one or more phases; each step carries its forward statements
and the statements that undo it, so every phase has a rollback (applied in reverse phase order).
Renames and type changes never happen in one step: a new column is added and kept in step by a
trigger (expand), filled in batches (backfill), the application moves over (switch), the new
column gets its NOT NULL and constraints (validate), and the old one goes (contract).

The PostgreSQL planner is the reference; `dbarch.migrate.mysql_plan` overrides the recipes
that MySQL/MariaDB's online DDL spells differently.

The recipes are mixins over one shared state (plan_state), one module per kind of change:
plan_tables, plan_columns, plan_renames and plan_constraints; the plan's data classes are in
plan_model.
"""

from __future__ import annotations

from dbarch.migrate.ops import CreateTable, DropTable
from dbarch.migrate.plan_columns import ColumnRecipes
from dbarch.migrate.plan_constraints import ConstraintRecipes
from dbarch.migrate.plan_model import PHASES, MigrationPlan, PlanOptions
from dbarch.migrate.plan_renames import RenameRecipes
from dbarch.migrate.plan_state import _snake
from dbarch.migrate.plan_tables import TableRecipes
from dbarch.schema.model import Schema


class Planner(TableRecipes, ColumnRecipes, RenameRecipes, ConstraintRecipes):
    """PostgreSQL recipes; one `plan_<operation>` method per operation kind."""

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
