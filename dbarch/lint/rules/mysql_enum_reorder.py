"""L704 mysql-enum-reorder."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.locks import MYSQL_SHARED
from dbarch.lint.modify_rule import ModifyColumnRule, copy_outcome
from dbarch.lint.mysql_shapes import Modification
from dbarch.lint.online_ddl import copy_tools_fix, with_clause
from dbarch.lint.rule import Finding, Severity, register
from dbarch.lint.statement import Statement


@register
class MysqlEnumReorder(ModifyColumnRule):
    """The ENUM/SET change reorders, inserts or removes members, so the table is copied.

    Why: InnoDB stores an ENUM value as the index of its member (a SET value as a bit mask),
    not as text. Appending members at the end leaves every stored number meaning what it meant,
    so it is a metadata change (ALGORITHM=INSTANT on MariaDB 10.3+ and MySQL 8.0). Inserting a
    member before the end, reordering or removing members changes what the stored numbers
    mean: the server rewrites every row in a table copy, with writes blocked until it ends.
    Appending also copies when the storage size grows: past 255 members for ENUM, past 8, 16,
    24 or 32 members for SET. A removed member is worse than slow: rows holding it become ''
    (or the statement fails in strict mode).

    Lock: LOCK=SHARED for the whole copy (INSERT, UPDATE and DELETE wait; reads go on).

    Instead: keep the existing members in their order and append new ones at the end; with
    ALGORITHM=INSTANT the server refuses rather than copies if the list is not a pure append:

        ALTER TABLE orders MODIFY status ENUM('pending','paid','shipped','refunded') NOT NULL,
            ALGORITHM=INSTANT;

    ENUM columns sort by member position, so if the reorder was about ORDER BY, sort
    explicitly instead (ORDER BY FIELD(status, 'pending', 'paid', ...)). Retiring a member is
    an application change first (stop writing it, migrate the rows in batches), then a copy
    with pt-online-schema-change or gh-ost.

    The rule compares with the column's current members when a CREATE TABLE or ALTER TABLE
    earlier in the lint run defined it (lint the migration folder, not one file); otherwise it
    warns that it cannot see them, unless ALGORITHM=INSTANT or INPLACE is written (the server
    then refuses a copy itself).

    Exempt: a table created earlier in the same migration.
    """

    code = "L704"
    name = "mysql-enum-reorder"
    severity = Severity.ERROR
    summary = "ENUM/SET change other than appending at the end copies the table"

    def judge(self, stmt: Statement, table: str, mod: Modification,
              written: str | None) -> Iterator[Finding]:
        key = mod.change.key if mod.change else None
        if key in ("enum_reorder", "enum_storage_grows"):
            yield self._copy(stmt, table, mod)
        elif mod.old is None and written is None and mod.unknown_kind() == "members":
            yield self.finding(
                stmt,
                f"MODIFY {table}.{mod.name} to {mod.new.text}: dbarch cannot see its "
                "current members; unless this only appends members at the end, the "
                f"table is copied with writes to {table} blocked",
                table=table, lock=MYSQL_SHARED, severity=Severity.WARNING,
                fix=with_clause(stmt, "INSTANT") + "\n-- the server refuses this "
                "(ERROR 1846) instead of copying when it is not a pure append",
            )

    def _copy(self, stmt: Statement, table: str, mod: Modification) -> Finding:
        assert mod.change is not None and mod.old is not None
        old, new = list(mod.old.params), list(mod.new.params)
        removed = [m for m in old if m not in new]
        column = f"{table}.{mod.name}"
        if mod.change.key == "enum_storage_grows":
            what = f"appending to {column} widens its storage ({mod.change.detail})"
        elif removed:
            what = (f"{column} loses {_members(removed)} (rows holding "
                    f"{'it' if len(removed) == 1 else 'them'} become '' or fail the statement)")
        else:
            what = f"{column} {mod.old.text} → {mod.new.text} does not only append at the end"
        tail = copy_outcome(stmt, table)
        if removed or mod.change.key == "enum_storage_grows":
            fix = "-- no ALGORITHM avoids this copy; run it online:\n" + \
                copy_tools_fix(stmt, table)
        else:
            fix = _appended(stmt, mod, old + [m for m in new if m not in old])
        return self.finding(stmt, f"{what}; {tail}", table=table, lock=MYSQL_SHARED, fix=fix)


def _members(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _appended(stmt: Statement, mod: Modification, members: list[str]) -> str:
    """The MODIFY of this column with the new members appended after the existing ones."""
    from sqlglot import exp

    for action in stmt.node.args.get("actions") or []:
        if not isinstance(action, exp.ModifyColumn):
            continue
        renamed = action.args.get("rename_from")
        if (renamed.name if renamed else action.this.name).lower() != mod.name.lower():
            continue
        copy = action.copy()
        copy.this.args["kind"].set("expressions", [exp.Literal.string(m) for m in members])
        alter = exp.Alter(this=stmt.node.this.copy(), kind="TABLE", actions=[copy])
        return (f"{alter.sql('mysql')}, ALGORITHM=INSTANT;\n-- existing members keep their "
                "place; new ones go at the end (ENUM sorts by position: ORDER BY FIELD(...) "
                "if order matters)")
    return copy_tools_fix(stmt, mod.table)
