"""L306 change-column-type."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import (
    alter_commands,
    column_ref,
    constraints,
    relation,
    setting_value,
    strings,
    type_mods,
    type_name,
    unwrap,
    walk,
)
from dbarch.lint.pg_fix import script
from dbarch.lint.pg_names import object_name, quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement, per_statement
from dbarch.lint.statement_text import StatementText
from dbarch.lint.type_changes import type_changes

COMPARE: dict[str, Callable[[int, int], bool]] = {">=": operator.ge, "==": operator.eq}


@dataclass(frozen=True)
class ColumnType:
    """A column type as the rule compares it: catalog name, integer modifiers, array or not."""

    name: str
    mods: tuple[int, ...] = ()
    array: bool = False
    text: str = ""

    @classmethod
    def of(cls, type_node: dict[str, Any]) -> ColumnType:
        name, mods = type_name(type_node), type_mods(type_node)
        array = bool(type_node.get("arrayBounds"))
        # pg.type_text, from the parts already read
        text = f"{name}({','.join(map(str, mods))})" if mods else name
        return cls(name.lower(), tuple(mods), array, text + "[]" if array else text)


# Constraints that build an index on their columns.
UNIQUE_KINDS = frozenset({"CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"})


class SchemaMemory:
    """What the migrations linted so far in this run created: column types and indexes.

    Migration files are linted in order in one run, so a later file's ALTER can be judged
    against the CREATE TABLE of an earlier one. A column whose creation was seen has had every
    one of its indexes seen too (they can only have been created after it).
    """

    def __init__(self, *, types: bool = True) -> None:
        self.types = types  # False: keys only (column types and plain indexes not kept)
        # (table, column) → its TypeName node, read into a ColumnType only when compared
        self.columns: dict[tuple[str, str], dict[str, Any]] = {}
        # index (or constraint) name → (table, its columns, unique)
        self.indexes: dict[str, tuple[str, frozenset[str], bool]] = {}
        self._names_of: dict[str, set[str]] = {}  # table → its index names: lookups stay O(own)
        self._unnamed = itertools.count()

    def learn(self, stmt: Statement) -> None:
        """Record what a CREATE TABLE / ALTER TABLE / CREATE INDEX / DROP adds or removes."""
        for op in _schema_changes(stmt):
            kind = op[0]
            if kind == "column":
                if self.types:
                    self.columns[(op[1], op[2])] = op[3]
            elif kind == "key":
                _, table, name, columns, unique = op
                self._put(name or f"{table}:{next(self._unnamed)}", (table, columns, unique))
            elif kind == "index":
                _, table, name, columns, unique, declared_unique = op
                if not self.types and not declared_unique:
                    continue  # only the type-change rule asks about non-unique indexes
                self._put(name or f"{table}:{next(self._unnamed)}", (table, columns, unique))
            elif kind == "attach":  # ADD … USING INDEX: the index is already recorded
                entry = self.indexes.get(op[1])
                if entry is not None:
                    self._put(op[1], (entry[0], entry[1], True))
            else:
                self._pop(op[1])

    def _put(self, name: str, entry: tuple[str, frozenset[str], bool]) -> None:
        self._pop(name)
        self.indexes[name] = entry
        self._names_of.setdefault(entry[0], set()).add(name)

    def _pop(self, name: str) -> None:
        entry = self.indexes.pop(name, None)
        if entry is not None:
            self._names_of.get(entry[0], set()).discard(name)

    def indexes_on(self, table: str, column: str) -> list[str]:
        """The names of the indexes seen on `table.column`."""
        key, col = _bare(table), column.lower()
        return sorted(name for name in self._names_of.get(key, ())
                      if col in self.indexes[name][1])

    def unique_columns(self, table: str) -> set[str]:
        """Columns that identify one row each (a one-column primary key or unique index)."""
        key = _bare(table)
        entries = (self.indexes[name] for name in self._names_of.get(key, ()))
        return {next(iter(columns)) for _, columns, unique in entries
                if unique and len(columns) == 1}

    def column_type(self, table: str, column: str) -> ColumnType | None:
        """The column's type as the migrations linted so far left it, if they show it."""
        type_node = self.columns.get((_bare(table), column.lower()))
        return ColumnType.of(type_node) if type_node else None


