"""The column definitions a MySQL migration run has shown, and what changing one costs.

MODIFY and CHANGE restate a column in full, so what they cost depends on what the column was:
VARCHAR(63) → VARCHAR(64) is free in latin1 and a table copy in utf8mb4, ENUM('a','b') →
ENUM('a','b','c') is instant and ENUM('b','a') a copy. `Shapes` remembers every table that a
CREATE TABLE or ALTER TABLE of the run defined — earlier files of a migration folder (linted
in order) and earlier statements of this one — so the rules can compare; where nothing defined
the column, they say what they cannot know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dbarch.lint.online_ddl import facts
from dbarch.lint.statement import Statement

INTEGERS = {"TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "UTINYINT", "USMALLINT",
            "UMEDIUMINT", "UINT", "UBIGINT"}
STRINGS = {"CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET"}
BINARY = {"BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB"}
MEMBERS = {"ENUM", "SET"}


@dataclass
class Column:
    """A column as its last definition stated it."""

    name: str
    type: str  # sqlglot's type name: VARCHAR, UINT, ENUM ...
    params: tuple[str, ...]  # lengths, precision, or ENUM/SET members
    charset: str | None  # as written on the column (or implied by its COLLATE)
    nullable: bool = True

    @property
    def text(self) -> str:
        if self.type in MEMBERS:
            inside = ",".join(f"'{value}'" for value in self.params)
            return f"{self.type}({inside})"
        unsigned = self.type in INTEGERS and self.type.startswith("U")
        base = self.type[1:] if unsigned else self.type
        text = f"{base}({','.join(self.params)})" if self.params else base
        return f"{text} UNSIGNED" if unsigned else text


@dataclass
class Table:
    columns: dict[str, Column] = field(default_factory=dict)
    charset: str | None = None


@dataclass(frozen=True)
class Change:
    """What a MODIFY/CHANGE does to a known column: an operation key of the data file."""

    key: str
    old: Column
    new: Column
    detail: str = ""


def column_from(definition: Any) -> Column:
    """A Column from a sqlglot ColumnDef (its type normalised so equal types compare equal)."""
    from sqlglot import exp

    kind = definition.args.get("kind")
    name = kind.this.name if isinstance(kind, exp.DataType) else "UNKNOWN"
    params = tuple(_param(p) for p in (kind.expressions if kind is not None else []))
    if name == "BOOLEAN":
        name, params = "TINYINT", ()
    if name in INTEGERS:
        params = ()  # display width: no storage meaning
    elif name in ("CHAR", "BINARY") and not params:
        params = ("1",)
    elif name == "DECIMAL":
        params = ((params or ("10",)) + ("0",))[:2]  # DECIMAL = (10,0), DECIMAL(5) = (5,0)
    charset = None
    nullable = True
    for constraint in definition.args.get("constraints") or []:
        ckind = constraint.args.get("kind")
        if isinstance(ckind, exp.CharacterSetColumnConstraint):
            charset = ckind.name.lower()
        elif isinstance(ckind, exp.CollateColumnConstraint) and charset is None:
            charset = ckind.name.lower().split("_", 1)[0]
        elif isinstance(ckind, exp.NotNullColumnConstraint):
            nullable = bool(ckind.args.get("allow_null"))
        elif isinstance(ckind, exp.PrimaryKeyColumnConstraint):
            nullable = False
    if name in BINARY:
        charset = "binary"
    return Column(definition.name, name, params, charset, nullable)


def _param(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.DataTypeParam):
        node = node.this
    return str(node.name if isinstance(node, (exp.Literal, exp.Identifier, exp.Var))
               else node.sql("mysql"))


class Shapes:
    """Tables and columns defined by the statements of one lint run, in order."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}

    def column(self, table: str | None, name: str | None) -> Column | None:
        if table is None or name is None:
            return None
        shape = self.tables.get(table.lower())
        return shape.columns.get(name.lower()) if shape else None

    def table_charset(self, table: str | None) -> str | None:
        shape = self.tables.get((table or "").lower())
        return shape.charset if shape else None

    def charset_of(self, table: str | None, column: Column) -> str | None:
        """A string column's character set: its own, else its table's default, else unknown."""
        if column.type not in STRINGS:
            return column.charset
        return column.charset or self.table_charset(table)

    def observe(self, stmt: Statement) -> None:
        """Take in the definitions a statement leaves behind (after the rules have judged it)."""
        from sqlglot import exp

        node = stmt.node
        if isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() == "TABLE":
            self._create(node)
        elif isinstance(node, exp.Alter):
            self._alter(node)
        elif isinstance(node, exp.Drop) and (node.args.get("kind") or "").upper() == "TABLE":
            for table in node.args.get("tables") or []:
                self.tables.pop(table.name.lower(), None)
        elif isinstance(node, exp.Command):
            self._command(stmt.text)

    def _create(self, node: Any) -> None:
        from sqlglot import exp

        schema = node.this
        if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
            return  # CREATE TABLE ... LIKE / AS SELECT: columns unknown
        table = Table(charset=_table_charset(node))
        for item in schema.expressions:
            if isinstance(item, exp.ColumnDef):
                column = column_from(item)
                table.columns[column.name.lower()] = column
        self.tables[schema.this.name.lower()] = table

    def _alter(self, node: Any) -> None:
        from sqlglot import exp

        if not isinstance(node.this, exp.Table):
            return
        name = node.this.name.lower()
        # A table no statement created: what an ALTER states about a column is still known.
        table = self.tables.setdefault(name, Table())
        for option in node.args.get("options") or []:
            if isinstance(option, exp.CharacterSetProperty):
                table.charset = option.name.lower()
        for action in node.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                column = column_from(action)
                table.columns[column.name.lower()] = column
            elif isinstance(action, exp.ModifyColumn):
                old = action.args.get("rename_from")
                column = column_from(action.this)
                before = table.columns.pop((old.name if old else column.name).lower(), None)
                if (column.charset is None and table.charset is None and before is not None
                        and column.type in STRINGS):
                    column.charset = before.charset  # as compare() assumes: unchanged
                table.columns[column.name.lower()] = column
            elif isinstance(action, exp.RenameColumn):
                column = table.columns.pop(action.this.name.lower(), None)
                if column is not None:
                    column.name = action.args["to"].name
                    table.columns[column.name.lower()] = column
            elif isinstance(action, exp.Drop) and (action.args.get("kind") or "") == "COLUMN":
                for target in action.args.get("tables") or []:
                    table.columns.pop(target.name.lower(), None)
            elif isinstance(action, exp.AlterRename):
                self.tables[action.this.name.lower()] = self.tables.pop(name)

    def _command(self, text: str) -> None:
        import re

        convert = re.match(r"^\s*ALTER\s+TABLE\s+`?([\w$]+)`?\s+CONVERT\s+TO\s+"
                           r"(?:CHARACTER\s+SET|CHARSET)\s+(\w+)", text, re.I)
        if convert and convert.group(1).lower() in self.tables:
            table = self.tables[convert.group(1).lower()]
            table.charset = convert.group(2).lower()
            for column in table.columns.values():
                if column.type in STRINGS:
                    column.charset = table.charset
        rename = re.match(r"^\s*RENAME\s+TABLE\s+`?([\w$]+)`?\s+TO\s+`?([\w$]+)`?", text, re.I)
        if rename and rename.group(1).lower() in self.tables:
            self.tables[rename.group(2).lower()] = self.tables.pop(rename.group(1).lower())


