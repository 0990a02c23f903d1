"""Which table-level lock a statement takes, and on which table (data/statement_locks.yaml).

The lint rules ask this to say what a statement blocks (L601 names the mode and what it
stops); the migration rehearsal asks it to know which lock to look for in pg_locks. The
knowledge (PostgreSQL's AlterTableGetLockLevel and the lock of each statement) lives in the
data file; this module only reads the parse tree to find the tables and the variant
(CONCURRENTLY, FULL, the constraint type, the storage options) that picks the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from dbarch.lint.data_files import data_file
from dbarch.lint.locks import lock_table
from dbarch.lint.pg import Node, constraints, relation, strings, unwrap
from dbarch.lint.statement import POSTGRESQL, Statement, per_statement

TABLE = "table"
INDEX = "index"  # the name is an index; the lock falls on the index's table
_REFERENCED = "the referenced table of the foreign key"


@dataclass(frozen=True, slots=True)
class LockTaken:
    """One lock a statement takes: the mode (a name from locks.yaml) on one relation.

    `relation` is the name as the statement writes it. `kind` is `table` for a table (or a
    view, materialized view, partition); `index` when the statement names an index and the
    lock falls on the table the index belongs to (DROP INDEX, REINDEX INDEX); `index_itself`
    when only the index is locked (ALTER INDEX ... RENAME). `why` says which part of the
    statement takes it, for messages ("the referenced table of the foreign key").
    """

    mode: str
    relation: str
    kind: str = TABLE
    why: str = ""


@cache
def statement_lock_table() -> dict[str, Any]:
    """data/statement_locks.yaml, parsed once."""
    return data_file("statement_locks.yaml")


@cache
def _strength() -> dict[str, int]:
    # locks.yaml lists PostgreSQL's modes weakest first
    return {mode: rank for rank, mode in enumerate(lock_table())}


def strongest(modes: list[str]) -> str:
    """The strongest of several lock modes (the one a statement ends up holding)."""
    rank = _strength()
    return max(modes, key=lambda mode: rank.get(mode, -1))


def pg_lock_name(mode: str) -> str:
    """The name pg_locks.mode uses: `ACCESS EXCLUSIVE` → `AccessExclusiveLock`."""
    return "".join(word.capitalize() for word in mode.split()) + "Lock"


def mode_from_pg(name: str) -> str:
    """The inverse of pg_lock_name: `ShareRowExclusiveLock` → `SHARE ROW EXCLUSIVE`."""
    for mode in statement_lock_table()["postgresql"]["lock_table_modes"].values():
        if pg_lock_name(mode) == name:
            return str(mode)
    raise KeyError(f"not a PostgreSQL table lock mode: {name!r}")


def statement_locks(stmt: Statement) -> list[LockTaken]:
    """Every table-level lock the statement takes, the main table first."""
    return list(locks_of(stmt))


@per_statement
def locks_of(stmt: Statement) -> tuple[LockTaken, ...]:
    """statement_locks as the tuple kept for the statement: read by L601 and L602 in turn (in
    one process or each in its own), so each statement's locks are worked out once."""
    locks = _postgresql(stmt.kind, stmt.node) if stmt.dialect == POSTGRESQL else _mysql(stmt)
    return tuple(locks)


def statement_lock(stmt: Statement) -> tuple[str, str] | None:
    """(lock mode, table) for the table the statement is about, or None when it locks none.

    For an ALTER TABLE that is the strongest lock of its subcommands on the altered table; for
    DROP INDEX / REINDEX INDEX the name is the index's, the lock is on its table.
    """
    locks = locks_of(stmt)
    if not locks:
        return None
    first = locks[0].relation
    return strongest([lock.mode for lock in locks if lock.relation == first]), first


