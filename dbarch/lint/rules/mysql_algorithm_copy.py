"""L701 mysql-algorithm-copy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.locks import MYSQL_EXCLUSIVE, MYSQL_SHARED
from dbarch.lint.mysql_shapes import Shapes, modifications
from dbarch.lint.online_ddl import (
    ONLINE,
    Operation,
    Session,
    copy_tools_fix,
    operations,
    statement_table,
    weakest,
    with_clause,
    without_options,
    written_algorithm,
    written_lock,
)
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class MysqlAlgorithmCopy(Rule):
    """The ALTER copies the whole table, and writes to it wait until the copy is done.

    Why: with ALGORITHM=COPY, MySQL and MariaDB build a new table, copy every row into it and
    swap it in. For the whole copy (minutes to hours on a large table) the table is locked
    against writes, and the copy needs as much free disk as the table. This rule fires when a
    statement asks for the copy (`ALGORITHM=COPY`) though its operations run in place, and
    when an operation can only run as a copy: ADD FOREIGN KEY while foreign_key_checks is on,
    ADD CONSTRAINT ... CHECK, a STORED generated column, DROP PRIMARY KEY without a new one,
    CONVERT TO CHARACTER SET. Column type changes through MODIFY/CHANGE have their own rules
    (L703, L704, L705). Written with ALGORITHM=INPLACE or INSTANT, a copy-only operation is
    refused with ERROR 1846 instead, which fails the migration.

    Lock: LOCK=SHARED for the whole copy (INSERT, UPDATE and DELETE wait; reads go on), and
    the exclusive metadata lock at the start and the end, which waits behind any open
    transaction on the table and makes every later query wait behind it.

    Instead: ask for the online algorithm; the server then refuses (ERROR 1845/1846) rather
    than falls back to a copy:

        ALTER TABLE orders ADD INDEX orders_user_idx (user_id), ALGORITHM=INPLACE, LOCK=NONE;
        ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;

    (MySQL 8.0 refuses a LOCK clause next to ALGORITHM=INSTANT: ERROR 1221.) For a foreign
    key, switch the check off for the session, which makes it INPLACE, and look for orphans
    yourself, since existing rows are then not checked:

        SET foreign_key_checks = 0;
        ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id)
            REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;
        SET foreign_key_checks = 1;

    A STORED generated column can usually be VIRTUAL (INSTANT, and indexable). Where the copy
    cannot be avoided, run the change with pt-online-schema-change or gh-ost, which copy the
    rows into a shadow table while the application keeps writing.

    Exempt: a table created earlier in the same migration.

    Versions: what runs in place is kept per server in dbarch/lint/data/mysql_online_ddl.yaml
    (MariaDB 10.11 measured, MySQL 8.0 from its manual); an operation is flagged when either
    server copies, and the message names which.
    """

    code = "L701"
    name = "mysql-algorithm-copy"
    severity = Severity.ERROR
    nodes = ("Alter", "Command", "Create", "Drop", "Set")
    dialects = frozenset({"mysql"})
    scales_with_table = True
    summary = "ALTER TABLE that runs as a table copy (ALGORITHM=COPY) blocks writes throughout"

    def __init__(self) -> None:
        self.shapes = Shapes()
        self.session = Session()

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        self.session.at(stmt)
        findings = list(self._judge(stmt, ctx))
        self.shapes.observe(stmt)
        self.session.observe(stmt)
        yield from findings

    def _judge(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if stmt.kind in ("Set", "Drop") or (stmt.kind == "Create" and not _creates_index(stmt)):
            return
        table = statement_table(stmt)
        if table is None or ctx.created_here(table):
            return
        ops = operations(stmt, foreign_key_checks=self.session.foreign_key_checks)
        mods = modifications(stmt, self.shapes, table)
        written = written_algorithm(stmt)
        lock = MYSQL_EXCLUSIVE if written_lock(stmt) == "EXCLUSIVE" else MYSQL_SHARED
        copying = [op for op in ops if op.copies()]
        if copying:
            yield self._copy_only(stmt, table, copying, written, lock)
            return
        if written != "COPY":
            return
        known = [Operation(m.operation) for m in mods if m.operation]
        if any(op.copies() for op in known) and len(known) == len(mods):
            return  # the copy is needed; L703/L704/L705 say why
        everything = ops + known
        algorithm = weakest([op.algorithm for op in everything]) if everything else "INPLACE"
        if len(known) < len(mods):
            algorithm = weakest([algorithm, "INPLACE"])  # unknown columns: let the server judge
        lock_needed = "NONE" if all(op.lock == "NONE" for op in everything) else "SHARED"
        labels = ", ".join(dict.fromkeys(op.label for op in everything)) or "a rebuild"
        message = (f"ALGORITHM=COPY copies {table} with writes blocked, though {labels} runs "
                   f"as ALGORITHM={algorithm}")
        if len(known) < len(mods):
            unknown = ", ".join(m.name for m in mods if m.operation is None)
            message = (f"ALGORITHM=COPY copies {table} with writes blocked; dbarch cannot see "
                       f"the current definition of {unknown}: a change that keeps the type "
                       f"runs as ALGORITHM={algorithm}, and asked for that the server refuses "
                       "(ERROR 1846) rather than copies")
        yield self.finding(
            stmt,
            message,
            table=table,
            lock=lock,
            fix=with_clause(stmt, algorithm, lock_needed),
        )

    def _copy_only(self, stmt: Statement, table: str, copying: list[Operation],
                   written: str | None, lock: str) -> Finding:
        labels = "; ".join(dict.fromkeys(op.label for op in copying))
        servers = sorted({name for op in copying for name in op.copying_servers()})
        where = " and ".join(servers)
        if written in ONLINE:
            message = (f"ALGORITHM={written} is refused (ERROR 1846) on {where}: {labels} only "
                       f"runs as a table copy of {table}")
        else:
            message = (f"{labels} copies {table} on {where}: writes to {table} wait for the "
                       "whole copy")
        return self.finding(stmt, message, table=table, lock=lock,
                            fix=_fix(stmt, table, copying))


def _creates_index(stmt: Statement) -> bool:
    return (stmt.node.args.get("kind") or "").upper() == "INDEX"


def _fix(stmt: Statement, table: str, copying: list[Operation]) -> str:
    keys = {op.key for op in copying}
    if keys == {"add_foreign_key"}:
        return _foreign_key_fix(stmt)
    if keys == {"add_stored_generated_column"}:
        import re

        virtual = re.sub(r"(?i)\bSTORED\b", "VIRTUAL", without_options(stmt.text))
        return (f"{virtual}, ALGORITHM=INSTANT;\n-- a VIRTUAL column is computed on read and can "
                "be indexed (ADD INDEX ..., ALGORITHM=INPLACE, LOCK=NONE); if it must be "
                "STORED:\n" + copy_tools_fix(stmt, table))
    if keys == {"drop_primary_key"}:
        return ("-- add the new primary key in the same statement: DROP PRIMARY KEY, ADD "
                "PRIMARY KEY (...) rebuilds in place (ALGORITHM=INPLACE, LOCK=NONE); to drop "
                "it for good:\n" + copy_tools_fix(stmt, table))
    return "-- no ALGORITHM avoids this copy; run it online:\n" + copy_tools_fix(stmt, table)


def _foreign_key_fix(stmt: Statement) -> str:
    """foreign_key_checks off around the ALTER, and the query that finds the orphans it skips."""
    from sqlglot import exp

    lines = ["SET foreign_key_checks = 0;", with_clause(stmt, "INPLACE"),
             "SET foreign_key_checks = 1;"]
    for key in stmt.node.find_all(exp.ForeignKey):
        orphans = _orphan_query(stmt, key)
        if orphans:
            lines.append("-- existing rows are not checked; this must return nothing:")
            lines.append(orphans)
    return "\n".join(lines)


def _orphan_query(stmt: Statement, key: Any) -> str | None:
    from sqlglot import exp

    child = statement_table(stmt)
    reference = key.args.get("reference")
    target = reference.this if reference is not None else None
    if not isinstance(target, exp.Schema) or not isinstance(target.this, exp.Table):
        return None
    parent = target.this.name
    child_cols = [c.name for c in key.expressions]
    parent_cols = [c.name for c in target.expressions]
    if not child_cols or len(child_cols) != len(parent_cols):
        return None
    pairs = zip(child_cols, parent_cols, strict=True)
    on = " AND ".join(f"parent.{p} = child.{c}" for c, p in pairs)
    present = " AND ".join(f"child.{c} IS NOT NULL" for c in child_cols)
    return (f"SELECT child.* FROM {child} child LEFT JOIN {parent} parent ON {on} "
            f"WHERE {present} AND parent.{parent_cols[0]} IS NULL LIMIT 10;")