# What one statement changes in a schema memory, in order: ("column", table, column, TypeName),
# ("key", table, name, columns, unique) for a constraint with an index, ("index", table, name,
# columns, one-column unique, declared UNIQUE), ("attach", index name), ("drop", index name).
# Names are lowercase; None for an unnamed constraint or index.
_SchemaChange = tuple[Any, ...]


@per_statement  # L306 and L505 both learn from it
def _schema_changes(stmt: Statement) -> tuple[_SchemaChange, ...]:
    """The changes a statement makes to the schema memories, read once per statement."""
    ops: list[_SchemaChange] = []
    node = stmt.node
    if stmt.kind == "CreateStmt":
        table = _bare(relation(node.get("relation")) or "")
        for item in node.get("tableElts") or ():
            body = item.get("ColumnDef")
            if body is not None:
                _column_changes(ops, table, body)
            elif "Constraint" in item:
                _constraint_changes(ops, table, item["Constraint"], None)
    elif stmt.kind == "AlterTableStmt":
        if not alter_table.subtypes(stmt).isdisjoint(alter_table.ADDING_CONSTRAINTS):
            table = _bare(relation(node.get("relation")) or "")
            for cmd in alter_table.commands(stmt):
                definition = cmd.get("def") or {}
                if cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in definition:
                    _column_changes(ops, table, definition["ColumnDef"])
                elif cmd.get("subtype") == "AT_AddConstraint" and "Constraint" in definition:
                    _constraint_changes(ops, table, definition["Constraint"], None)
    elif stmt.kind == "IndexStmt":
        table = _bare(relation(node.get("relation")) or "")
        columns = {c.lower() for param in node.get("indexParams") or []
                   for c in _index_columns(param.get("IndexElem") or {})}
        single = len(node.get("indexParams") or []) == 1 and not node.get("whereClause")
        unique = bool(node.get("unique"))
        ops.append(("index", table, (node.get("idxname") or "").lower() or None,
                    frozenset(columns), unique and single, unique))
    elif stmt.kind == "DropStmt" and node.get("removeType") == "OBJECT_INDEX":
        for item in node.get("objects") or []:
            names = strings(unwrap(item)[1].get("items"))
            if names:
                ops.append(("drop", names[-1].lower()))
    return tuple(ops)


def _column_changes(ops: list[_SchemaChange], table: str, body: dict[str, Any]) -> None:
    name = body.get("colname", "").lower()
    type_node = body.get("typeName")
    if type_node:
        ops.append(("column", table, name, type_node))
    for item in body.get("constraints") or ():
        constraint = item.get("Constraint")
        if constraint and constraint.get("contype") in UNIQUE_KINDS:
            _constraint_changes(ops, table, constraint, name)


def _constraint_changes(ops: list[_SchemaChange], table: str, body: dict[str, Any],
                        column: str | None) -> None:
    contype = body.get("contype")
    if contype not in UNIQUE_KINDS:
        return
    if body.get("indexname"):
        ops.append(("attach", body["indexname"].lower()))
        return
    if column is not None:
        columns = {column}
    elif contype == "CONSTR_EXCLUSION":
        columns = {c.lower() for pair in body.get("exclusions") or []
                   for part in (unwrap(pair)[1].get("items") or [])[:1]
                   for c in _index_columns(unwrap(part)[1])}
    else:
        columns = {c.lower() for c in strings(body.get("keys"))}
    ops.append(("key", table, (body.get("conname") or "").lower() or None, frozenset(columns),
                contype != "CONSTR_EXCLUSION"))


def _index_columns(element: dict[str, Any]) -> Iterator[str]:
    """The columns an IndexElem reads: its name, or the column references of its expression."""
    if element.get("name"):
        yield element["name"]
    if not element.get("expr"):
        return
    for kind, body in walk(element["expr"]):
        if kind == "ColumnRef":
            fields = strings(body.get("fields"))
            if fields:
                yield fields[-1]


@dataclass(frozen=True)
class Verdict:
    """What the rule concludes about one ALTER COLUMN TYPE."""

    severity: Severity | None  # None: no finding
    message: str = ""
    fix: str | None = None  # "rewrite" (expand and contract), "utc" (SET TIME ZONE first), both


