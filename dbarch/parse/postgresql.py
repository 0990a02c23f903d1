"""PostgreSQL DDL → Schema, with PostgreSQL's own parser (libpg_query, through pglast).

Reads what a schema file or a pg_dump holds: CREATE TABLE (columns, types, NOT NULL, defaults,
identity/serial, primary key, unique, check, foreign keys with ON DELETE), CREATE INDEX (unique,
partial, method, INCLUDE, text_pattern_ops), ALTER TABLE forms that pg_dump writes, COMMENT ON,
CREATE TYPE ... AS ENUM (for the labels), DROP. Anything else is a located notice.
"""

from __future__ import annotations

from typing import Any

from dbarch.errors import InputError, Problem
from dbarch.parse.builder import DdlReader, SchemaBuilder
from dbarch.parse.located import Locator
from dbarch.parse.types import column_type
from dbarch.schema.model import (
    Check,
    Column,
    ColumnType,
    Default,
    DefaultKind,
    ForeignKey,
    Index,
    IndexColumn,
    IndexMethod,
    OnDelete,
    Schema,
    Table,
    Unique,
)

DIALECT = "postgresql"
# fk_del_action codes of parsenodes.h (FKCONSTR_ACTION_*)
_ON_DELETE = {"a": OnDelete.no_action, "r": OnDelete.restrict, "c": OnDelete.cascade,
              "n": OnDelete.set_null}
# The operator classes IndexColumn.pattern_ops stands for (LIKE 'prefix%' on a non-C collation).
PATTERN_OPS = frozenset({"text_pattern_ops", "varchar_pattern_ops", "bpchar_pattern_ops"})
_NOW = frozenset({"now", "transaction_timestamp", "current_timestamp", "localtimestamp"})
# Statements that hold nothing the table model keeps: skipped without a notice.
_NOTHING_TO_KEEP = frozenset({
    "VariableSetStmt", "TransactionStmt", "GrantStmt", "GrantRoleStmt", "AlterOwnerStmt",
    "CreateSeqStmt", "AlterSeqStmt", "CreateSchemaStmt", "CreateExtensionStmt",
    "AlterDefaultPrivilegesStmt", "AnalyzeStmt", "VacuumStmt",
})
_SILENT_ALTERS = frozenset({
    "AT_ChangeOwner", "AT_SetStatistics", "AT_SetStorage", "AT_ClusterOn", "AT_ValidateConstraint",
    "AT_SetRelOptions", "AT_ReplicaIdentity", "AT_SetIdentity",
})


def parse_postgresql(
    text: str, path: str = "<ddl>", name: str = ""
) -> tuple[Schema, list[Problem]]:
    """The schema `text` leaves behind, and notices for what it could not represent.

    Raises InputError with the located syntax error when the text does not parse.
    """
    import pglast
    from pglast import parser

    where = Locator(path, text)
    try:
        statements = pglast.parse_sql(text)
    except parser.ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        raise InputError([where.problem(offset, f"syntax error: {exc.args[0]}")]) from None
    reader = _Reader(SchemaBuilder(path), where)
    for raw in statements:
        reader.statement(raw.stmt, where.first_token(raw.stmt_location or 0))
    return reader.build.schema(name), reader.build.notices


def deparse(node: Any) -> str:
    """An expression node as PostgreSQL SQL text."""
    from pglast.stream import RawStream

    return str(RawStream()(node))


def normalize_expression(sql: str) -> str:
    """An expression in one canonical spelling, so a file's `status IN ('a', 'b')` and the
    server's `(status = ANY (ARRAY['a'::text, 'b'::text]))` compare equal: parsed, casts of
    constants removed, `= ANY (ARRAY[...])` written as IN, deparsed."""
    import pglast
    from pglast import ast, enums, parser
    from pglast.visitors import Visitor

    class _Canonical(Visitor):  # type: ignore[misc]
        def visit_TypeCast(self, ancestors: Any, node: Any) -> Any:
            return node.arg if isinstance(node.arg, ast.A_Const) else None

        def visit_A_Expr(self, ancestors: Any, node: Any) -> Any:
            if (node.kind == enums.A_Expr_Kind.AEXPR_OP_ANY and node.name[-1].sval == "="
                    and isinstance(node.rexpr, ast.A_ArrayExpr)):
                items = tuple(e.arg if isinstance(e, ast.TypeCast) else e
                              for e in node.rexpr.elements or ())
                return ast.A_Expr(kind=enums.A_Expr_Kind.AEXPR_IN, name=node.name,
                                  lexpr=node.lexpr, rexpr=items)
            return None

    try:
        tree = pglast.parse_sql(f"SELECT {sql}")
    except parser.ParseError:
        return " ".join(sql.split())
    _Canonical()(tree)
    return deparse(tree[0].stmt.targetList[0].val)


