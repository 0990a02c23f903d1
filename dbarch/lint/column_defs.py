"""The column definitions a statement writes, and the statement rewritten with another type.

The hygiene rules (L901–L904) judge column types wherever a migration states one: CREATE
TABLE, ALTER TABLE ... ADD COLUMN and ALTER COLUMN ... TYPE on PostgreSQL; CREATE TABLE, ADD
COLUMN, MODIFY and CHANGE on MySQL. Their fixes are the same statement with the type replaced:
on PostgreSQL edited into the user's own text where the type's place and extent are certain,
else deparsed by pglast (PostgreSQL's own grammar); on MySQL printed by sqlglot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.pg import constraints, relation, type_name, type_text
from dbarch.lint.pg_spans import char_offset, statement_span, text_offset, type_span
from dbarch.lint.statement import POSTGRESQL, Statement, per_statement


class ColumnSite:
    """A column type as a statement states it."""

    __slots__ = ("_text", "column", "is_array", "node", "table", "type")

    def __init__(self, table: str | None, column: str, type_: str, text: str | None, node: Any,
                 is_array: bool = False) -> None:
        self.table = table
        self.column = column
        self.type = type_  # PostgreSQL catalog name (int4, varchar) or sqlglot's (INT, UINT …)
        self._text = text
        self.node = node  # the ColumnDef (PostgreSQL JSON body or sqlglot expression)
        self.is_array = is_array

    @property
    def text(self) -> str:
        """The type for messages: varchar(20), INT UNSIGNED (PostgreSQL's built when asked)."""
        if self._text is None:
            self._text = type_text(self.node.get("typeName"))
        return self._text


@per_statement
def columns(stmt: Statement) -> tuple[ColumnSite, ...]:
    """Every column type the statement defines or changes.

    L901–L904 each ask about the same statement in turn: the sites are read once.
    """
    return tuple(_pg_columns(stmt) if stmt.dialect == POSTGRESQL else _mysql_columns(stmt))


def _pg_columns(stmt: Statement) -> Iterator[ColumnSite]:
    node = stmt.node
    table = relation(node.get("relation"))
    if stmt.kind == "CreateStmt":
        for item in node.get("tableElts") or ():
            definition = item.get("ColumnDef")
            if definition is not None:
                yield _pg_site(table, definition.get("colname", ""), definition)
    elif stmt.kind == "AlterTableStmt":
        for cmd in alter_table.commands(stmt):
            definition = (cmd.get("def") or {}).get("ColumnDef")
            if definition is None:
                continue
            if cmd.get("subtype") == "AT_AddColumn":
                yield _pg_site(table, definition.get("colname", ""), definition)
            elif cmd.get("subtype") == "AT_AlterColumnType":
                yield _pg_site(table, cmd.get("name", ""), definition)


def _pg_site(table: str | None, column: str, definition: dict) -> ColumnSite:
    type_node = definition.get("typeName") or {}
    names = type_node.get("names") or ()
    last = names[-1].get("String") if names else None
    name = last.get("sval", "") if last is not None else type_name(type_node)
    return ColumnSite(table, column, name, None, definition, bool(type_node.get("arrayBounds")))


def _mysql_columns(stmt: Statement) -> Iterator[ColumnSite]:
    from sqlglot import exp

    node = stmt.node
    items: list[Any] = []
    if isinstance(node, exp.Create) and isinstance(node.this, exp.Schema):
        table = node.this.this.name if isinstance(node.this.this, exp.Table) else None
        items = [e for e in node.this.expressions if isinstance(e, exp.ColumnDef)]
    elif isinstance(node, exp.Alter):
        table = node.this.name if isinstance(node.this, exp.Table) else None
        for action in node.args.get("actions") or []:
            definition = action.this if isinstance(action, exp.ModifyColumn) else action
            if isinstance(definition, exp.ColumnDef):
                items.append(definition)
    else:
        return
    for definition in items:
        kind = definition.args.get("kind")
        if isinstance(kind, exp.DataType):
            yield ColumnSite(table, definition.name, kind.this.name, kind.sql("mysql"),
                             definition)


def has_identity(definition: dict) -> bool:
    """A PostgreSQL ColumnDef declared GENERATED ... AS IDENTITY."""
    return any(c.get("contype") == "CONSTR_IDENTITY" for c in constraints(definition))


def is_primary_key(definition: dict) -> bool:
    return any(c.get("contype") == "CONSTR_PRIMARY" for c in constraints(definition))


# --- the statement with one column's type replaced (PostgreSQL) -------------------------------
def retyped(stmt: Statement, column: str, new_type: str, *, identity: bool = False) -> str | None:
    """`stmt` with `column` declared as `new_type` (optionally GENERATED ALWAYS AS IDENTITY).

    The type is replaced in the user's own text (array bounds kept); forms the text reader is
    unsure of are rebuilt by pglast instead. None when neither can (pglast cannot deparse it).
    """
    fix = _retyped_text(stmt, column, new_type, identity)
    return fix if fix is not None else _retyped_deparsed(stmt, column, new_type, identity)


def _retyped_text(stmt: Statement, column: str, new_type: str, identity: bool) -> str | None:
    definition = _json_column_def(stmt, column)
    span = statement_span(stmt.text)
    if definition is None or span is None or not definition.get("typeName"):
        return None
    offset = text_offset(stmt)
    if offset is None:
        return None
    start, end = span
    text = stmt.text[:end]
    at = char_offset(text, offset, definition["typeName"].get("location", -1))
    found = type_span(text, at) if at is not None and start <= at < end else None
    if found is None:
        return None
    base_end, type_end = found
    if identity:
        if has_identity(definition):
            return None
        # after the column's other constraints, where pglast's printer puts it too
        close = _definition_end(text, char_offset(text, offset, definition.get("location", -1)))
        if close is None or close < type_end:
            return None
        text = f"{text[:close]} GENERATED ALWAYS AS IDENTITY{text[close:]}"
        base_end = type_end
    text = f"{text[:at]}{new_type}{text[base_end:]}"
    return text[start:] + ";"


def _definition_end(text: str, start: int | None) -> int | None:
    """Where the column definition starting at `start` ends: its last token before the comma
    or parenthesis that closes it, by PostgreSQL's scanner (defaults hold strings, commas)."""
    if start is None:
        return None
    from pglast import parser

    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return None
    depth, end = 0, None
    for token in tokens:
        if token.start < start or token.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        if token.name in ("ASCII_41", "ASCII_93"):
            depth -= 1
        if depth < 0 or (depth == 0 and token.name == "ASCII_44"):
            break
        if token.name in ("ASCII_40", "ASCII_91"):
            depth += 1
        end = token.end + 1
    return end


def _json_column_def(stmt: Statement, column: str) -> dict[str, Any] | None:
    """The ColumnDef (parse tree) that states `column`'s type in a CREATE or ALTER TABLE."""
    node = stmt.node
    if stmt.kind == "CreateStmt":
        for item in node.get("tableElts") or ():
            definition = item.get("ColumnDef")
            if definition is not None and definition.get("colname") == column:
                return definition  # type: ignore[no-any-return]
    elif stmt.kind == "AlterTableStmt":
        for cmd in alter_table.commands(stmt):
            definition = (cmd.get("def") or {}).get("ColumnDef")
            if definition is None:
                continue
            subtype = cmd.get("subtype")
            if subtype == "AT_AddColumn" and definition.get("colname") == column:
                return definition  # type: ignore[no-any-return]
            if subtype == "AT_AlterColumnType" and cmd.get("name") == column:
                return definition  # type: ignore[no-any-return]
    return None


def _retyped_deparsed(stmt: Statement, column: str, new_type: str,
                      identity: bool) -> str | None:
    """The statement rebuilt by pglast's printer with the new type (slow; the fallback)."""
    import pglast
    from pglast.stream import RawStream

    try:
        (raw,) = pglast.parse_sql(stmt.text)
        (template,) = pglast.parse_sql(
            f"CREATE TABLE x (c {new_type}{' GENERATED ALWAYS AS IDENTITY' if identity else ''})")
    except (pglast.parser.ParseError, ValueError):
        return None
    model = template.stmt.tableElts[0]
    target = _pg_column_def(raw.stmt, column)
    if target is None:
        return None
    target.typeName = model.typeName
    if identity:
        kept = [c for c in (target.constraints or ()) if c.contype != _identity_kind()]
        target.constraints = (*kept, *model.constraints)
    try:
        return RawStream()(raw.stmt) + ";"
    except Exception:  # pglast refuses a few exotic trees; printing no fix beats a wrong one
        return None


def _identity_kind() -> Any:
    from pglast.enums import ConstrType

    return ConstrType.CONSTR_IDENTITY


def _pg_column_def(stmt: Any, column: str) -> Any:
    from pglast import ast
    from pglast.enums import AlterTableType

    if isinstance(stmt, ast.CreateStmt):
        for item in stmt.tableElts or ():
            if isinstance(item, ast.ColumnDef) and item.colname == column:
                return item
    if isinstance(stmt, ast.AlterTableStmt):
        for cmd in stmt.cmds or ():
            if not isinstance(cmd.def_, ast.ColumnDef):
                continue
            if cmd.subtype == AlterTableType.AT_AddColumn and cmd.def_.colname == column:
                return cmd.def_
            if cmd.subtype == AlterTableType.AT_AlterColumnType and cmd.name == column:
                return cmd.def_
    return None


def mysql_retyped(stmt: Statement, column: str, new_type: str) -> str | None:
    """A MySQL CREATE/ALTER with `column` declared as `new_type` (other attributes kept)."""
    from sqlglot import exp

    node = stmt.node.copy()
    for definition in node.find_all(exp.ColumnDef):
        if definition.name == column and definition.args.get("kind") is not None:
            definition.set("kind", exp.DataType.build(new_type, dialect="mysql"))
            return node.sql("mysql") + ";"
    return None
