"""L705 mysql-column-type-change."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.locks import MYSQL_SHARED
from dbarch.lint.modify_rule import ModifyColumnRule, copy_outcome
from dbarch.lint.mysql_shapes import Modification
from dbarch.lint.online_ddl import copy_tools_fix, with_clause
from dbarch.lint.rule import Finding, Severity, register
from dbarch.lint.statement import Statement

_KEYS = ("change_column_type", "change_column_charset", "varchar_shrink")


@register
class MysqlColumnTypeChange(ModifyColumnRule):
    """MODIFY/CHANGE gives the column another type, which only a table copy can do.

    Why: InnoDB changes a column's data type by copying the table (ALGORITHM=COPY): INT to
    BIGINT, signed to UNSIGNED, DECIMAL(10,2) to DECIMAL(12,2), CHAR(10) to CHAR(20) or to
    VARCHAR, TEXT to MEDIUMTEXT, DATETIME to DATETIME(6), another character set, a shorter
    VARCHAR. Every row is rewritten into a new table while writes to it wait; the server
    needs free disk for a second copy, and a replica applies the same copy after the primary,
    so replication lags by the copy's duration. Written with ALGORITHM=INPLACE or INSTANT, the
    statement is refused (ERROR 1846) instead. What does not copy and is not flagged: a longer
    VARCHAR within its length prefix (L703 covers the boundary), appended ENUM/SET members
    (L704 covers the rest), NULL/NOT NULL (an in-place rebuild), defaults, comments, renames.
    A change of collation alone is not judged.

    Lock: LOCK=SHARED for the whole copy (INSERT, UPDATE and DELETE wait; reads go on).

    Instead: run the change online with pt-online-schema-change or gh-ost (they copy the rows
    into a shadow table while the application keeps writing, then swap):

        pt-online-schema-change --alter "MODIFY qty BIGINT NOT NULL" D=app,t=orders --execute

    or expand and contract in the application: add the new column (ALGORITHM=INSTANT),
    write both, backfill in batches by primary key, switch reads, drop the old column
    (ALGORITHM=INSTANT). When dbarch cannot see the column's current type, write the online
    clause so the server refuses a copy instead of starting one:

        ALTER TABLE orders MODIFY note VARCHAR(200) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;

    The rule knows the current type when a CREATE TABLE or ALTER TABLE earlier in the lint run
    defined the column (lint the migration folder, not one file); otherwise MODIFY restates a
    type it cannot compare, and it warns unless ALGORITHM=INSTANT or INPLACE is written.

    Exempt: a table created earlier in the same migration.

    Versions: MariaDB 10.4+ changes some types in place with ROW_FORMAT=REDUNDANT only; the
    default DYNAMIC format copies (measured on 10.11, see data/mysql_online_ddl.yaml).
    """

    code = "L705"
    name = "mysql-column-type-change"
    severity = Severity.ERROR
    summary = "MODIFY/CHANGE of a column's type copies the table (ALGORITHM=COPY)"

    def judge(self, stmt: Statement, table: str, mod: Modification,
              written: str | None) -> Iterator[Finding]:
        if mod.change is not None and mod.change.key in _KEYS:
            yield self._copy(stmt, table, mod)
        elif mod.old is None and written is None and mod.unknown_kind() == "type":
            yield self.finding(
                stmt,
                f"MODIFY {table}.{mod.name} restates its type as {mod.new.text}; dbarch "
                "cannot see the current type: if it differs, the table is copied with "
                f"writes to {table} blocked",
                table=table, lock=MYSQL_SHARED, severity=Severity.WARNING,
                fix=with_clause(stmt, "INPLACE", "NONE") + "\n-- the server refuses this "
                "(ERROR 1846) instead of copying when the type changes",
            )

    def _copy(self, stmt: Statement, table: str, mod: Modification) -> Finding:
        assert mod.change is not None and mod.old is not None
        column = f"{table}.{mod.name}"
        if mod.change.key == "change_column_charset":
            what = f"{column} changes {mod.change.detail}"
        elif mod.change.key == "varchar_shrink":
            what = f"{column} shrinks from {mod.old.text} to {mod.new.text}"
        else:
            what = f"{column} changes type from {mod.old.text} to {mod.new.text}"
        tail = copy_outcome(stmt, table)
        fix = ("-- no ALGORITHM avoids this copy; run it online (or expand/contract: add a "
               "new column, backfill in batches, switch, drop the old one):\n"
               + copy_tools_fix(stmt, table))
        return self.finding(stmt, f"{what}: {tail}", table=table, lock=MYSQL_SHARED, fix=fix)