def expression_node(sql: str) -> Any:
    """An expression's parse tree (a server's default or check text), or None if it does not
    parse."""
    import pglast
    from pglast import parser

    try:
        return pglast.parse_sql(f"SELECT {sql}")[0].stmt.targetList[0].val
    except parser.ParseError:
        return None


def expression_columns(sql: str) -> list[str]:
    """The columns an expression refers to, in order of appearance."""
    from pglast import ast
    from pglast.visitors import Visitor

    node = expression_node(sql)
    found: list[str] = []

    class _Columns(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, ancestors: Any, ref: Any) -> None:
            if isinstance(ref.fields[-1], ast.String) and ref.fields[-1].sval not in found:
                found.append(ref.fields[-1].sval)

    if node is not None:
        _Columns()(node)
    return found


def type_from_text(text: str, enums: dict[str, tuple[str, ...]] | None = None) -> ColumnType:
    """A type written as text (`character varying(20)`, `integer[]`) as a ColumnType."""
    import pglast

    node = pglast.parse_sql(f"CREATE TABLE x (c {text})")[0].stmt.tableElts[0]
    reader = _Reader(SchemaBuilder("<type>"), Locator("<type>", text))
    reader.build.enums.update(enums or {})
    return reader.type_of(node.typeName)[0]


def default_of(node: Any) -> tuple[Default | None, bool]:
    """A DEFAULT expression as the model's Default, and whether it makes the column an identity
    (a `nextval(...)` default is how serial columns and pg_dump spell their sequence)."""
    from pglast import ast

    if isinstance(node, ast.TypeCast) and isinstance(node.arg, ast.A_Const):
        node = node.arg
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None, False
        return Default(kind=DefaultKind.value, value=_constant(node.val)), False
    if isinstance(node, ast.FuncCall):
        name = node.funcname[-1].sval.lower()
        if name in _NOW and not node.args:
            return Default(kind=DefaultKind.now), False
        if name == "nextval":
            return None, True
    if isinstance(node, ast.SQLValueFunction) and node.op.name in (
        "SVFOP_CURRENT_TIMESTAMP", "SVFOP_LOCALTIMESTAMP"
    ):
        return Default(kind=DefaultKind.now), False
    return Default(kind=DefaultKind.expression, value=deparse(node)), False


def _constant(value: Any) -> str | int | float | bool:
    from pglast import ast

    if isinstance(value, ast.Integer):
        return int(value.ival)
    if isinstance(value, ast.Float):
        number = float(value.fval)
        return int(number) if number.is_integer() and "." not in value.fval else number
    if isinstance(value, ast.Boolean):
        return bool(value.boolval)
    return str(getattr(value, "sval", None) or getattr(value, "bsval", ""))


def _int(node: Any) -> int | None:
    from pglast import ast

    value = node.val if isinstance(node, ast.A_Const) else node
    return int(value.ival) if isinstance(value, ast.Integer) else None


