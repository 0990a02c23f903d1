"""PostgreSQL statements of a migration plan: each method writes one safe building block.

The planner (plan.py) decides what goes in which phase; this writer decides how PostgreSQL
spells it so that nothing holds a lock that blocks traffic for longer than a catalog update:
indexes CONCURRENTLY, constraints NOT VALID then VALIDATE, NOT NULL through a validated CHECK
(PostgreSQL 12+ then skips the scan), backfills in committed batches keyed on the primary key.
"""

from __future__ import annotations

from typing import ClassVar

from dbarch.migrate.statements import Sql
from dbarch.migrate.writer import ReadBackRenderer, SqlWriter
from dbarch.render.base import Statement, fit_name
from dbarch.render.postgresql import PostgresRenderer
from dbarch.schema.model import (
    Check,
    Column,
    DefaultKind,
    ForeignKey,
    Index,
    Table,
    Unique,
)


class _Renderer(ReadBackRenderer, PostgresRenderer):
    """The DDL renderer, writing parsed schemas back as they were read: native types,
    expression defaults and checks, no generated touch triggers."""

    def default_clause(self, col: Column) -> str | None:
        if col.default is not None and col.default.kind == DefaultKind.expression:
            return str(col.default.value)
        return super().default_clause(col)

    def touch_statements(self, table: Table) -> list[Statement]:
        return []

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        return [Statement(PostgresWriter.index_sql(self, table.name, ix, concurrently=False))]


