"""MySQL/MariaDB online DDL: what each ALTER operation costs, from data/mysql_online_ddl.yaml.

The rules L701–L705 read ALTER statements through this module: each action becomes an
`Operation` (a key of the data file), the data says which algorithm (INSTANT, INPLACE, COPY)
and which LOCK each server needs for it, and the helpers here write the safe form of a
statement: the ALGORITHM/LOCK clause that makes the server refuse a copy instead of silently
blocking writes, or the pt-online-schema-change / gh-ost command when no online form exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from dbarch.lint.data_files import data_file
from dbarch.lint.mysql import actions, table_of
from dbarch.lint.statement import Statement

SERVERS = {"mariadb": "MariaDB 10.11", "mysql": "MySQL 8.0"}
ONLINE = ("INSTANT", "INPLACE", "NOCOPY")


@cache
def facts() -> dict[str, Any]:
    """The online DDL facts of data/mysql_online_ddl.yaml."""
    return data_file("mysql_online_ddl.yaml")


@dataclass(frozen=True)
class Operation:
    """One action of an ALTER statement, named by its key in the data file."""

    key: str
    column: str | None = None
    detail: str = ""

    @property
    def info(self) -> dict[str, str]:
        return facts()["operations"][self.key]

    @property
    def label(self) -> str:
        return self.info["label"]

    @property
    def algorithm(self) -> str:
        """The best algorithm both servers support for it (the weaker of the two)."""
        return weakest([self.info["mariadb"], self.info["mysql"]])

    @property
    def lock(self) -> str:
        return self.info["lock"]

    def copying_servers(self) -> list[str]:
        """The servers that can only run it as a table copy."""
        return [name for key, name in SERVERS.items() if self.info[key] == "COPY"]

    def copies(self) -> bool:
        return bool(self.copying_servers())


def weakest(algorithms: list[str]) -> str:
    """The least capable of the algorithms: a statement runs as its weakest operation does."""
    order = facts()["algorithms"]
    return min(algorithms, key=order.index) if algorithms else order[-1]


# ALGORITHM [=] value and LOCK [=] value, with the values the servers accept: a column named
# `lock` or `algorithm` is not an option.
_ALGORITHM = re.compile(r"\bALGORITHM\s*=?\s*(DEFAULT|INSTANT|INPLACE|NOCOPY|COPY)\b", re.I)
_LOCK = re.compile(r"\bLOCK\s*=?\s*(DEFAULT|NONE|SHARED|EXCLUSIVE)\b", re.I)


def written_algorithm(stmt: Statement) -> str | None:
    """ALGORITHM= as written in the statement (COPY, INPLACE, INSTANT, NOCOPY, DEFAULT)."""
    found = _ALGORITHM.findall(stmt.text)
    return found[-1].upper() if found else None


def written_lock(stmt: Statement) -> str | None:
    """LOCK= as written in the statement (NONE, SHARED, EXCLUSIVE, DEFAULT)."""
    found = _LOCK.findall(stmt.text)
    return found[-1].upper() if found else None


def guarded(stmt: Statement) -> bool:
    """ALGORITHM=INSTANT/INPLACE/NOCOPY is written: the server refuses rather than copies."""
    return written_algorithm(stmt) in ONLINE


# --- classifying statements -------------------------------------------------------------------
def operations(stmt: Statement, *, foreign_key_checks: bool = True) -> list[Operation]:
    """The operations of an ALTER TABLE / CREATE INDEX / OPTIMIZE statement.

    MODIFY and CHANGE are not classified here: what they cost depends on the column's current
    definition (see dbarch.lint.mysql_shapes).
    """
    from sqlglot import exp

    node = stmt.node
    if isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "INDEX":
        return [Operation("add_index")]
    if isinstance(node, exp.Command):
        return _command_operations(stmt.text)
    if not isinstance(node, exp.Alter):
        return []
    ops: list[Operation] = []
    items = actions(stmt)
    adds_primary_key = any(
        isinstance(action, exp.AddConstraint) and action.find(exp.PrimaryKey) for action in items
    )
    for action in items:
        ops.extend(_action_operations(action, adds_primary_key, foreign_key_checks))
    for option in node.args.get("options") or []:
        if isinstance(option, exp.EngineProperty):
            ops.append(Operation("rebuild"))
        elif isinstance(option, exp.RowFormatProperty):
            ops.append(Operation("row_format"))
        elif isinstance(option, exp.CharacterSetProperty):
            ops.append(Operation("table_default_charset"))
    return ops


def _action_operations(action: Any, adds_primary_key: bool,
                       foreign_key_checks: bool) -> list[Operation]:
    from sqlglot import exp

    if isinstance(action, exp.ColumnDef):
        return [Operation(_added_column(action), action.name)]
    if isinstance(action, exp.RenameColumn):
        return [Operation("rename_column", action.this.name if action.this else None)]
    if isinstance(action, exp.AlterColumn):
        return [Operation("set_default", action.name)]
    if isinstance(action, exp.AlterRename):
        return [Operation("rename_table")]
    if isinstance(action, exp.ForceProperty):
        return [Operation("rebuild")]
    if isinstance(action, exp.DropPrimaryKey):
        return [Operation("replace_primary_key" if adds_primary_key else "drop_primary_key")]
    if isinstance(action, exp.Drop):
        kind = (action.args.get("kind") or "").upper()
        target = action.find(exp.Identifier)
        name = target.name if target else None
        key = {"COLUMN": "drop_column", "INDEX": "drop_index", "KEY": "drop_index",
               "FOREIGN KEY": "drop_foreign_key"}.get(kind, "drop_index")
        return [Operation(key, name if key == "drop_column" else None)]
    if isinstance(action, exp.AddConstraint):
        return [_added_constraint(action, adds_primary_key, foreign_key_checks)]
    return []


def _added_column(column: Any) -> str:
    from sqlglot import exp

    for constraint in column.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.ComputedColumnConstraint):
            return ("add_stored_generated_column" if kind.args.get("persisted")
                    else "add_virtual_generated_column")
        if isinstance(kind, exp.AutoIncrementColumnConstraint):
            return "add_auto_increment_column"
        if isinstance(kind, exp.CheckColumnConstraint):
            return "add_column_with_check"
    return "add_column"


def _added_constraint(action: Any, adds_primary_key: bool, foreign_key_checks: bool) -> Operation:
    from sqlglot import exp

    if action.find(exp.ForeignKey):
        return Operation("add_foreign_key" if foreign_key_checks else "add_foreign_key_unchecked")
    if action.find(exp.CheckColumnConstraint):
        return Operation("add_check")
    if adds_primary_key:
        return Operation("add_primary_key")
    index = action.find(exp.IndexColumnConstraint)
    kind = str(index.args.get("kind") or "").upper() if index else ""
    if kind == "FULLTEXT":
        return Operation("add_fulltext_index")
    if kind == "SPATIAL":
        return Operation("add_spatial_index")
    return Operation("add_index")


_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(?:(UNIQUE|FULLTEXT|SPATIAL)\s+)?INDEX\b", re.I)


def _command_operations(text: str) -> list[Operation]:
    """Statements sqlglot keeps as opaque commands, read from their text."""
    index = _CREATE_INDEX.match(text)
    if index:
        kind = (index.group(1) or "").upper()
        return [Operation({"FULLTEXT": "add_fulltext_index",
                           "SPATIAL": "add_spatial_index"}.get(kind, "add_index"))]
    if re.match(r"^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\b", text, re.I):
        ops = []
        if re.search(r"\bCONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)\b", text, re.I):
            ops.append(Operation("convert_charset"))
        if re.search(r"\bRENAME\s+(?:INDEX|KEY)\b", text, re.I):
            ops.append(Operation("rename_index"))
        return ops
    if re.match(r"^\s*OPTIMIZE\s+(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLE\b", text, re.I):
        return [Operation("rebuild")]
    return []


def command_table(text: str) -> str | None:
    """The table of a CREATE INDEX ... ON t / ALTER TABLE t kept as a command."""
    match = re.search(r"\bON\s+`?([\w$.]+)`?", text, re.I) if _CREATE_INDEX.match(text) else \
        re.match(r"^\s*(?:ALTER\s+(?:ONLINE\s+|IGNORE\s+)*|OPTIMIZE\s+(?:\w+\s+)?)TABLE\s+`?([\w$.]+)`?",
                 text, re.I)
    return match.group(1).rsplit(".", 1)[-1] if match else None


def statement_table(stmt: Statement) -> str | None:
    """The table a MySQL DDL statement works on, parsed or kept as a command."""
    from sqlglot import exp

    if isinstance(stmt.node, exp.Command):
        return command_table(stmt.text)
    if isinstance(stmt.node, exp.Create) and isinstance(stmt.node.this, exp.Index):
        table = stmt.node.this.args.get("table")
        return table.name if isinstance(table, exp.Table) else None
    return table_of(stmt)


class Session:
    """Session settings a migration file changes, as far as they decide an algorithm.

    Only `SET foreign_key_checks = 0` matters here: with it, ADD FOREIGN KEY runs in place
    (and does not check existing rows). A file is one session; a rule that holds a Session
    calls `at(stmt)` first so a new file starts from the server defaults.
    """

    def __init__(self) -> None:
        self.foreign_key_checks = True
        self._where: tuple[str, int] = ("", -1)

    def at(self, stmt: Statement) -> None:
        if stmt.path != self._where[0] or stmt.index <= self._where[1]:
            self.foreign_key_checks = True
        self._where = (stmt.path, stmt.index)

    def observe(self, stmt: Statement) -> None:
        match = re.search(r"\bforeign_key_checks\s*=\s*(\w+)", stmt.text, re.I)
        if stmt.kind == "Set" and match:
            self.foreign_key_checks = match.group(1).upper() not in ("0", "OFF", "FALSE")


# --- writing the safe form --------------------------------------------------------------------
def online_clause(algorithm: str, lock: str = "NONE") -> str:
    """The clause that makes the server refuse anything worse than `algorithm`.

    MySQL 8.0 refuses any LOCK clause next to ALGORITHM=INSTANT (ERROR 1221), so INSTANT
    stands alone; INSTANT never blocks reads or writes.
    """
    if algorithm == "INSTANT" and not facts()["instant_takes_lock_clause"]:
        return "ALGORITHM=INSTANT"
    return f"ALGORITHM={algorithm}, LOCK={lock}"


_OPTION = re.compile(r"\s*,?\s*\b(?:ALGORITHM\s*=?\s*(?:DEFAULT|INSTANT|INPLACE|NOCOPY|COPY)|"
                     r"LOCK\s*=?\s*(?:DEFAULT|NONE|SHARED|EXCLUSIVE))\b", re.I)


def without_options(text: str) -> str:
    """The statement with its ALGORITHM= and LOCK= options and final semicolon removed."""
    body = text.strip().rstrip(";").rstrip()
    return _OPTION.sub("", body).strip()


def with_clause(stmt: Statement, algorithm: str, lock: str = "NONE") -> str:
    """The statement with ALGORITHM/LOCK set to the online form.

    ALTER TABLE takes the options as comma-separated items; CREATE INDEX after the column
    list, without commas.
    """
    body = without_options(stmt.text)
    clause = online_clause(algorithm, lock)
    if _CREATE_INDEX.match(body):
        return f"{body} {clause.replace(',', '')};"
    return f"{body}, {clause};"


_CREATE_INDEX_PARTS = re.compile(
    r"^\s*CREATE\s+(?:(?P<kind>UNIQUE|FULLTEXT|SPATIAL)\s+)?INDEX\s+(?P<name>`[^`]+`|[\w$]+)\s+"
    r"ON\s+(?:`[^`]+`|[\w$.]+)\s*(?P<rest>.*)$", re.I | re.S)
_ALTER_HEAD = re.compile(r"^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(`[^`]+`|[\w$.]+)\s+",
                         re.I)


def copy_tools_fix(stmt: Statement, table: str | None) -> str:
    """pt-online-schema-change and gh-ost commands that run this ALTER without blocking writes."""
    body = without_options(stmt.text)
    head = _ALTER_HEAD.match(body)
    index = _CREATE_INDEX_PARTS.match(body)
    if head:
        alter = body[head.end():]
    elif index:  # CREATE [kind] INDEX name ON t (cols) → ADD [kind] INDEX name (cols)
        kind = f"{index.group('kind').upper()} " if index.group("kind") else ""
        alter = f"ADD {kind}INDEX {index.group('name')} {index.group('rest')}".strip()
    else:
        alter = body
    name = table or "<table>"
    quoted = alter.replace('"', '\\"')
    return (
        f'pt-online-schema-change --alter "{quoted}" D=<database>,t={name} --execute\n'
        f'gh-ost --alter="{quoted}" --database=<database> --table={name} --execute'
    )


def tools_sentence() -> str:
    """'pt-online-schema-change (...) or gh-ost (...)' for messages and docs."""
    return " or ".join(facts()["online_tools"])