class _Reader(DdlReader):
    """Applies statements to the builder; each method handles one statement kind."""

    def statement(self, node: Any, offset: int) -> None:
        self.offset = offset
        kind = type(node).__name__
        handler = getattr(self, f"on_{kind}", None)
        if handler is not None:
            handler(node)
        elif kind == "SelectStmt":
            pass  # pg_dump's set_config()/setval() calls: no schema in them
        elif kind not in _NOTHING_TO_KEEP:
            self.note(f"skipped {kind}: the schema model keeps tables, columns, keys, "
                      "constraints and indexes only")

    # ----------------------------------------------------------------- CREATE

    def on_CreateEnumStmt(self, node: Any) -> None:
        name = node.typeName[-1].sval
        self.build.enums[name] = tuple(v.sval for v in node.vals or ())
        self.note(f"enum type {name}: read for its labels; a migration plan neither creates "
                  "nor changes enum types", hint="create or alter the type before the plan")

    def on_CreateStmt(self, node: Any) -> None:
        name = node.relation.relname
        if node.relation.relpersistence == "t":
            self.note(f"skipped temporary table {name}")
            return
        if node.partbound is not None:
            self.note(f"skipped partition {name}: partitions are not part of the schema model")
            return
        if node.inhRelations:
            self.note(f"{name}: INHERITS not represented; read as a plain table")
        if node.partspec is not None:
            self.note(f"{name}: PARTITION BY not represented; read as a plain table")
        table = Table(name=name, columns=[], primary_key=[])
        self.build.add(table)
        constraints = []
        for element in node.tableElts or ():
            kind = type(element).__name__
            if kind == "ColumnDef":
                self.add_column(table, element)
            elif kind == "Constraint":
                constraints.append(element)
            else:
                self.note(f"{name}: skipped {kind} in CREATE TABLE")
        for constraint in constraints:
            self.add_constraint(table, constraint, None)

    def type_of(self, type_name: Any) -> tuple[ColumnType, bool]:
        """A TypeName node as a ColumnType (and whether it is a serial pseudo-type)."""
        names = [n.sval for n in type_name.names]
        base = names[-1]
        qualified = len(names) > 1 and names[0] != "pg_catalog"
        mods = [m for m in (_int(x) for x in type_name.typmods or ()) if m is not None]
        return column_type(DIALECT, ".".join(names) if qualified else base, mods,
                           array_dims=len(type_name.arrayBounds or ()),
                           values=self.build.enums.get(base))

    def add_column(self, table: Table, node: Any) -> None:
        ctype, identity = self.type_of(node.typeName)
        column = Column(name=node.colname, type=ctype, nullable=True, identity=identity)
        if node.collClause is not None:
            self.note(f"{table.name}.{node.colname}: COLLATE not represented")
        table.columns.append(column)
        for constraint in node.constraints or ():
            self.add_constraint(table, constraint, column)
        if column.identity or node.colname in table.primary_key:
            column.nullable = False

    def add_constraint(self, table: Table, node: Any, column: Column | None) -> None:
        kind = node.contype.name
        label = f"{table.name}.{column.name}" if column else table.name
        if kind == "CONSTR_NOTNULL" and column is not None:
            column.nullable = False
        elif kind == "CONSTR_NULL" and column is not None:
            column.nullable = True
        elif kind == "CONSTR_DEFAULT" and column is not None:
            column.default, serial = default_of(node.raw_expr)
            column.identity = column.identity or serial
        elif kind == "CONSTR_IDENTITY" and column is not None:
            column.identity = True
            column.nullable = False
        elif kind == "CONSTR_PRIMARY":
            keys = [column.name] if column else [k.sval for k in node.keys or ()]
            if node.indexname:
                keys = self.keys_of_index(table, node.indexname) or keys
            table.primary_key = keys
            for col in table.columns:
                if col.name in keys:
                    col.nullable = False
        elif kind == "CONSTR_UNIQUE":
            keys = [column.name] if column else [k.sval for k in node.keys or ()]
            if node.indexname:
                keys = self.keys_of_index(table, node.indexname) or keys
            name = node.conname or node.indexname or _pg_name(table.name, keys, "key")
            table.uniques.append(Unique(name=name, columns=keys))
        elif kind == "CONSTR_FOREIGN":
            keys = [column.name] if column else [k.sval for k in node.fk_attrs or ()]
            action = _ON_DELETE.get(node.fk_del_action or "a")
            if action is None:
                action = OnDelete.no_action
                self.note(f"{label}: ON DELETE SET DEFAULT not represented; read as NO ACTION")
            if (node.fk_upd_action or "a") != "a":
                self.note(f"{label}: ON UPDATE action not represented")
            table.foreign_keys.append(ForeignKey(
                name=node.conname or _pg_name(table.name, keys, "fkey"),
                columns=keys,
                ref_table=node.pktable.relname,
                ref_columns=[k.sval for k in node.pk_attrs or ()],
                on_delete=action,
            ))
        elif kind == "CONSTR_CHECK":
            expression = deparse(node.raw_expr)
            first = column.name if column else first_column(node.raw_expr) or ""
            table.checks.append(Check(
                name=node.conname or _pg_name(table.name, [first] if first else [], "check"),
                column=first, expression=expression,
            ))
        elif kind == "CONSTR_GENERATED":
            self.note(f"{label}: generated column expression not represented; read as a "
                      "plain column")
        elif kind.startswith("CONSTR_ATTR_"):
            pass  # DEFERRABLE and friends: not part of the model, harmless to drop
        else:
            self.note(f"{label}: skipped {kind.removeprefix('CONSTR_').lower()} constraint")

    def keys_of_index(self, table: Table, index: str) -> list[str] | None:
        for ix in table.indexes:
            if ix.name == index:
                table.indexes.remove(ix)
                return ix.column_names
        return None

    def on_IndexStmt(self, node: Any) -> None:
        table = self.table(node.relation.relname)
        if table is None:
            return
        columns = []
        for element in node.indexParams or ():
            if element.expr is not None:
                self.note(f"skipped index {node.idxname or '(unnamed)'} on {table.name}: "
                          f"its key {deparse(element.expr)} is an expression")
                return
            opclass = element.opclass[-1].sval if element.opclass else None
            if opclass is not None and opclass not in PATTERN_OPS:
                self.note(f"index {node.idxname}: operator class {opclass} not represented")
            columns.append(IndexColumn(name=element.name,
                                       desc=element.ordering.name == "SORTBY_DESC",
                                       pattern_ops=opclass in PATTERN_OPS))
        method = (node.accessMethod or "btree").lower()
        if method not in IndexMethod.__members__:
            self.note(f"skipped index {node.idxname} on {table.name}: method {method} is not "
                      "part of the schema model")
            return
        name = node.idxname or _pg_name(table.name, [c.name for c in columns], "idx")
        table.indexes.append(Index(
            name=name, columns=columns, unique=bool(node.unique), method=IndexMethod(method),
            include=[p.name for p in node.indexIncludingParams or ()],
            where=deparse(node.whereClause) if node.whereClause is not None else None,
        ))

    def on_CommentStmt(self, node: Any) -> None:
        parts = [p.sval for p in node.object] if isinstance(node.object, tuple) else []
        kind = node.objtype.name
        if kind == "OBJECT_TABLE" and parts:
            table = self.table(parts[-1])
            if table is not None:
                table.comment = node.comment
        elif kind == "OBJECT_COLUMN" and len(parts) >= 2:
            table = self.table(parts[-2])
            if table is not None:
                col = self.column(table, parts[-1])
                if col is not None:
                    col.comment = node.comment

    # ----------------------------------------------------------------- ALTER, DROP, RENAME

    def on_AlterTableStmt(self, node: Any) -> None:
        if node.objtype.name != "OBJECT_TABLE":
            self.note(f"skipped ALTER {node.objtype.name.removeprefix('OBJECT_')}")
            return
        table = self.table(node.relation.relname)
        if table is None:
            return
        for cmd in node.cmds or ():
            self.alter(table, cmd)

    def alter(self, table: Table, cmd: Any) -> None:
        kind = cmd.subtype.name
        col = self.column(table, cmd.name) if cmd.name and kind.startswith(
            ("AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull", "AT_AddIdentity",
             "AT_AlterColumnType")) else None
        if kind == "AT_AddColumn":
            self.add_column(table, cmd.def_)
        elif kind == "AT_AddConstraint":
            self.add_constraint(table, cmd.def_, None)
        elif kind == "AT_DropColumn":
            self.build.drop_column(table, cmd.name)
        elif kind == "AT_DropConstraint":
            if not self.build.drop_constraint(table, cmd.name):
                self.note(f"{table.name}: no constraint {cmd.name} to drop")
        elif col is None and kind in ("AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull",
                                      "AT_AddIdentity", "AT_AlterColumnType"):
            return  # self.column() noted it
        elif kind == "AT_ColumnDefault" and col is not None:
            if cmd.def_ is None:
                col.default = None
            else:
                col.default, serial = default_of(cmd.def_)
                col.identity = col.identity or serial
        elif kind == "AT_SetNotNull" and col is not None:
            col.nullable = False
        elif kind == "AT_DropNotNull" and col is not None:
            col.nullable = True
        elif kind == "AT_AddIdentity" and col is not None:
            col.identity = True
        elif kind == "AT_AlterColumnType" and col is not None:
            col.type = self.type_of(cmd.def_.typeName)[0]
        elif kind not in _SILENT_ALTERS:
            self.note(f"{table.name}: skipped ALTER TABLE {kind.removeprefix('AT_')}")

    def on_DropStmt(self, node: Any) -> None:
        kind = node.removeType.name
        for obj in node.objects or ():
            name = obj[-1].sval
            if kind == "OBJECT_TABLE":
                if self.build.tables.pop(name, None) is None and not node.missing_ok:
                    self.note(f"DROP TABLE {name}: no such table in the file")
            elif kind == "OBJECT_INDEX":
                found = self.build.index_owner(name)
                if found is not None:
                    found[0].indexes.remove(found[1])
            else:
                self.note(f"skipped DROP {kind.removeprefix('OBJECT_')} {name}")

    def on_RenameStmt(self, node: Any) -> None:
        kind = node.renameType.name
        if kind == "OBJECT_TABLE":
            self.build.rename_table(node.relation.relname, node.newname)
        elif kind == "OBJECT_COLUMN":
            table = self.table(node.relation.relname)
            col = self.column(table, node.subname) if table else None
            if table is not None and col is not None:
                self.build.rename_column(table, node.subname, node.newname)
        else:
            self.note(f"skipped RENAME of {kind.removeprefix('OBJECT_').lower()}")

    # ----------------------------------------------------------------- lookups



def first_column(node: Any) -> str | None:
    """The first column an expression refers to (PostgreSQL names a CHECK after it)."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[str] = []

    class _Columns(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, ancestors: Any, ref: Any) -> None:
            last = ref.fields[-1]
            if isinstance(last, ast.String):
                found.append(last.sval)

    _Columns()(node)
    return found[0] if found else None


def _pg_name(table: str, columns: list[str], suffix: str) -> str:
    """The name PostgreSQL gives an unnamed constraint or index (ChooseRelationName): table,
    columns and suffix joined by `_`, cut to 63 bytes."""
    body = "_".join([table, *columns])
    limit = 63 - len(suffix) - 1
    return f"{body[:limit]}_{suffix}"
