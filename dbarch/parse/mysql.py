"""MySQL / MariaDB DDL → Schema, with sqlglot's MySQL dialect.

Reads CREATE TABLE (columns, types, NULL/NOT NULL, defaults, AUTO_INCREMENT, PRIMARY KEY, UNIQUE
and plain KEYs, FOREIGN KEY with ON DELETE, CHECK, table COMMENT), CREATE [UNIQUE] INDEX, ALTER
TABLE (ADD/DROP/MODIFY/CHANGE COLUMN, ADD/DROP INDEX and constraints, ALTER COLUMN SET/DROP
DEFAULT) and DROP. On MySQL a unique constraint is a unique index; both read as `uniques`.
"""

from __future__ import annotations

import logging
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
    OnDelete,
    Schema,
    Table,
    Unique,
)

DIALECT = "mysql"
_ON_DELETE = {"CASCADE": OnDelete.cascade, "RESTRICT": OnDelete.restrict,
              "SET NULL": OnDelete.set_null, "NO ACTION": OnDelete.no_action}
_NOTHING_TO_KEEP = frozenset({"Set", "Use", "Transaction", "Commit", "Rollback", "Lock", "Unlock"})


def parse_mysql(text: str, path: str = "<ddl>", name: str = "") -> tuple[Schema, list[Problem]]:
    """The schema `text` leaves behind, and notices for what it could not represent.

    Raises InputError listing each statement that does not parse, located.
    """
    import sqlglot
    from sqlglot.errors import ParseError

    from dbarch.parse.split import mysql_spans, syntax_problem

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    where = Locator(path, text)
    found = mysql_spans(text)
    if found.errors:
        raise InputError([where.problem(where.byte_of(offset), f"syntax error: {message}")
                          for offset, message in found.errors])
    reader = _Reader(SchemaBuilder(path), where)
    errors = []
    for start, end in found.spans:
        reader.offset = where.byte_of(start)
        try:
            expression = sqlglot.parse_one(text[start:end], read="mysql")
        except ParseError as exc:
            errors.append(syntax_problem(where, start, exc))
            continue
        if expression is not None:
            reader.statement(expression)
    if errors:
        raise InputError(errors)
    return reader.build.schema(name), reader.build.notices


def default_of(node: Any) -> Default | None:
    """A MySQL DEFAULT expression as the model's Default."""
    from sqlglot import exp

    if isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return Default(kind=DefaultKind.value, value=bool(node.this))
    if isinstance(node, exp.Literal):
        if node.is_string:
            return Default(kind=DefaultKind.value, value=node.this)
        number = float(node.this)
        value = int(number) if number.is_integer() and "." not in node.this else number
        return Default(kind=DefaultKind.value, value=value)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        inner = default_of(node.this)
        if inner is not None and isinstance(inner.value, int | float):
            return Default(kind=DefaultKind.value, value=-inner.value)
    if isinstance(node, exp.CurrentTimestamp) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() == "now"
    ):
        return Default(kind=DefaultKind.now)
    return Default(kind=DefaultKind.expression, value=node.sql(dialect="mysql"))


