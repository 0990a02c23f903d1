"""L703 mysql-varchar-255-boundary."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.locks import MYSQL_SHARED
from dbarch.lint.modify_rule import ModifyColumnRule, copy_outcome
from dbarch.lint.mysql_shapes import Modification, boundary_chars, bytes_per_char, max_bytes
from dbarch.lint.online_ddl import copy_tools_fix, facts, with_clause
from dbarch.lint.rule import Finding, Severity, register
from dbarch.lint.statement import Statement


@register
class MysqlVarchar255Boundary(ModifyColumnRule):
    """The VARCHAR grows across 255 bytes, so its length prefix widens and the table is copied.

    Why: InnoDB stores a VARCHAR value behind a length prefix of 1 byte when the column can
    hold at most 255 bytes, and 2 bytes from 256 bytes up. Raising the length within the same
    prefix size is a metadata change (INSTANT on MariaDB, INPLACE on MySQL); raising it across
    the boundary rewrites every row, which only a table copy does, with writes blocked until
    it ends. The boundary is in bytes, not characters: the column's length times its
    character set's bytes per character. So VARCHAR(255) → VARCHAR(256) crosses in latin1,
    VARCHAR(85) → VARCHAR(86) in utf8mb3, and VARCHAR(63) → VARCHAR(64) in utf8mb4, which is
    why "just make it 64" surprises people. With ALGORITHM=INPLACE written, the server refuses
    the statement (ERROR 1846) instead.

    Lock: LOCK=SHARED for the whole copy (INSERT, UPDATE and DELETE wait; reads go on).

    Instead: stay within the prefix when you can (in utf8mb4, up to VARCHAR(63)); write the
    online clause so a crossing fails instead of copying:

        ALTER TABLE users MODIFY name VARCHAR(60) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;

    When the column must cross, cross once to the length you will need (later raises above
    256 bytes run in place), with pt-online-schema-change or gh-ost, which copy the rows into a
    shadow table while the application keeps writing:

        pt-online-schema-change --alter "MODIFY name VARCHAR(255) NOT NULL" D=app,t=users --execute

    The rule knows the column's current length when a CREATE TABLE or ALTER TABLE earlier in
    the lint run defined it (lint the migration folder, not one file); otherwise it warns when
    the new length passes 255 bytes and says what it cannot see. Character sets come from the
    column, then the table's default; where neither is known, utf8mb4 is assumed and the
    finding says so. ROW_FORMAT=REDUNDANT tables extend in place even across the boundary
    (MariaDB); the rule does not see row formats.

    Exempt: a table created earlier in the same migration.
    """

    code = "L703"
    name = "mysql-varchar-255-boundary"
    severity = Severity.ERROR
    summary = "VARCHAR raised across 255 bytes (utf8mb4: 63→64 chars) copies the table"

    def judge(self, stmt: Statement, table: str, mod: Modification,
              written: str | None) -> Iterator[Finding]:
        if mod.change is not None and mod.change.key == "varchar_cross_255_bytes":
            yield self._crossing(stmt, table, mod)
        elif mod.old is None and written is None and mod.unknown_kind() == "varchar":
            yield self._maybe_crossing(stmt, table, mod)

    def _crossing(self, stmt: Statement, table: str, mod: Modification) -> Finding:
        assert mod.change is not None and mod.old is not None
        charset = mod.new_charset
        limit = boundary_chars(charset)
        what = (f"MODIFY {table}.{mod.name} {mod.old.text} → {mod.new.text} crosses 255 bytes "
                f"({mod.change.detail}): the length prefix grows from 1 to 2 bytes")
        message = f"{what}, so {copy_outcome(stmt, table)}"
        fix = (f"-- {mod.new.type}({limit}) is the longest that keeps the 1-byte prefix"
               f"{_in(charset, mod)}; past it no ALGORITHM avoids the copy. Cross once, to the "
               "length you will need, online:\n" + copy_tools_fix(stmt, table))
        return self.finding(stmt, message, table=table, lock=MYSQL_SHARED, fix=fix)

    def _maybe_crossing(self, stmt: Statement, table: str, mod: Modification) -> Finding:
        charset = mod.new_charset
        limit = boundary_chars(charset)
        message = (f"MODIFY {table}.{mod.name} to {mod.new.text} (up to "
                   f"{max_bytes(mod.new, charset)} bytes{_in(charset, mod)}): dbarch cannot "
                   f"see its current length; if it is {limit} characters or fewer "
                   f"({facts()['varchar']['one_byte_prefix_max_bytes']} bytes) this crosses "
                   "the 1-byte length prefix and copies the table with writes blocked")
        fix = (with_clause(stmt, "INPLACE", "NONE") + "\n-- the server refuses this "
               "(ERROR 1846) instead of copying when it crosses; then run it online:\n"
               + copy_tools_fix(stmt, table))
        return self.finding(stmt, message, table=table, lock=MYSQL_SHARED, fix=fix,
                            severity=Severity.WARNING)


def _in(charset: str | None, mod: Modification) -> str:
    if mod.new.type == "VARBINARY":
        return ""
    _, assumed = bytes_per_char(charset)
    name = charset if not assumed else f"{facts()['charsets']['assumed']}, assumed"
    return f" in {name}"
