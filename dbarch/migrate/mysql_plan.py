"""The planner's recipes where MySQL/MariaDB differ from PostgreSQL.

Same phases, same operations; what changes is the online DDL (ALGORITHM/LOCK on every ALTER,
from dbarch/lint/data/mysql_online_ddl.yaml), triggers (one event each, no PL/pgSQL), loops
(stored procedures), and what has no online form at all: a column type change other than a
VARCHAR widening inside its length-prefix size or an ENUM/SET append is a table copy
(ALGORITHM=COPY, writes wait), and so is adding a CHECK. Those are reported, with the
statement and the online schema-change tools that avoid the blocking copy, instead of planned.
"""

from __future__ import annotations

from typing import Any

from dbarch.migrate.mysql import MySqlWriter, clause
from dbarch.migrate.ops import (
    AddCheck,
    AddForeignKey,
    AlterColumnType,
    MoveColumns,
    Operation,
    RenameColumn,
    RenameConstraint,
    RenameTable,
)
from dbarch.migrate.plan import Planner
from dbarch.migrate.plan_model import PhaseName
from dbarch.migrate.statements import Sql
from dbarch.render.base import fit_name
from dbarch.schema.model import Column, DefaultKind, Table, TypeKind

BYTES_PER_CHAR = 4  # utf8mb4, the charset dbarch's MySQL DDL uses
ONE_BYTE_PREFIX = 255  # a VARCHAR of up to 255 bytes stores its length in one byte
COPY_TOOLS = ("pt-online-schema-change (Percona Toolkit) or gh-ost copy the table in the "
              "background and swap it in, without blocking writes")