# --- PostgreSQL ---------------------------------------------------------------------------------
def _postgresql(kind: str, node: Node) -> list[LockTaken]:
    data = statement_lock_table()["postgresql"]
    if kind == "AlterTableStmt":
        return _alter_table(node, data)
    if kind == "CreateStmt":
        return _create_table(node, data["create_table"])
    if kind == "DropStmt":
        return _drop(node, data["drop"])
    if kind == "RenameStmt":
        entry = data["rename"].get(node.get("renameType"))
        name = relation(node.get("relation"))
        if entry is None or not name:
            return []
        return [LockTaken(entry["lock"], name, entry.get("kind", TABLE), "rename")]
    if kind == "LockStmt":
        mode = data["lock_table_modes"].get(int(node.get("mode", 8)))
        return [LockTaken(mode, name, TABLE, "LOCK TABLE") for name in _rangevars(
            node.get("relations"))]
    entry = data["statements"].get(kind)
    if entry is None:
        return []
    return _simple(kind, node, entry)


def _simple(kind: str, node: Node, entry: dict[str, Any]) -> list[LockTaken]:
    """Statements with one entry: the relation(s) named, the variant picked by a flag."""
    mode = entry["lock"]
    kind_of = TABLE
    if kind in ("IndexStmt", "RefreshMatViewStmt") and node.get("concurrent"):
        mode = entry["concurrent"]
    elif kind == "ReindexStmt":
        if _option(node.get("params"), "concurrently"):
            mode = entry["concurrent"]
        reindex = node.get("kind")
        if reindex not in ("REINDEX_OBJECT_TABLE", "REINDEX_OBJECT_INDEX"):
            return []  # SCHEMA / DATABASE / SYSTEM: one table at a time, not named here
        kind_of = INDEX if reindex == "REINDEX_OBJECT_INDEX" else TABLE
    elif kind == "VacuumStmt" and node.get("is_vacuumcmd") and _option(node.get("options"),
                                                                      "full"):
        mode = entry["full"]
    names = _named_relations(kind, node)
    return [LockTaken(mode, name, kind_of, kind) for name in names]


def _named_relations(kind: str, node: Node) -> list[str]:
    if kind == "VacuumStmt":
        rels = [unwrap(item)[1].get("relation") for item in node.get("rels") or []]
        return [name for name in map(relation, rels) if name]
    if kind in ("TruncateStmt", "CreateStatsStmt"):
        return _rangevars(node.get("relations"))
    if kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return [name for name in [relation(node.get("table"))] if name]
    if kind == "CommentStmt":
        return _comment_target(node)
    target = relation(node.get("relation"))
    return [target] if target else []


def _comment_target(node: Node) -> list[str]:
    objtype = node.get("objtype")
    if objtype not in ("OBJECT_TABLE", "OBJECT_COLUMN"):
        return []
    names = strings(unwrap(node["object"])[1].get("items")) if node.get("object") else []
    if objtype == "OBJECT_COLUMN":
        names = names[:-1]
    return [".".join(names)] if names else []


_ALTERED_KINDS = frozenset({"OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_MATVIEW", None})


def _alter_table(node: Node, data: dict[str, Any]) -> list[LockTaken]:
    if node.get("objtype") not in _ALTERED_KINDS:
        return []  # ALTER INDEX / SEQUENCE / VIEW / TYPE: not a table's traffic lock
    table = relation(node.get("relation"))
    if not table:
        return []
    subtypes = data["alter_table"]
    rank = _strength()
    held, held_rank = "", -2  # the strongest mode so far; the first of equals wins
    others: list[LockTaken] = []
    for item in node.get("cmds") or ():
        cmd = item.get("AlterTableCmd")
        if cmd is None:
            continue
        entry = subtypes.get(cmd.get("subtype"), "ACCESS EXCLUSIVE")  # unknown: assume the worst
        definition = cmd.get("def") or {}
        if isinstance(entry, str):
            mode = entry
        elif entry.get("by") == "contype":
            mode = _constraint_mode(definition, data["add_constraint"])
        elif entry.get("by") == "reloptions":
            mode = _reloptions_mode(definition, data["reloptions"])
        else:
            partition_cmd = definition.get("PartitionCmd") or {}
            concurrent = bool(partition_cmd.get("concurrent"))
            mode = (entry["concurrent"] if concurrent and "concurrent" in entry
                    else entry["lock"])
            partition = relation(partition_cmd.get("name"))
            if partition and "partition" in entry:
                partition_mode = (entry["partition_concurrent"] if concurrent
                                  and "partition_concurrent" in entry else entry["partition"])
                others.append(LockTaken(partition_mode, partition, TABLE, "the partition"))
        if rank.get(mode, -1) > held_rank:
            held, held_rank = mode, rank.get(mode, -1)
        if _adds_foreign_key(definition):
            others.extend(_referenced(cmd, data["add_constraint"]["CONSTR_FOREIGN"]))
    if held_rank == -2:
        return []
    return [LockTaken(held, table, TABLE, "ALTER TABLE"), *others]