def _table_charset(node: Any) -> str | None:
    from sqlglot import exp

    properties = node.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.CharacterSetProperty):
            return prop.name.lower()
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.CollateProperty):
            return prop.name.lower().split("_", 1)[0]
    return None


# --- what a change costs ----------------------------------------------------------------------
def bytes_per_char(charset: str | None) -> tuple[int, bool]:
    """Maximum bytes per character, and whether the charset was assumed (not known)."""
    table = facts()["charsets"]
    if charset and charset in table["bytes_per_char"]:
        return int(table["bytes_per_char"][charset]), False
    return int(table["bytes_per_char"][table["assumed"]]), True


def max_bytes(column: Column, charset: str | None) -> int:
    """The most bytes a VARCHAR/VARBINARY value of the column can take."""
    length = int(column.params[0]) if column.params else 0
    if column.type == "VARBINARY":
        return length
    per_char, _ = bytes_per_char(charset)
    return length * per_char


def boundary_chars(charset: str | None) -> int:
    """The longest VARCHAR (in characters) that keeps the 1-byte length prefix."""
    per_char, _ = bytes_per_char(charset)
    return int(facts()["varchar"]["one_byte_prefix_max_bytes"]) // per_char


def storage_bytes(kind: str, members: int) -> int:
    """The bytes an ENUM or SET value takes with `members` members."""
    for limit, size in facts()["enum_storage"][kind]:
        if members <= limit:
            return int(size)
    return 0  # over the server's limit: the statement fails anyway