@register
class ChangeColumnType(Rule):
    """Changing a column's type rewrites the table, unless the change is one PostgreSQL can skip.

    Why: `ALTER COLUMN … TYPE` converts every row into a new copy of the table and rebuilds
    every index, holding ACCESS EXCLUSIVE throughout: reads and writes stop for as long as the
    copy takes, and the disk briefly holds both copies.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write) for the whole rewrite.

    Not flagged (data/type_changes.yaml, each one verified on PostgreSQL 15): varchar(n) to a
    longer varchar or to varchar/text; text to varchar without a length; numeric(p,s) to a
    larger precision at the same scale, or to numeric; varbit(n) to a longer varbit; a higher
    or dropped precision of timestamp, timestamptz, time and timetz; cidr to inet; and, from
    PostgreSQL 12, timestamp <-> timestamptz while the session TimeZone is UTC. These take
    ACCESS EXCLUSIVE only for a catalog update. A USING clause that is the bare column (or the
    column cast to the new type) changes nothing; any other USING expression rewrites.
    Arrays of these types always rewrite.

    Instead: expand and contract. Add a column of the new type, keep it in step with a trigger,
    backfill it in batches, swap the names in one short transaction, drop the old column once
    nothing reads it:

        ALTER TABLE orders ADD COLUMN total_new bigint;
        CREATE FUNCTION orders_total_new_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN new.total_new := CAST(new.total AS bigint); RETURN new; END $$;
        CREATE TRIGGER orders_total_new_sync BEFORE INSERT OR UPDATE ON orders
            FOR EACH ROW EXECUTE FUNCTION orders_total_new_sync();
        UPDATE orders SET total_new = CAST(total AS bigint) WHERE id BETWEEN 1 AND 10000;
        -- indexes and constraints of total, rebuilt CONCURRENTLY on total_new, then:
        BEGIN;
        DROP TRIGGER orders_total_new_sync ON orders;
        DROP FUNCTION orders_total_new_sync();
        ALTER TABLE orders RENAME COLUMN total TO total_old;
        ALTER TABLE orders RENAME COLUMN total_new TO total;
        COMMIT;

    To shorten a varchar, keep the type and add the limit as a CHECK … NOT VALID, then
    VALIDATE it (no rewrite, no long lock).

    timestamp <-> timestamptz: run `SET TIME ZONE 'UTC'` first (PostgreSQL 12+): the table is
    not rewritten, but every index on the column is still rebuilt under ACCESS EXCLUSIVE, and
    existing values are read as UTC; if they were written in another zone, convert them with
    USING … AT TIME ZONE (which rewrites).

    Exempt: a table created earlier in the same migration.

    The rule knows a column's current type and its indexes from the CREATE TABLE / ADD COLUMN /
    CREATE INDEX / earlier type change in the files linted in the same run (migrations in
    order). Without the type, it flags the change as a warning naming the old types for which
    it would not rewrite. timestamp <-> timestamptz under UTC is silent when no index on the
    column was seen, and an info finding naming the indexes it rebuilds otherwise.
    """

    code = "L306"
    shared_reading = "schema-changes"  # change_column_type._schema_changes
    name = "change-column-type"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt", "CreateStmt", "IndexStmt", "DropStmt", "VariableSetStmt",
             "TransactionStmt")
    scales_with_table = True
    summary = "ALTER COLUMN TYPE rewrites the table unless the change is binary compatible"

    def __init__(self) -> None:
        # Column types and indexes seen so far in this run: later files alter earlier tables.
        self.schema = SchemaMemory()
        self._file: tuple[str, int] = ("", -1)
        self._utc = False  # SET TIME ZONE to a zero-offset zone earlier in this file
        self._utc_local = False  # … with SET LOCAL: until the transaction ends

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        self._follow_file(stmt)
        if stmt.kind == "VariableSetStmt":
            self._note_timezone(stmt.node)
        elif stmt.kind == "TransactionStmt":
            if stmt.node.get("kind") in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
                self._utc_local = False
        elif stmt.kind == "AlterTableStmt":
            if "AT_AlterColumnType" in alter_table.subtypes(stmt):
                yield from self._check_alter(stmt, ctx)
            self.schema.learn(stmt)
        else:
            self.schema.learn(stmt)

    # --- the ALTER TABLE ------------------------------------------------------------------
    def _check_alter(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = relation(stmt.node.get("relation"))
        if table is None:
            return
        key = _bare(table)
        for index, cmd in enumerate(alter_commands(stmt)):
            definition = (cmd.get("def") or {}).get("ColumnDef") or {}
            if cmd.get("subtype") != "AT_AlterColumnType" or not definition.get("typeName"):
                continue
            column = cmd.get("name") or ""
            new = ColumnType.of(definition["typeName"])
            old = self.schema.column_type(key, column)
            self.schema.columns[(key, column.lower())] = definition["typeName"]
            if ctx.created_here(table):
                continue
            verdict = self.judge(table, column, old, new, definition.get("raw_default"),
                                 ctx.pg_version)
            if verdict.severity is None:
                continue
            fix = None
            if verdict.fix == "rewrite":
                fix = _rewrite_fix(stmt, index, table, column, new)
            elif verdict.fix == "utc":
                fix = _utc_fix(table, column, new)
            elif verdict.fix == "utc+rewrite":
                fix = (f"-- if {column} is a timestamp type, no rewrite:\n"
                       f"{_utc_fix(table, column, new)}\n-- otherwise expand and contract:\n"
                       f"{_rewrite_fix(stmt, index, table, column, new)}")
            yield self.finding(stmt, verdict.message, table=table, lock=ACCESS_EXCLUSIVE,
                               fix=fix, severity=verdict.severity)

    def judge(self, table: str, column: str, old: ColumnType | None, new: ColumnType,
              using: dict[str, Any] | None, version: int) -> Verdict:
        """The verdict on changing `table.column` from `old` (None: unknown) to `new`."""
        utc = self._utc or self._utc_local
        rewrite = f"changing {table}.{column} "
        if using and not _trivial_using(using, column, new):
            return Verdict(Severity.ERROR, f"{rewrite}with a USING expression computes every "
                           f"row anew: {table} is rewritten under ACCESS EXCLUSIVE", "rewrite")
        if old is not None:
            rewrite += f"from {old.text} to {new.text} "
            if _same(old, new):
                return Verdict(None)
            entry = _entry(old, new, version)
            if entry is None:
                later = _entry(old, new, 99)
                when = (f" (from PostgreSQL {later['since']} it would not)"
                        if later is not None and not later.get("condition") else "")
                return Verdict(Severity.ERROR, f"{rewrite}rewrites {table} and its indexes "
                               f"under ACCESS EXCLUSIVE{when}", "rewrite")
            if entry.get("condition") != "utc":
                return Verdict(None)
            indexes = self.schema.indexes_on(table, column)
            rebuilt = (f"rebuilds {', '.join(indexes)} under ACCESS EXCLUSIVE" if indexes
                       else f"nothing indexes {column}")
            if utc:
                if not indexes:
                    return Verdict(None)
                return Verdict(Severity.INFO, f"{rewrite}does not rewrite {table} (TimeZone is "
                               f"UTC), but {rebuilt} and reads existing values as UTC")
            return Verdict(Severity.WARNING, f"{rewrite}rewrites {table} unless the session "
                           "TimeZone is UTC (dbarch saw no SET TIME ZONE 'UTC' before it); "
                           f"under UTC it {rebuilt}" if indexes else
                           f"{rewrite}rewrites {table} unless the session TimeZone is UTC "
                           "(dbarch saw no SET TIME ZONE 'UTC' before it)", "utc")
        rewrite += f"to {new.text} "
        candidates = [e for e in type_changes()["changes"]
                      if e["to"] == new.name and e["since"] <= version and not new.array
                      and _new_side_ok(e, new)]
        zone_entry = next((e for e in candidates if e.get("condition") == "utc"), None)
        if zone_entry is not None and utc:
            return Verdict(Severity.INFO, f"{rewrite}does not rewrite {table} if {column} is "
                           f"{zone_entry['from']} (TimeZone is UTC), but rebuilds every index on "
                           f"{column} under ACCESS EXCLUSIVE; from any other type it rewrites")
        if not candidates:
            return Verdict(Severity.ERROR, f"{rewrite}rewrites {table} and its indexes under "
                           f"ACCESS EXCLUSIVE (unless {column} already is {new.text})", "rewrite")
        unless = "; or ".join(e["describe"] for e in candidates)
        return Verdict(Severity.WARNING, f"{rewrite}rewrites {table} under ACCESS EXCLUSIVE "
                       f"unless the change is {unless} (dbarch cannot see {column}'s current "
                       "type: it was not created in the migrations linted)",
                       "utc+rewrite" if zone_entry is not None else "rewrite")

    # --- what earlier statements said ------------------------------------------------------
    def _follow_file(self, stmt: Statement) -> None:
        """Forget per-file settings when a new file starts (session settings end with it)."""
        path, index = self._file
        if stmt.path != path or stmt.index < index:
            self._utc = self._utc_local = False
        self._file = (stmt.path, stmt.index)

    def _note_timezone(self, node: dict[str, Any]) -> None:
        if (node.get("name") or "").lower() != "timezone":
            return
        zones = {str(z).lower() for z in type_changes()["utc_zones"]}
        utc = node.get("kind") == "VAR_SET_VALUE" and setting_value(node).lower() in zones
        if node.get("is_local"):
            self._utc_local = utc
        else:
            self._utc = utc
            self._utc_local = False


def _entry(old: ColumnType, new: ColumnType, version: int) -> dict[str, Any] | None:
    """The no-rewrite entry that covers old → new on this version, if any."""
    if old.array or new.array:
        return None
    for entry in type_changes()["changes"]:
        if (entry["from"], entry["to"]) != (old.name, new.name) or entry["since"] > version:
            continue
        if _mods_ok(entry, old.mods, new.mods):
            return entry
    return None


def _mods_ok(entry: dict[str, Any], old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    spec = entry["modifiers"]
    if spec == "any":
        return True
    top = entry.get("max")
    unbounded = not new or (top is not None and new == (top,))
    if spec == "none" or unbounded:
        return unbounded
    if not old:
        return False
    defaults = entry.get("defaults") or []
    old_full, new_full = _fill(old, defaults), _fill(new, defaults)
    return all(COMPARE[op](n, o) for op, n, o in zip(spec, new_full, old_full, strict=False))


def _new_side_ok(entry: dict[str, Any], new: ColumnType) -> bool:
    """Whether some old type could reach `new` through this entry without a rewrite."""
    if entry["modifiers"] == "none":
        top = entry.get("max")
        return not new.mods or (top is not None and new.mods == (top,))
    return True


def _fill(mods: tuple[int, ...], defaults: list[int | None]) -> tuple[int, ...]:
    """numeric(10) → (10, 0): the modifiers a shorter list leaves implicit."""
    out = list(mods)
    for position in range(len(mods), len(defaults)):
        if defaults[position] is not None:
            out.append(int(defaults[position]))  # type: ignore[arg-type]
    return tuple(out)


def _same(old: ColumnType, new: ColumnType) -> bool:
    if (old.name, old.array) != (new.name, new.array):
        return False
    for entry in type_changes()["changes"]:
        if entry["from"] == entry["to"] == old.name:
            defaults = entry.get("defaults") or []
            return _fill(old.mods, defaults) == _fill(new.mods, defaults)
    return old.mods == new.mods


def _trivial_using(using: dict[str, Any], column: str, new: ColumnType) -> bool:
    """USING col, or USING col::newtype: the conversion PostgreSQL would apply anyway."""
    if column_ref(using) == column:
        return True
    kind, body = unwrap(using)
    return (kind == "TypeCast" and column_ref(body.get("arg")) == column
            and ColumnType.of(body.get("typeName") or {}) == new)


# --- reading the statement's own text (shared with L304 and L305) ---------------------------
def type_source(source: StatementText, definition: dict[str, Any],
                limit: int | None = None) -> str:
    """A ColumnDef's type as the user wrote it (`numeric(10, 2)`, `"MyType"[]`)."""
    start = source.char(definition["typeName"].get("location", 0))
    stops = [source.char(c.get("location", 0)) for c in constraints(definition)]
    stops = [stop for stop in stops if stop > start]
    if limit is not None:
        stops.append(limit)
    end = min(stops) if stops else source.item_end(start)
    return source.text[start:source.before(start, end)]


def qualified_text(source: StatementText, expression: dict[str, Any], start: int,
                   end: int) -> str:
    """The expression's text between `start` and `end` with each bare column reference
    prefixed by `new.`, for the body of a row trigger."""
    cuts = sorted({source.char(body.get("location", 0)) for kind, body in walk(expression)
                   if kind == "ColumnRef" and len(body.get("fields") or []) == 1})
    out, position = [], start
    for cut in cuts:
        if start <= cut < end:
            out += [source.text[position:cut], "new."]
            position = cut
    out.append(source.text[position:end])
    return "".join(out)


# --- fixes ----------------------------------------------------------------------------------
def _rewrite_fix(stmt: Statement, index: int, table: str, column: str, new: ColumnType) -> str:
    """Expand and contract; for a shorter varchar, first the CHECK that avoids the rewrite."""
    fix = _expand_contract(stmt, index, table, column, new)
    if new.name == "varchar" and new.mods and not new.array:
        name = quote_name(object_name(table.rsplit(".", 1)[-1], column, "length"))
        rel, col = quote_qualified(table), quote_name(column)
        fix = (f"-- to shorten it, keep the type and add the limit (no rewrite):\n"
               f"ALTER TABLE {rel} ADD CONSTRAINT {name} CHECK (char_length({col}) <= "
               f"{new.mods[0]}) NOT VALID;\n"
               f"ALTER TABLE {rel} VALIDATE CONSTRAINT {name};\n"
               f"-- otherwise expand and contract:\n{fix}")
    return fix


def _utc_fix(table: str, column: str, new: ColumnType) -> str:
    return (f"SET TIME ZONE 'UTC';\n"
            f"ALTER TABLE {quote_qualified(table)} ALTER COLUMN {quote_name(column)} "
            f"TYPE {new.text};\n"
            "-- no table rewrite; indexes on the column are still rebuilt, and existing values "
            "are read as UTC")


def _expand_contract(stmt: Statement, index: int, table: str, column: str,
                     new: ColumnType) -> str:
    """A new column kept in step by a trigger, backfilled in batches, then swapped in."""
    source = StatementText(stmt.text, stmt)
    _, cmd = unwrap(source.node["cmds"][index])
    definition = cmd["def"]["ColumnDef"]
    type_start = source.char(definition["typeName"].get("location", 0))
    item_end = source.item_end(type_start)
    clauses = {name: (begin, stop) for begin, stop, name in source.tokens
               if type_start < begin < item_end and name in ("USING", "COLLATE")}
    type_end = min((begin for begin, _ in clauses.values()), default=item_end)
    type_sql = source.text[type_start:source.before(type_start, type_end)]
    collate = ""
    if "COLLATE" in clauses:
        begin = clauses["COLLATE"][0]
        stop = clauses["USING"][0] if "USING" in clauses else item_end
        collate = " " + source.text[begin:source.before(begin, stop)]
    rel, col = quote_qualified(table), quote_name(column)
    using = definition.get("raw_default")
    if using and "USING" in clauses:
        after = source.next_token(clauses["USING"][1])
        begin = after[0] if after else item_end
        backfill = source.text[begin:item_end]
        in_trigger = qualified_text(source, using, begin, item_end)
    else:
        backfill = f"CAST({col} AS {type_sql})"
        in_trigger = f"CAST(new.{col} AS {type_sql})"
    fresh, old = quote_name(f"{column}_new"), quote_name(f"{column}_old")
    bare = table.rsplit(".", 1)[-1]
    schema = f"{table.rsplit('.', 1)[0]}." if "." in table else ""
    function = quote_qualified(schema + object_name(bare, f"{column}_new", "sync"))
    trigger = quote_name(object_name(bare, f"{column}_new", "sync"))
    return script(
        f"ALTER TABLE {rel} ADD COLUMN {fresh} {type_sql}{collate}",
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN new.{fresh} := {in_trigger}; RETURN new; END $$",
        f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {rel} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        "-- existing rows in batches by primary key, one transaction each:",
        f"UPDATE {rel} SET {fresh} = {backfill} WHERE id BETWEEN 1 AND 10000",
        f"-- rebuild {column}'s indexes and constraints on {column}_new (CONCURRENTLY, NOT "
        "VALID + VALIDATE), then swap in one short transaction:",
        "BEGIN",
        f"DROP TRIGGER {trigger} ON {rel}",
        f"DROP FUNCTION {function}()",
        f"ALTER TABLE {rel} RENAME COLUMN {col} TO {old}",
        f"ALTER TABLE {rel} RENAME COLUMN {fresh} TO {col}",
        "COMMIT",
        f"-- once nothing reads it: ALTER TABLE {rel} DROP COLUMN {old};",
    )


def _bare(table: str) -> str:
    return table.lower().rsplit(".", 1)[-1]
