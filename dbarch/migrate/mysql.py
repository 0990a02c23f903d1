"""MySQL 8.0 / MariaDB 10.11 statements of a migration plan: online DDL only.

Every ALTER names its ALGORITHM and LOCK, taken from the online DDL facts the linter uses
(dbarch/lint/data/mysql_online_ddl.yaml, read through dbarch/lint/online_ddl.py): the server
then refuses to run a statement as a blocking table copy instead of silently doing it.
Backfills and guards are stored procedures (MySQL has no anonymous blocks), created, called and
dropped; each batch commits on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from dbarch.lint.online_ddl import facts, online_clause, weakest
from dbarch.migrate.statements import Sql
from dbarch.migrate.writer import ReadBackRenderer, SqlWriter
from dbarch.render.base import Statement
from dbarch.render.mysql import MySqlRenderer
from dbarch.schema.model import (
    Check,
    Column,
    DefaultKind,
    ForeignKey,
    Index,
    Table,
    Unique,
)


def online(operation: str) -> tuple[str, str]:
    """(algorithm, lock) that both MariaDB 10.11 and MySQL 8.0 run `operation` with."""
    info = facts()["operations"][operation]
    return weakest([info["mariadb"], info["mysql"]]), info["lock"]


def clause(operation: str) -> str:
    """`, ALGORITHM=…, LOCK=…` for an operation (INSTANT takes no LOCK clause on MySQL 8)."""
    return ", " + online_clause(*online(operation))


class _Renderer(ReadBackRenderer, MySqlRenderer):
    """MySQL DDL of parsed schemas: native types and expression defaults kept, nothing added."""

    def default_clause(self, col: Column) -> str | None:
        if col.default is not None and col.default.kind == DefaultKind.expression:
            return f"({col.default.value})"
        return super().default_clause(col)

    def column_extras(self, table: Table, col: Column) -> list[str]:
        return []

    def create_index(self, table: Table, ix: Index, notes: list[str]) -> list[Statement]:
        return [Statement(MySqlWriter.index_sql(self, table.name, ix))]


class MySqlWriter(SqlWriter):
    """Writes the plan's statements for MySQL 8.0 and MariaDB 10.11."""

    dialect: ClassVar[str] = "mysql"
    explicit_null: ClassVar[bool] = True

    def __init__(self, lock_timeout: str = "5s", batch_size: int = 1000, pause: float = 0.1,
                 lookup: Callable[[str, str], Column] | None = None,
                 tables: Callable[[str], list[Table]] | None = None) -> None:
        super().__init__(_Renderer(), batch_size, pause)
        seconds = "".join(ch for ch in lock_timeout if ch.isdigit() or ch == ".") or "5"
        self.lock_wait = max(1, round(float(seconds)))
        self.lookup = lookup
        self.tables = tables

    def online(self, operation: str) -> str:
        return clause(operation)

    def column(self, table: str, name: str) -> Column:
        assert self.lookup is not None, "the MySQL writer needs the schemas' columns"
        return self.lookup(table, name)

    def preamble(self) -> list[Sql]:
        return [Sql(f"SET SESSION lock_wait_timeout = {self.lock_wait}", [
            "every ALTER takes an exclusive metadata lock at its start and end: give up "
            "instead of queueing traffic behind a long transaction; on error 1205 run the "
            "failed statement and the rest of the file again"])]

    # ----------------------------------------------------------------- tables

    def rename_table(self, old: str, new: str, why: str) -> Sql:
        return Sql(f"RENAME TABLE {self.q(old)} TO {self.q(new)}", ignores=[("L402", why)])

    # ----------------------------------------------------------------- columns

    def modify(self, table: str, col: Column, *, nullable: bool, operation: str) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} MODIFY {self.column_def(col, nullable=nullable)}"
                   f"{clause(operation)}")

    def not_null(self, table: str, column: str) -> list[Sql]:
        """MODIFY … NOT NULL rebuilds the table in place with LOCK=NONE: reads and writes go
        on; it fails (strict mode) if a NULL is left."""
        return [self.modify(table, self.column(table, column), nullable=False,
                            operation="make_not_null")]

    def drop_not_null(self, table: str, column: str, why: str) -> Sql:
        sql = self.modify(table, self.column(table, column), nullable=True,
                          operation="make_nullable")
        sql.ignores.append(("L409", why))
        return sql

    def alter_type(self, table: str, col: Column, new: Column) -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} MODIFY {self.column_def(new)}"
                   f"{clause('varchar_extend')}")

    # ----------------------------------------------------------------- constraints

    def add_foreign_key(self, table: str, fk: ForeignKey, *, name: str | None = None,
                        not_valid: bool = True) -> list[Sql]:
        sql = self.foreign_key_sql(table, fk, name)
        if not not_valid:
            return [Sql(sql)]
        # With foreign_key_checks = 0 InnoDB adds it in place without reading the rows (the
        # equivalent of NOT VALID); validate_foreign_key then checks the rows.
        return [Sql("SET SESSION foreign_key_checks = 0",
                    ["InnoDB copies the table to add a checked foreign key; unchecked it is "
                     "added in place, and the validate phase checks the rows instead"]),
                Sql(sql + clause("add_foreign_key_unchecked")),
                Sql("SET SESSION foreign_key_checks = 1")]

    def validate_foreign_key(self, table: str, fk: ForeignKey, name: str) -> list[Sql]:
        """The rows' check that NOT VALID + VALIDATE does on PostgreSQL: no orphan."""
        t, p = self.q(table), self.q(fk.ref_table)
        match = " AND ".join(f"p.{self.q(r)} = c.{self.q(c)}"
                             for c, r in zip(fk.columns, fk.ref_columns, strict=True))
        present = " AND ".join(f"c.{self.q(c)} IS NOT NULL" for c in fk.columns)
        return self.guard(f"SELECT 1 FROM {t} c WHERE {present} AND NOT EXISTS "
                          f"(SELECT 1 FROM {p} p WHERE {match})",
                          f"{table} has rows without a parent in {fk.ref_table} ({name})")

    def validate_check(self, table: str, ck: Check, name: str) -> list[Sql]:
        return []  # MySQL checks the rows when it adds the CHECK

    def add_check(self, table: str, ck: Check, *, name: str | None = None,
                  not_valid: bool = True) -> Sql:
        return Sql(f"{self.check_sql(table, ck, name)}{clause('add_check')}",
                   ["MySQL and MariaDB copy the table to add a CHECK (writes wait): no online "
                    "form exists"])

    def implicit_index(self, table: str, name: str) -> bool:
        """Whether InnoDB made an index for the foreign key `name` (it does, under the key's
        name, when no index of the table starts with the key's columns); dropping the key
        leaves that index behind."""
        for definition in self.tables(table) if self.tables else []:
            fk = next((f for f in definition.foreign_keys if f.name == name), None)
            if fk is None:
                continue
            n = len(fk.columns)
            leads = [definition.primary_key[:n], *(u.columns[:n] for u in definition.uniques),
                     *(i.column_names[:n] for i in definition.indexes)]
            return fk.columns not in leads
        return False

    def drop_constraint(self, table: str, name: str, why: str, kind: str = "constraint") -> Sql:
        if kind == "foreign_key" and self.implicit_index(table, name):
            algorithm, lock = online("drop_index")
            return Sql(f"ALTER TABLE {self.q(table)} DROP FOREIGN KEY {self.q(name)}, DROP INDEX "
                       f"{self.q(name)}, ALGORITHM={algorithm}, LOCK={lock}",
                       ["the index InnoDB made for the key goes with it"],
                       ignores=[("L408", why)])
        what = {"foreign_key": f"DROP FOREIGN KEY {self.q(name)}{clause('drop_foreign_key')}",
                "unique": f"DROP INDEX {self.q(name)}{clause('drop_index')}",
                "primary": "DROP PRIMARY KEY",
                "check": f"DROP CONSTRAINT {self.q(name)}"}.get(kind, f"DROP CONSTRAINT "
                                                                 f"{self.q(name)}")
        return Sql(f"ALTER TABLE {self.q(table)} {what}", ignores=[("L408", why)])

    def add_unique(self, table: str, unique: Unique, *, name: str | None = None) -> list[Sql]:
        return [Sql(f"ALTER TABLE {self.q(table)} ADD UNIQUE INDEX {self.q(name or unique.name)} "
                    f"({self.cols(unique.columns)}){clause('add_index')}")]

    def drop_unique(self, table: str, name: str, why: str) -> list[Sql]:
        return [self.drop_constraint(table, name, why, "unique")]

    def add_primary_key(self, table: str, columns: list[str]) -> list[Sql]:
        return [Sql(f"ALTER TABLE {self.q(table)} ADD PRIMARY KEY ({self.cols(columns)})"
                    f"{clause('add_primary_key')}")]

    # ----------------------------------------------------------------- indexes

    @staticmethod
    def index_sql(r: MySqlRenderer, table: str, ix: Index, name: str | None = None) -> str:
        keys = ", ".join(r.quote(c.name) + (" DESC" if c.desc else "") for c in ix.columns)
        return (f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {r.quote(name or ix.name)} ON "
                f"{r.quote(table)} ({keys})")

    def create_index(self, table: str, ix: Index, *, name: str | None = None) -> Sql:
        algorithm, lock = online("add_index")
        return Sql(f"{self.index_sql(self.r, table, ix, name)} ALGORITHM={algorithm} LOCK={lock}")

    def drop_index(self, name: str, table: str = "") -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} DROP INDEX {self.q(name)}{clause('drop_index')}")

    def rename_index(self, old: str, new: str, table: str = "") -> Sql:
        return Sql(f"ALTER TABLE {self.q(table)} RENAME INDEX {self.q(old)} TO {self.q(new)}"
                   f"{clause('rename_index')}")

    # ----------------------------------------------------------------- triggers

    def sync_trigger(self, table: str, name: str, old: Column, new: Column,
                     to_new: str, to_old: str, replace: bool = False) -> list[Sql]:
        """Two BEFORE triggers (MySQL has one event per trigger) keeping `old` and `new` equal:
        an INSERT that leaves `new` NULL takes it from `old`, else `old` from `new`; an UPDATE
        copies whichever of the two it changed."""
        o, n = f"NEW.{self.q(old.name)}", f"NEW.{self.q(new.name)}"
        oo, on = f"OLD.{self.q(old.name)}", f"OLD.{self.q(new.name)}"
        insert = (f"BEGIN\n  IF {n} IS NULL THEN SET {n} = {to_new.format(v=o)};\n"
                  f"  ELSE SET {o} = {to_old.format(v=n)};\n  END IF;\nEND")
        update = (f"BEGIN\n  IF NOT ({n} <=> {on}) THEN SET {o} = {to_old.format(v=n)};\n"
                  f"  ELSEIF NOT ({o} <=> {oo}) THEN SET {n} = {to_new.format(v=o)};\n"
                  f"  END IF;\nEND")
        return [*self.trigger(table, f"{name}_ins", insert, "BEFORE INSERT"),
                *self.trigger(table, f"{name}_upd", update, "BEFORE UPDATE")]

    def trigger(self, table: str, name: str, body: str, when: str,
                replace: bool = False) -> list[Sql]:
        return [Sql(f"CREATE TRIGGER {self.q(name)} {when} ON {self.q(table)} FOR EACH ROW\n"
                    f"{body}", compound=True)]

    def drop_trigger(self, table: str, name: str) -> list[Sql]:
        return [Sql(f"DROP TRIGGER IF EXISTS {self.q(name)}_ins"),
                Sql(f"DROP TRIGGER IF EXISTS {self.q(name)}_upd")]

    # ----------------------------------------------------------------- data

    def distinct(self, a: str, b: str) -> str:
        return f"NOT ({a} <=> {b})"

    def batched(self, table: str, key: str, statement: str, about: str) -> list[Sql]:
        """A procedure that runs `statement` over key ranges of `batch_size` rows, each batch
        committed on its own (autocommit), with a pause between batches; called, then
        dropped. Rerunning it is safe: rows already written no longer match."""
        t, k = self.q(table), self.q(key)
        key_type = self.type_sql(self.column(table, key))
        body = statement.format(range=f"{t}.{k} BETWEEN lo AND hi")
        text = (
            f"BEGIN\n"
            f"  DECLARE lo {key_type};\n  DECLARE hi {key_type};\n"
            f"  SELECT MIN({k}) INTO lo FROM {t};\n"
            f"  WHILE lo IS NOT NULL DO\n"
            f"    SELECT MAX({k}) INTO hi FROM (SELECT {k} FROM {t} WHERE {k} >= lo ORDER BY {k} "
            f"LIMIT {self.batch_size}) AS batch;\n"
            f"    {body};\n"
            f"    DO SLEEP({self.pause});\n"
            f"    SET lo = (SELECT MIN({k}) FROM {t} WHERE {k} > hi);\n"
            f"  END WHILE;\nEND"
        )
        return self.procedure("dbarch_backfill", text, [
            about, f"batches of {self.batch_size} rows by {key}, each committed on its own, "
            f"{self.pause}s apart; safe to rerun"])

    def guard(self, condition: str, message: str) -> list[Sql]:
        """Stop (SIGNAL) when rows matching `condition` exist."""
        text = (f"BEGIN\n  IF EXISTS ({condition}) THEN\n"
                f"    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = "
                f"'{message[:120].replace(chr(39), chr(39) * 2)}';\n  END IF;\nEND")
        return self.procedure("dbarch_guard", text, [
            "a read-only check: the next step must not run before the data is complete"])

    def procedure(self, name: str, body: str, comments: list[str]) -> list[Sql]:
        """Create, call and drop a procedure (MySQL runs loops and IFs only inside one)."""
        proc = self.q(name)
        return [Sql(f"DROP PROCEDURE IF EXISTS {proc}", comments),
                Sql(f"CREATE PROCEDURE {proc}()\n{body}", compound=True),
                Sql(f"CALL {proc}()"),
                Sql(f"DROP PROCEDURE {proc}")]