def normalize_expression(sql: str) -> str:
    """An expression in one canonical spelling: quoted and bare identifiers alike."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(sql, read="mysql")
    except ParseError:
        return " ".join(sql.split())
    tree = tree.transform(lambda n: exp.to_identifier(n.this, quoted=False)
                          if isinstance(n, exp.Identifier) else n)
    return str(tree.sql(dialect="mysql"))


def expression_node(sql: str) -> Any:
    """An expression's sqlglot tree (a server's default text), or None if it does not parse."""
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        return sqlglot.parse_one(sql, read="mysql")
    except ParseError:
        return None


def expression_columns(sql: str) -> list[str]:
    """The columns an expression refers to, in order of appearance."""
    from sqlglot import exp

    node = expression_node(sql)
    found: list[str] = []
    for col in node.find_all(exp.Column) if node is not None else ():
        if col.name not in found:
            found.append(col.name)
    return found


def type_from_text(text: str) -> ColumnType:
    """A type written as text (`varchar(20)`, `bigint(20) unsigned`) as a ColumnType."""
    import sqlglot

    create = sqlglot.parse_one(f"CREATE TABLE x (c {text})", read="mysql")
    return type_of(create.this.expressions[0].args["kind"])


def type_of(node: Any) -> ColumnType:
    """A sqlglot DataType as a ColumnType."""
    from sqlglot import exp

    name = node.this.name if hasattr(node.this, "name") else str(node.this)
    if name in ("ENUM", "SET"):
        values = tuple(str(e.this) for e in node.expressions if isinstance(e, exp.Literal))
        return column_type(DIALECT, name, values=values)[0]
    mods = []
    for param in node.expressions:
        inner = param.this if isinstance(param, exp.DataTypeParam) else param
        if isinstance(inner, exp.Literal) and not inner.is_string:
            mods.append(int(inner.this))
    return column_type(DIALECT, name, mods)[0]


class _Reader(DdlReader):
    """Applies statements to the builder; each method handles one statement kind."""

    def statement(self, node: Any) -> None:
        from sqlglot import exp

        kind = type(node).__name__
        if isinstance(node, exp.Create) and str(node.args.get("kind")).upper() == "TABLE":
            self.create_table(node)
        elif isinstance(node, exp.Create) and str(node.args.get("kind")).upper() == "INDEX":
            self.create_index(node)
        elif isinstance(node, exp.Alter) and str(node.args.get("kind")).upper() == "TABLE":
            self.alter_table(node)
        elif isinstance(node, exp.Drop) and str(node.args.get("kind")).upper() == "TABLE":
            for table in node.args.get("tables") or node.expressions or [node.this]:
                self.build.tables.pop(table.name, None)
        elif isinstance(node, exp.Drop) and str(node.args.get("kind")).upper() == "INDEX":
            owner = node.args.get("cluster") or node.args.get("table")
            found = self.build.index_owner(node.this.name)
            if found is not None and (owner is None or found[0].name == owner.name):
                found[0].indexes.remove(found[1])
        elif kind in _NOTHING_TO_KEEP or (isinstance(node, exp.Command)
                                          and str(node.this).upper() in ("SET", "USE")):
            pass
        else:
            self.note(f"skipped {kind} statement: the schema model keeps tables, columns, keys, "
                      "constraints and indexes only")

    # ----------------------------------------------------------------- CREATE TABLE

    def create_table(self, node: Any) -> None:
        from sqlglot import exp

        schema = node.this
        if not isinstance(schema, exp.Schema):
            self.note("skipped CREATE TABLE without a column list (CREATE TABLE ... AS / LIKE)")
            return
        table = Table(name=schema.this.name, columns=[], primary_key=[])
        self.build.add(table)
        for element in schema.expressions:
            if isinstance(element, exp.ColumnDef):
                self.add_column(table, element)
            else:
                self.add_element(table, element)
        for prop in (node.args.get("properties") or exp.Properties()).expressions:
            if isinstance(prop, exp.SchemaCommentProperty):
                table.comment = prop.this.this
            elif isinstance(prop, exp.PartitionedByProperty):
                self.note(f"{table.name}: partitioning not represented; read as a plain table")

    def add_column(self, table: Table, node: Any, position: int | None = None) -> Column:
        from sqlglot import exp

        column = Column(name=node.this.name, type=type_of(node.args["kind"]), nullable=True)
        for constraint in node.constraints:
            kind = constraint.kind
            if isinstance(kind, exp.NotNullColumnConstraint):
                column.nullable = bool(kind.args.get("allow_null"))
            elif isinstance(kind, exp.DefaultColumnConstraint):
                column.default = default_of(kind.this)
            elif isinstance(kind, exp.AutoIncrementColumnConstraint):
                column.identity = True
                column.nullable = False
            elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                table.primary_key = [column.name]
                column.nullable = False
            elif isinstance(kind, exp.UniqueColumnConstraint):
                table.uniques.append(Unique(name=self.free(table, column.name),
                                            columns=[column.name]))
            elif isinstance(kind, exp.CheckColumnConstraint):
                table.checks.append(Check(name=self.free(table, column.name),
                                          column=column.name,
                                          expression=kind.this.sql(dialect="mysql")))
            elif isinstance(kind, exp.CommentColumnConstraint):
                column.comment = kind.this.this
            elif isinstance(kind, exp.Reference):
                self.add_foreign_key(table, [column.name], kind, None)
            elif isinstance(kind, exp.CharacterSetColumnConstraint | exp.CollateColumnConstraint):
                self.note(f"{table.name}.{column.name}: {constraint.sql(dialect='mysql')} not "
                          "represented (the table's character set applies)")
            else:
                self.note(f"{table.name}.{column.name}: {constraint.sql(dialect='mysql')} not "
                          "represented")
        if position is None:
            table.columns.append(column)
        else:
            table.columns.insert(position, column)
        return column

    def add_element(self, table: Table, node: Any) -> None:
        from sqlglot import exp

        if isinstance(node, exp.PrimaryKey):
            table.primary_key = [_name(e) for e in node.expressions]
            for col in table.columns:
                if col.name in table.primary_key:
                    col.nullable = False
        elif isinstance(node, exp.UniqueColumnConstraint):
            target = node.this
            cols = [_name(e) for e in target.expressions] if isinstance(target, exp.Schema) else []
            name = target.this.name if isinstance(target, exp.Schema) and target.this else None
            table.uniques.append(Unique(name=name or self.free(table, cols[0]), columns=cols))
        elif isinstance(node, exp.IndexColumnConstraint):
            if node.args.get("kind"):
                self.note(f"{table.name}: skipped {node.args['kind']} index "
                          f"{node.this.name if node.this else ''}".rstrip())
                return
            self.add_index(table, node.this.name if node.this else None, node.expressions, False)
        elif isinstance(node, exp.Constraint):
            for inner in node.expressions:
                if isinstance(inner, exp.ForeignKey):
                    self.add_foreign_key(table, [_name(e) for e in inner.expressions],
                                         inner.args.get("reference"), node.this.name)
                elif isinstance(inner, exp.CheckColumnConstraint):
                    expr = inner.this
                    first = next((c.name for c in expr.find_all(exp.Column)), "")
                    table.checks.append(Check(name=node.this.name, column=first,
                                              expression=expr.sql(dialect="mysql")))
                elif isinstance(inner, exp.PrimaryKey | exp.UniqueColumnConstraint):
                    self.add_element(table, inner)
                else:
                    self.note(f"{table.name}: skipped constraint {node.this.name}")
        elif isinstance(node, exp.ForeignKey):
            self.add_foreign_key(table, [_name(e) for e in node.expressions],
                                 node.args.get("reference"), None)
        elif isinstance(node, exp.CheckColumnConstraint):
            first = next((c.name for c in node.this.find_all(exp.Column)), "")
            table.checks.append(Check(name=self.free(table, f"{table.name}_chk"), column=first,
                                      expression=node.this.sql(dialect="mysql")))
        else:
            self.note(f"{table.name}: skipped {node.sql(dialect='mysql')}")

    def add_foreign_key(self, table: Table, cols: list[str], ref: Any, name: str | None) -> None:
        target = ref.this
        options = " ".join(str(o).upper() for o in ref.args.get("options") or [])
        on_delete = OnDelete.restrict  # InnoDB's default is RESTRICT (same as NO ACTION)
        for phrase, action in _ON_DELETE.items():
            if f"ON DELETE {phrase}" in options:
                on_delete = action
        if "ON UPDATE" in options:
            self.note(f"{table.name}: ON UPDATE action of a foreign key not represented")
        number = len(table.foreign_keys) + 1
        table.foreign_keys.append(ForeignKey(
            name=name or f"{table.name}_ibfk_{number}", columns=cols,
            ref_table=target.this.name, ref_columns=[_name(e) for e in target.expressions],
            on_delete=on_delete,
        ))

    def add_index(self, table: Table, name: str | None, keys: list[Any], unique: bool) -> None:
        from sqlglot import exp

        columns = []
        for key in keys:
            desc = isinstance(key, exp.Ordered) and bool(key.args.get("desc"))
            inner = key.this if isinstance(key, exp.Ordered) else key
            if isinstance(inner, exp.Anonymous):  # name(10): a prefix of the column
                self.note(f"{table.name}: index {name or ''} on a prefix of {inner.name}: "
                          "read as the whole column")
                columns.append(IndexColumn(name=inner.name, desc=desc))
            elif isinstance(inner, exp.Column | exp.Identifier):
                columns.append(IndexColumn(name=inner.name, desc=desc))
            else:
                self.note(f"{table.name}: skipped index {name or ''} on an expression")
                return
        name = name or self.free(table, columns[0].name)
        if unique:
            table.uniques.append(Unique(name=name, columns=[c.name for c in columns]))
        else:
            table.indexes.append(Index(name=name, columns=columns))

    def create_index(self, node: Any) -> None:
        index = node.this
        table = self.table(index.args["table"].name)
        if table is None:
            return
        kind = str(node.args.get("kind_") or "")
        params = index.args.get("params")
        if "FULLTEXT" in kind or "SPATIAL" in kind:
            self.note(f"{table.name}: skipped {kind} index {index.name}")
            return
        self.add_index(table, index.name, params.args.get("columns") or [],
                       bool(node.args.get("unique")))

    # ----------------------------------------------------------------- ALTER TABLE

    def alter_table(self, node: Any) -> None:
        from sqlglot import exp

        table = self.table(node.this.name)
        if table is None:
            return
        for action in node.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                self.add_column(table, action)
            elif isinstance(action, exp.AddConstraint):
                for inner in action.expressions:
                    self.add_element(table, inner)
            elif isinstance(action, exp.ModifyColumn):
                source = action.args.get("rename_from")
                old = source.name if source is not None else action.this.this.name
                if self.replace_column(table, old, action.this) and old != action.this.this.name:
                    table.column(action.this.this.name).name = old
                    self.build.rename_column(table, old, action.this.this.name)
            elif isinstance(action, exp.RenameColumn):
                if self.column(table, action.this.name) is not None:
                    self.build.rename_column(table, action.this.name, action.args["to"].name)
            elif isinstance(action, exp.AlterRename):
                self.build.rename_table(table.name, action.this.name)
            elif isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() == "COLUMN":
                for col in action.args.get("tables") or []:
                    self.build.drop_column(table, col.name)
            elif isinstance(action, exp.Drop) and str(action.args.get("kind")).upper() in (
                "INDEX", "KEY", "FOREIGN KEY", "CONSTRAINT", "CHECK"
            ):
                for target in action.args.get("tables") or []:
                    self.drop_named(table, target.name)
            elif isinstance(action, exp.AlterColumn) and action.args.get("default") is not None:
                col = self.column(table, action.this.name)
                if col is not None:
                    col.default = default_of(action.args["default"])
            elif isinstance(action, exp.AlterColumn) and action.args.get("drop"):
                col = self.column(table, action.this.name)
                if col is not None:
                    col.default = None
            else:
                self.note(f"{table.name}: skipped ALTER TABLE {action.sql(dialect='mysql')}")

    def replace_column(self, table: Table, old: str, node: Any) -> bool:
        """MODIFY / CHANGE: the new definition takes the old column's place."""
        col = self.column(table, old)
        if col is None:
            return False
        position = table.columns.index(col)
        table.columns.remove(col)
        self.add_column(table, node, position)
        return True

    def drop_named(self, table: Table, name: str) -> None:
        """DROP INDEX / KEY / FOREIGN KEY / CHECK / CONSTRAINT name."""
        before = len(table.indexes)
        table.indexes = [i for i in table.indexes if i.name != name]
        if len(table.indexes) == before and not self.build.drop_constraint(table, name):
            self.note(f"{table.name}: no index or constraint {name} to drop")

    # ----------------------------------------------------------------- lookups

    def free(self, table: Table, base: str) -> str:
        """A name no other index or constraint of the table has: MySQL's `col`, `col_2`, ..."""
        taken = self.build.constraint_names(table)
        if base not in taken:
            return base
        n = 2
        while f"{base}_{n}" in taken:
            n += 1
        return f"{base}_{n}"



def _name(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Ordered):
        node = node.this
    return str(node.name)