class PostgresWriter(SqlWriter):
    """Writes the plan's statements for PostgreSQL."""

    dialect: ClassVar[str] = "postgresql"

    def __init__(self, lock_timeout: str = "5s", batch_size: int = 1000,
                 pause: float = 0.1) -> None:
        super().__init__(_Renderer(), batch_size, pause)
        self.lock_timeout = lock_timeout

    # ----------------------------------------------------------------- session

    def preamble(self) -> list[Sql]:
        return [Sql(f"SET lock_timeout = '{self.lock_timeout}'", [
            "give up instead of queueing traffic behind a lock that a long transaction holds; "
            "on SQLSTATE 55P03 (lock_not_available) run the failed statement and the rest of "
            "the file again",
        ])]

    # ----------------------------------------------------------------- tables

    def rename_table(self, old: str, new: str, why: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(old)} RENAME TO {self.q(new)}", ignores=[("L402", why)])

    def begin(self) -> Sql:
        return Sql("BEGIN")

    def commit(self) -> Sql:
        return Sql("COMMIT")

    # ----------------------------------------------------------------- columns

    def rename_column(self, table: str, old: str, new: str, why: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} RENAME COLUMN {self.q(old)} TO {self.q(new)}",
                   ignores=[("L401", why)])

    def alter_type(self, table: str, col: Column, new: Column) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} ALTER COLUMN {self.q(col.name)} TYPE "
                   f"{self.type_sql(new)}")

    def not_null(self, table: str, column: str) -> list[Sql]:
        """SET NOT NULL without the long ACCESS EXCLUSIVE scan: a CHECK added NOT VALID (brief
        lock), validated (SHARE UPDATE EXCLUSIVE: reads and writes go on), then SET NOT NULL,
        which PostgreSQL 12+ proves from the CHECK without scanning; the CHECK is then dropped."""
        name = fit_name(f"{table}_{column}", "not_null")
        t, c, n = self.q(table), self.q(column), self.q(name)
        return [
            Sql(f"ALTER TABLE {t} ADD CONSTRAINT {n} CHECK ({c} IS NOT NULL) NOT VALID",
                [f"{table}.{column} NOT NULL, step 1 of 4: the CHECK holds for new rows at once"]),
            Sql(f"ALTER TABLE {t} VALIDATE CONSTRAINT {n}",
                ["step 2: scans the rows under SHARE UPDATE EXCLUSIVE; reads and writes go on"]),
            Sql(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
                ["step 3: PostgreSQL 12+ proves it from the validated CHECK, without a scan"]),
            Sql(f"ALTER TABLE {t} DROP CONSTRAINT {n}",
                ["step 4: the CHECK has done its work"],
                ignores=[("L408", "the helper CHECK of steps 1-3; SET NOT NULL now holds")]),
        ]

    def drop_not_null(self, table: str, column: str, why: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} ALTER COLUMN {self.q(column)} DROP NOT NULL",
                   ignores=[("L409", why)])

    # ----------------------------------------------------------------- constraints

    def add_foreign_key(self, table: str, fk: ForeignKey, *, name: str | None = None,
                        not_valid: bool = True) -> list[Sql]:
        return [Sql(self.foreign_key_sql(table, fk, name) + (" NOT VALID" if not_valid else ""))]

    def add_check(self, table: str, ck: Check, *, name: str | None = None,
                  not_valid: bool = True) -> Sql:
        return Sql(self.check_sql(table, ck, name) + (" NOT VALID" if not_valid else ""))

    def validate(self, table: str, name: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} VALIDATE CONSTRAINT {self.q(name)}")

    def validate_foreign_key(self, table: str, fk: ForeignKey, name: str) -> list[Sql]:
        """VALIDATE CONSTRAINT: scans under SHARE UPDATE EXCLUSIVE (the parent: ROW SHARE)."""
        return [self.validate(table, name)]

    def validate_check(self, table: str, ck: Check, name: str) -> list[Sql]:
        return [self.validate(table, name)]

    def drop_constraint(self, table: str, name: str, why: str, kind: str = "constraint") -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} DROP CONSTRAINT IF EXISTS {self.q(name)}",
                   ignores=[("L408", why)])

    def rename_constraint(self, table: str, old: str, new: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} RENAME CONSTRAINT {self.q(old)} TO {self.q(new)}")

    def add_unique(self, table: str, unique: Unique, *, name: str | None = None) -> list[Sql]:
        """A unique index built CONCURRENTLY, then attached as the constraint (brief lock)."""
        name = name or unique.name
        index = Index(name=name, columns=[], unique=True)
        sql = (f"CREATE UNIQUE INDEX CONCURRENTLY {self.q(index.name)} ON {self.q(table)} "
               f"({self.cols(unique.columns)})")
        return [
            Sql(sql, ["a duplicate makes it fail and leaves an INVALID index: the rollback "
                      "drops it"], outside_transaction=True),
            Sql(f"ALTER TABLE {self.q(table)} ADD CONSTRAINT {self.q(name)} UNIQUE USING INDEX "
                f"{self.q(name)}"),
        ]

    def drop_unique(self, table: str, name: str, why: str) -> list[Sql]:
        """The constraint, and the index a failed CONCURRENTLY build may have left INVALID."""
        return [self.drop_constraint(table, name, why, "unique"), self.drop_index(name, table)]

    def add_primary_key(self, table: str, columns: list[str]) -> list[Sql]:
        name = f"{table}_pkey"
        return [
            Sql(f"CREATE UNIQUE INDEX CONCURRENTLY {self.q(name)} ON {self.q(table)} "
                f"({self.cols(columns)})", outside_transaction=True),
            Sql(f"ALTER TABLE {self.q(table)} ADD CONSTRAINT {self.q(name)} PRIMARY KEY USING "
                f"INDEX {self.q(name)}"),
        ]

    # ----------------------------------------------------------------- indexes

    @staticmethod
    def index_sql(r: _Renderer, table: str, ix: Index, *, concurrently: bool = True,
                  name: str | None = None) -> str:
        keys = []
        for c in ix.columns:
            key = r.quote(c.name)
            if c.pattern_ops:
                key += f" {r.conf['prefix_opclass']}"
            keys.append(key + (" DESC" if c.desc else ""))
        sql = (f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX "
               f"{'CONCURRENTLY ' if concurrently else ''}{r.quote(name or ix.name)} "
               f"ON {r.quote(table)}")
        if ix.method.value != "btree":
            sql += f" USING {ix.method.value}"
        sql += f" ({', '.join(keys)})"
        if ix.include:
            sql += f" INCLUDE ({', '.join(r.quote(c) for c in ix.include)})"
        if ix.where:
            sql += f" WHERE {ix.where}"
        return sql

    def create_index(self, table: str, ix: Index, *, name: str | None = None) -> Sql:
        return Sql(self.index_sql(self.r, table, ix, name=name),
                   ["a failed build leaves an INVALID index: the rollback drops it"],
                   outside_transaction=True)

    def drop_index(self, name: str, table: str = "") -> Sql:
        return Sql(f"DROP INDEX CONCURRENTLY IF EXISTS {self.q(name)}", outside_transaction=True)

    def rename_index(self, old: str, new: str, table: str = "") -> Sql:
        return Sql(f"ALTER INDEX {self.q(old)} RENAME TO {self.q(new)}")

    # ----------------------------------------------------------------- triggers

    def sync_trigger(self, table: str, name: str, old: Column, new: Column,
                     to_new: str, to_old: str, replace: bool = False) -> list[Sql]:
        """Keep two columns in step while old and new application versions both run: an
        INSERT that leaves `new` NULL takes it from `old`, else `old` from `new`; an UPDATE
        copies whichever of the two it changed. `to_new`/`to_old` convert a value across."""
        o, n = f"NEW.{self.q(old.name)}", f"NEW.{self.q(new.name)}"
        oo, on = f"OLD.{self.q(old.name)}", f"OLD.{self.q(new.name)}"
        body = (
            f"BEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN\n"
            f"    IF {n} IS NULL THEN {n} := {to_new.format(v=o)};\n"
            f"    ELSE {o} := {to_old.format(v=n)};\n"
            f"    END IF;\n"
            f"  ELSIF {n} IS DISTINCT FROM {on} THEN {o} := {to_old.format(v=n)};\n"
            f"  ELSIF {o} IS DISTINCT FROM {oo} THEN {n} := {to_new.format(v=o)};\n"
            f"  END IF;\n"
            f"  RETURN NEW;\n"
            f"END"
        )
        return self.trigger(table, name, body, "BEFORE INSERT OR UPDATE", replace)

    def trigger(self, table: str, name: str, body: str, when: str,
                replace: bool = False) -> list[Sql]:
        """A PL/pgSQL function and the row trigger that runs it."""
        function = (f"CREATE {'OR REPLACE ' if replace else ''}FUNCTION {self.q(name)}() "
                    f"RETURNS trigger LANGUAGE plpgsql AS $$\n{body}\n$$")
        if replace:
            return [Sql(function)]
        return [
            Sql(function),
            Sql(f"CREATE TRIGGER {self.q(name)} {when} ON {self.q(table)} FOR EACH ROW EXECUTE "
                f"FUNCTION {self.q(name)}()",
                ignores=[("L503", "the trigger is the expand/contract bridge; CREATE TRIGGER "
                                  "holds SHARE ROW EXCLUSIVE only for a catalog update, under "
                                  "lock_timeout")]),
        ]

    def drop_trigger(self, table: str, name: str) -> list[Sql]:
        return [
            Sql(f"DROP TRIGGER IF EXISTS {self.q(name)} ON {self.q(table)}"),
            Sql(f"DROP FUNCTION IF EXISTS {self.q(name)}()"),
        ]

    # ----------------------------------------------------------------- data

    def distinct(self, a: str, b: str) -> str:
        return f"{a} IS DISTINCT FROM {b}"

    def batched(self, table: str, key: str, statement: str, about: str) -> list[Sql]:
        """A DO block over the key in batches of `batch_size` rows, each committed, with a pause
        between batches so replicas and autovacuum keep up. Rerunning it is safe: rows already
        written no longer match the statement's own condition."""
        t, k = self.q(table), self.q(key)
        body = statement.format(range=f"{t}.{k} >= lo AND {t}.{k} <= hi")
        text = (
            f"DO $$\n"
            f"DECLARE\n"
            f"  lo {t}.{k}%TYPE;\n"
            f"  hi {t}.{k}%TYPE;\n"
            f"BEGIN\n"
            f"  SELECT min({k}) INTO lo FROM {t};\n"
            f"  WHILE lo IS NOT NULL LOOP\n"
            f"    SELECT max({k}) INTO hi FROM (SELECT {k} FROM {t} WHERE {k} >= lo "
            f"ORDER BY {k} LIMIT {self.batch_size}) AS batch;\n"
            f"    {body};\n"
            f"    COMMIT;\n"
            f"    PERFORM pg_sleep({self.pause});\n"
            f"    SELECT min({k}) INTO lo FROM {t} WHERE {k} > hi;\n"
            f"  END LOOP;\n"
            f"END\n"
            f"$$"
        )
        return [Sql(text, [about, f"batches of {self.batch_size} rows by {key}, each committed, "
                           f"{self.pause}s apart; safe to rerun after an interruption (rows "
                           "already done no longer match). Run outside a transaction block."],
                    outside_transaction=True)]

    def guard(self, condition: str, message: str) -> list[Sql]:
        """Stop the phase (raise) when rows matching `condition` exist."""
        text = (f"DO $$\nBEGIN\n  IF EXISTS ({condition}) THEN\n"
                f"    RAISE EXCEPTION '{message.replace(chr(39), chr(39) * 2)}';\n"
                f"  END IF;\nEND\n$$")
        return [Sql(text, ["a read-only check: the next step must not run before the data is "
                           "complete"])]
