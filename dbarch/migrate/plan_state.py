"""What every recipe of the migration planner shares: the two schemas, the diff, the writer, the
phases being filled, and the bookkeeping of steps and object names.

The recipes are mixins over this one state, one module per kind of change (plan_tables,
plan_columns, plan_renames, plan_constraints), so each can be read on its own; `plan.Planner`
puts them together and walks the diff.
"""

from __future__ import annotations

import re
from typing import Any

from dbarch.migrate.ops import (
    Diff,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropUnique,
    Operation,
)
from dbarch.migrate.plan_model import PHASES, Phase, PhaseName, PlanOptions, Step
from dbarch.migrate.postgresql import PostgresWriter
from dbarch.migrate.statements import Sql
from dbarch.render.base import fit_name
from dbarch.schema.model import Schema, Table

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


class PlannerState:
    """The planner's state: what it reads, the phases it fills, the names it must not reuse."""

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

    # ----------------------------------------------------------------- steps

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

    # ----------------------------------------------------------------- expressions

    def row_expression(self, sql: str) -> str:
        """An expression over the row's columns rewritten for a row trigger (`a * 2` →
        `new.a * 2`)."""
        from dbarch.lint.pg import qualify_columns
        from dbarch.parse.postgresql import deparse, expression_node

        node = expression_node(sql)
        return deparse(qualify_columns(node, "new")) if node is not None else sql


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