def _adds_foreign_key(definition: Node) -> bool:
    """Whether a subcommand's definition is, or is a column carrying, a FOREIGN KEY."""
    constraint = definition.get("Constraint")
    if constraint is not None:
        return bool(constraint.get("contype") == "CONSTR_FOREIGN")
    column = definition.get("ColumnDef")
    if column is None:
        return False
    # a loop, not any() over a generator: this runs for every subcommand of every ALTER TABLE
    for entry in column.get("constraints") or ():
        constraint = entry.get("Constraint")
        if constraint is not None and constraint.get("contype") == "CONSTR_FOREIGN":
            return True
    return False


def alter_commands_of(node: Node) -> list[Node]:
    """The AlterTableCmd bodies of an AlterTableStmt node."""
    return [body for kind, body in map(unwrap, node.get("cmds") or []) if kind == "AlterTableCmd"]


def _constraint_mode(definition: Node, table: dict[str, str]) -> str:
    constraint = definition.get("Constraint") or {}
    return table.get(constraint.get("contype", ""), table["default"])


def _reloptions_mode(definition: Node, table: dict[str, Any]) -> str:
    items = unwrap(definition)[1].get("items") if definition else []
    weak = set(table["SHARE UPDATE EXCLUSIVE"])
    modes = []
    for item in items or []:
        kind, body = unwrap(item)
        if kind != "DefElem":
            continue
        name = body.get("defname", "")
        if body.get("defnamespace"):
            name = f"{body['defnamespace']}.{name}"
        modes.append("SHARE UPDATE EXCLUSIVE" if name in weak else table["default"])
    return strongest(modes) if modes else table["default"]


def _referenced(cmd: Node, mode: str) -> list[LockTaken]:
    """The referenced table of a foreign key added by this subcommand (own column or table)."""
    definition = cmd.get("def") or {}
    found: list[Node] = []
    if "Constraint" in definition:
        found.append(definition["Constraint"])
    elif "ColumnDef" in definition:
        found.extend(constraints(definition["ColumnDef"]))
    out = []
    for constraint in found:
        if constraint.get("contype") == "CONSTR_FOREIGN":
            target = relation(constraint.get("pktable"))
            if target:
                out.append(LockTaken(mode, target, TABLE, _REFERENCED))
    return out


def _create_table(node: Node, table: dict[str, str]) -> list[LockTaken]:
    """CREATE TABLE locks no existing table of its own, but its parents and referenced tables."""
    out: list[LockTaken] = []
    parents = _rangevars(node.get("inhRelations"))
    if parents:
        partition = bool(node.get("partbound"))
        mode = table["partition_of"] if partition else table["inherits"]
        why = "the partitioned parent" if partition else "the parent it inherits from"
        out.extend(LockTaken(mode, parent, TABLE, why) for parent in parents)
    for constraint in _foreign_keys(node.get("tableElts")):
        target = relation(constraint.get("pktable"))
        if target:
            out.append(LockTaken(table["references"], target, TABLE, _REFERENCED))
    return out


def _foreign_keys(elements: list[Node] | None) -> list[Node]:
    """The FOREIGN KEY constraints among CREATE TABLE's elements, on columns or on the table."""
    found = []
    for item in elements or ():
        column = item.get("ColumnDef")
        if column is None:
            constraint = item.get("Constraint")
            if constraint is not None and constraint.get("contype") == "CONSTR_FOREIGN":
                found.append(constraint)
            continue
        for entry in column.get("constraints") or ():
            constraint = entry.get("Constraint")
            if constraint is not None and constraint.get("contype") == "CONSTR_FOREIGN":
                found.append(constraint)
    return found