def compare(old: Column, new: Column, old_charset: str | None,
            new_charset: str | None) -> Change | None:
    """What MODIFY/CHANGE from `old` to `new` does to the data; None when the type is unchanged.

    Character sets come resolved (column, else table default); an unknown one on either side
    is taken as unchanged.
    """
    charset_changed = (old.type in STRINGS and new.type in STRINGS and old_charset
                       and new_charset and old_charset != new_charset)
    if old.type != new.type:
        return Change("change_column_type", old, new)
    if charset_changed:
        return Change("change_column_charset", old, new,
                      f"character set {old_charset} → {new_charset}")
    if old.type in facts()["varchar"]["types"]:
        return _varchar(old, new, old_charset or new_charset)
    if old.type in MEMBERS:
        return _members(old, new)
    if old.params != new.params:
        return Change("change_column_type", old, new)
    return None


def _varchar(old: Column, new: Column, charset: str | None) -> Change | None:
    old_len, new_len = int(old.params[0]), int(new.params[0])
    if new_len == old_len:
        return None
    if new_len < old_len:
        return Change("varchar_shrink", old, new)
    old_bytes, new_bytes = max_bytes(old, charset), max_bytes(new, charset)
    limit = int(facts()["varchar"]["one_byte_prefix_max_bytes"])
    assumed = facts()["charsets"]["assumed"]
    unit = "binary" if old.type == "VARBINARY" else charset or f"{assumed} (assumed)"
    detail = f"{old_bytes} → {new_bytes} bytes in {unit}"
    if old_bytes <= limit < new_bytes:
        return Change("varchar_cross_255_bytes", old, new, detail)
    return Change("varchar_extend", old, new, detail)


def _members(old: Column, new: Column) -> Change | None:
    if old.params == new.params:
        return None
    if new.params[: len(old.params)] == old.params:
        before = storage_bytes(old.type, len(old.params))
        after = storage_bytes(new.type, len(new.params))
        if before != after:
            return Change("enum_storage_grows", old, new,
                          f"{len(old.params)} → {len(new.params)} members: {before} → {after} "
                          "bytes per value")
        return Change("enum_append", old, new)
    return Change("enum_reorder", old, new)


@dataclass
class Modification:
    """One MODIFY/CHANGE of an ALTER TABLE, with the column as it stood before when known."""

    table: str | None
    name: str  # the column's current name (CHANGE old new renames it)
    new: Column
    old: Column | None
    change: Change | None  # None when the type is unchanged or `old` is unknown
    new_charset: str | None
    renamed: bool = False
    moved: bool = False  # FIRST / AFTER

    @property
    def operation(self) -> str | None:
        """The data file's operation key, or None when the current definition is unknown."""
        if self.old is None:
            return None
        if self.change is not None:
            return self.change.key
        if self.old.nullable and not self.new.nullable:
            return "make_not_null"
        if not self.old.nullable and self.new.nullable:
            return "make_nullable"
        if self.moved:
            return "reorder_column"
        return "rename_column" if self.renamed else "set_default"

    def unknown_kind(self) -> str:
        """Which rule speaks for a change to an unknown column: members, varchar or type."""
        if self.new.type in MEMBERS:
            return "members"
        limit = int(facts()["varchar"]["one_byte_prefix_max_bytes"])
        if self.new.type in facts()["varchar"]["types"] and max_bytes(
                self.new, self.new_charset) > limit:
            return "varchar"
        return "type"


def modifications(stmt: Statement, shapes: Shapes, table: str | None) -> list[Modification]:
    """Each MODIFY/CHANGE of an ALTER TABLE, compared with what `shapes` knows of the column."""
    from sqlglot import exp

    out = []
    node = stmt.node
    for action in node.args.get("actions") or [] if isinstance(node, exp.Alter) else []:
        if not isinstance(action, exp.ModifyColumn) or not isinstance(action.this, exp.ColumnDef):
            continue
        if action.this.args.get("kind") is None:
            continue
        renamed_from = action.args.get("rename_from")
        new = column_from(action.this)
        name = renamed_from.name if renamed_from else new.name
        old = shapes.column(table, name)
        old_charset = shapes.charset_of(table, old) if old else None
        new_charset = new.charset or shapes.table_charset(table) or old_charset
        if new.type not in STRINGS:
            new_charset = new.charset
        change = compare(old, new, old_charset, new_charset) if old else None
        out.append(Modification(
            table=table, name=name, new=new, old=old, change=change, new_charset=new_charset,
            renamed=bool(renamed_from) and renamed_from.name.lower() != new.name.lower(),
            moved=action.this.args.get("position") is not None,
        ))
    return out