class MySqlPlanner(Planner):
    """MySQL 8.0 / MariaDB 10.11 recipes."""

    def writer(self) -> Any:
        o = self.options
        return MySqlWriter(o.lock_timeout, o.batch_size, o.pause, lookup=self.lookup,
                           tables=self.definitions)

    def definitions(self, table: str) -> list[Table]:
        """The table's target and source definitions (those that exist)."""
        out = []
        for schema, name in ((self.b, table), (self.a, self._source_table(table))):
            try:
                out.append(schema.table(name))
            except KeyError:
                continue
        return out

    def lookup(self, table: str, column: str) -> Column:
        """A column's definition: the target's, or the source's for one the target lacks."""
        for schema, name in ((self.b, table), (self.a, self._source_table(table))):
            try:
                return schema.table(name).column(column)
            except KeyError:
                continue
        raise KeyError(f"{table}.{column}")

    # ----------------------------------------------------------------- recipes that differ

    def plan_rename_table(self, op: RenameTable) -> None:
        w = self.w
        why = "expand/contract: a view under the old name keeps the old application working"
        self.step(PhaseName.expand, "rename_table", op.describe(),
                  [w.rename_table(op.old, op.table, why), w.create_view(op.old, op.table)],
                  [w.drop_view(op.old), w.rename_table(op.table, op.old, "rollback")], op)
        self.step(PhaseName.contract, "drop_view", f"drop the view {op.old}",
                  [w.drop_view(op.old)], [w.create_view(op.old, op.table)], op)
        self.app(PhaseName.switch, f"use table {op.table} instead of {op.old}")
        self.notes.append(f"MySQL cannot rename a table and create a view in one transaction: "
                          f"between RENAME TABLE and CREATE VIEW (milliseconds) statements "
                          f"naming {op.old} fail instead of waiting")

    def is_volatile_default(self, col: Column) -> bool:
        # An expression default makes InnoDB fill existing rows by copying the table.
        return col.default is not None and col.default.kind == DefaultKind.expression

    def fill_column(self, op: Operation, table: str, col: Column, fill: str) -> None:
        w, c = self.w, self.w.q(col.name)
        if not (col.default is not None and fill == w.default_sql(col)):
            name = fit_name(table, f"fill_{col.name}", 60)
            body = f"BEGIN\n  IF NEW.{c} IS NULL THEN SET NEW.{c} = {self.row_expression(fill)}; " \
                   "END IF;\nEND"
            made = [*w.trigger(table, f"{name}_ins", body, "BEFORE INSERT"),
                    *w.trigger(table, f"{name}_upd", body, "BEFORE UPDATE")]
            self.step(PhaseName.expand, "trigger", f"fill {table}.{col.name} on every write",
                      made, w.drop_trigger(table, name), op)
            self.step(PhaseName.contract, "drop_trigger",
                      f"drop the fill triggers of {table}.{col.name}",
                      w.drop_trigger(table, name), made, op)
        self.fill_existing(op, table, col, fill)

    def row_expression(self, sql: str) -> str:
        """An expression over the row's columns, for a trigger: `a * 2` → `NEW.a * 2`."""
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="mysql")
        tree = tree.transform(lambda n: exp.column(n.name, table="NEW")
                              if isinstance(n, exp.Column) and not n.table else n)
        return str(tree.sql(dialect="mysql"))

    def conversion(self, op: RenameColumn | AlterColumnType, row: bool = False
                   ) -> tuple[str, str]:
        """MySQL converts on assignment; a --fill replaces the old → new conversion."""
        fill = self.fills.get((op.table, op.new.name))
        if fill:
            return (self.row_expression(fill) if row else fill), "{v}"
        return "{v}", "{v}"

    def plan_alter_column_type(self, op: AlterColumnType) -> None:
        old, new = op.old.type, op.new.type
        operation = None
        if old.kind == new.kind == TypeKind.string and old.native and new.native and \
                old.native.split("(")[0] == new.native.split("(")[0] == "VARCHAR" and \
                old.length and new.length and new.length >= old.length:
            before, after = old.length * BYTES_PER_CHAR, new.length * BYTES_PER_CHAR
            if (before <= ONE_BYTE_PREFIX) == (after <= ONE_BYTE_PREFIX):
                operation = "varchar_extend"
        if old.kind == new.kind == TypeKind.enum and old.values and new.values and \
                tuple(new.values[: len(old.values)]) == tuple(old.values):
            operation = "enum_append"
        w, t = self.w, op.table
        if operation is not None:
            self.attached_delta(op)
            self.step(PhaseName.expand, "add_column", op.describe(),
                      [Sql(f"ALTER TABLE {w.q(t)} MODIFY {w.column_def(op.new)}"
                           f"{clause(operation)}", ["metadata only: no table copy"])],
                      [Sql(f"ALTER TABLE {w.q(t)} MODIFY {w.column_def(op.old)}"
                           f"{clause('varchar_shrink')}",
                           ["narrowing back copies the table (writes wait): the application "
                            "runs on the wider type, so roll this back only if you must"],
                           ignores=[("L701", "rollback of a widening: the only way back to "
                                             "the source type is a copy")])], op)
            return
        self.unplanned.append(
            f"{op.describe()}: MySQL and MariaDB change a column's type only by copying the "
            f"table (ALGORITHM=COPY, LOCK=SHARED: writes wait for the whole copy), so there is "
            f"no online form: run ALTER TABLE {w.q(t)} MODIFY {w.column_def(op.new)} through "
            f"{COPY_TOOLS}")

    def plan_move_columns(self, op: MoveColumns) -> None:
        self.unplanned.append(f"{op.describe()}: splitting a table is planned for PostgreSQL "
                              "only; on MySQL create the table, copy with triggers and a "
                              f"batched INSERT … SELECT, then drop the columns ({COPY_TOOLS} "
                              "for the final drop if your version copies)")

    def plan_add_foreign_key(self, op: AddForeignKey) -> None:
        w, t, fk = self.w, op.table, op.foreign_key
        self.step(PhaseName.expand, "constraint", op.describe() + " (unchecked, in place)",
                  w.add_foreign_key(t, fk),
                  [w.drop_constraint(t, fk.name, "rollback of expand", "foreign_key")], op)
        self.step(PhaseName.validate, "validate", f"check every row of {t} has its parent",
                  w.validate_foreign_key(t, fk, fk.name), [], op)

    def plan_add_check(self, op: AddCheck) -> None:
        w = self.w
        self.unplanned.append(
            f"{op.describe()}: MySQL and MariaDB validate a new CHECK by copying the table "
            f"(writes wait); run {w.add_check(op.table, op.check).text} through {COPY_TOOLS}, "
            "or enforce it in the application")

    def plan_rename_constraint(self, op: RenameConstraint) -> None:
        if op.new in {u.name for u in self.b.table(op.table).uniques}:
            self.step(PhaseName.contract, "rename", op.describe(),
                      [self.w.rename_index(op.old, op.new, op.table)],
                      [self.w.rename_index(op.new, op.old, op.table)], op)
            return
        self.notes.append(f"{op.describe()}: MySQL cannot rename a foreign key or check; it "
                          "keeps its old name")

    def rename_later(self, table: str, temp: str, final: str, index: bool) -> None:
        is_unique = final in {u.name for u in self.b.table(table).uniques}
        if temp == final or index or is_unique:
            super().rename_later(table, temp, final, index=True)
            return
        self.notes.append(f"{table}: {final} is created as {temp} (MySQL cannot rename a "
                          "foreign key or check)")