def _drop(node: Node, table: dict[str, Any]) -> list[LockTaken]:
    entry = table.get(node.get("removeType"))
    if entry is None:
        return []
    mode = entry["concurrent"] if node.get("concurrent") and "concurrent" in entry \
        else entry["lock"]
    out = []
    for item in node.get("objects") or []:
        kind, body = unwrap(item)
        names = strings(body.get("items")) if kind == "List" else strings([item])
        if entry.get("on") == "parent":
            names = names[:-1]  # DROP TRIGGER tr ON s.t → [s, t, tr]
        if names:
            out.append(LockTaken(mode, ".".join(names), entry.get("kind", TABLE), "DROP"))
    return out


def _rangevars(items: list[Node] | None) -> list[str]:
    names = []
    for item in items or []:
        kind, body = unwrap(item)
        name = relation(body) if kind == "RangeVar" else None
        if name:
            names.append(name)
    return names


def _option(params: list[Node] | None, name: str) -> bool:
    """A DefElem option is on: `(FULL)`, `(FULL true)`; `(FULL false)` is off."""
    for item in params or []:
        kind, body = unwrap(item)
        if kind == "DefElem" and body.get("defname") == name:
            arg = body.get("arg")
            if not arg:
                return True
            value = str(next(iter(unwrap(arg)[1].values()), "true")).lower()
            return value not in ("false", "off", "0")
    return False


# --- MySQL / MariaDB ----------------------------------------------------------------------------
def _mysql(stmt: Statement) -> list[LockTaken]:
    from sqlglot import exp

    from dbarch.lint.mysql import online_options, table_of

    data = statement_lock_table()["mysql"]
    node = stmt.node
    if isinstance(node, exp.Command):
        mode = data["commands"].get(str(node.this).upper())
        return [LockTaken(mode, name, TABLE, str(node.this).upper())
                for name in _command_tables(node)] if mode else []
    mode = data["statements"].get(stmt.kind)
    if mode is None:
        return []
    if isinstance(node, exp.Create):
        if (node.args.get("kind") or "").upper() != "INDEX":
            return []
        index = node.this
        target = index.args.get("table") if isinstance(index, exp.Index) else None
        return [LockTaken(mode, target.name, TABLE, "CREATE INDEX")] if target else []
    if isinstance(node, exp.Drop):
        kind = (node.args.get("kind") or "").upper()
        if kind == "INDEX":
            on = node.args.get("cluster")
            target = on.this if isinstance(on, exp.OnProperty) else None
            return [LockTaken(mode, target.name, TABLE, "DROP INDEX")] if target else []
        if kind != "TABLE":
            return []
        return [LockTaken(mode, table.name, TABLE, "DROP TABLE")
                for table in node.args.get("tables") or [] if isinstance(table, exp.Table)]
    if isinstance(node, exp.TruncateTable):
        return [LockTaken(mode, table.name, TABLE, "TRUNCATE")
                for table in node.expressions if isinstance(table, exp.Table)]
    table = table_of(stmt)
    if not table:
        return []
    options = online_options(stmt)
    held = data["lock_option"].get(options.get("LOCK", ""))
    if held is None and options.get("ALGORITHM") == "COPY":
        held = data["copy_algorithm"]
    return [LockTaken(held or mode, table, TABLE, "ALTER TABLE")]


def _command_tables(node: Any) -> list[str]:
    """The tables of `RENAME TABLE a TO b, c TO d` / `OPTIMIZE TABLE a, b` kept as a Command."""
    import re

    text = str(node.expression.this if node.expression is not None else "")
    text = re.sub(r"(?i)^\s*(NO_WRITE_TO_BINLOG|LOCAL)\s+", "", text)
    text = re.sub(r"(?i)^\s*TABLES?\s+", "", text)
    names = []
    for part in text.split(","):
        name = re.split(r"(?i)\s+TO\s+", part.strip())[0].strip()
        if name:
            names.append(name.replace("`", "").rsplit(".", 1)[-1])
    return names
