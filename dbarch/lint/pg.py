"""Reading PostgreSQL parse trees (libpg_query JSON) for rules, and the context walk.

Field names are PostgreSQL's own (src/include/nodes/parsenodes.h): a node is
`{"NodeType": {fields}}` inside lists and a plain field dict once unwrapped. These helpers
keep the rules short and free of that wrapping.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.data_files import data_file
from dbarch.lint.statement import Statement

Node = dict[str, Any]


def unwrap(node: Node) -> tuple[str, Node]:
    """`{"Type": {...}}` → ("Type", {...})."""
    ((kind, body),) = node.items()
    return kind, body


def relation(rangevar: Node | None) -> str | None:
    """A RangeVar as `schema.table` (or `table`), names as PostgreSQL folds them."""
    if not rangevar:
        return None
    name = rangevar.get("relname", "")
    schema = rangevar.get("schemaname")
    return f"{schema}.{name}" if schema else name


def strings(items: list[Node] | None) -> list[str]:
    """A list of String nodes (qualified names, option lists) as Python strings."""
    out = []
    for item in items or []:
        kind, body = unwrap(item)
        if kind == "String":
            out.append(body.get("sval", ""))
    return out


def type_name(type_node: Node | None) -> str:
    """A TypeName as its catalog name without pg_catalog: `int4`, `varchar`, `timestamptz`."""
    if not type_node:
        return ""
    names = strings(type_node.get("names"))
    return names[-1] if names else ""


def type_mods(type_node: Node | None) -> list[int]:
    """The integer modifiers of a TypeName: varchar(20) → [20], numeric(10, 2) → [10, 2]."""
    mods = []
    for item in (type_node or {}).get("typmods") or []:
        kind, body = unwrap(item)
        if kind == "A_Const" and "ival" in body:
            mods.append(int(body["ival"].get("ival", 0)))
    return mods


def type_text(type_node: Node | None) -> str:
    """A TypeName for messages: `varchar(20)`, `numeric(10,2)`, `int4[]`."""
    name = type_name(type_node)
    mods = type_mods(type_node)
    text = f"{name}({','.join(map(str, mods))})" if mods else name
    if (type_node or {}).get("arrayBounds"):
        text += "[]"
    return text


def alter_commands(stmt: Statement) -> tuple[Node, ...]:
    """The AlterTableCmd bodies of an ALTER TABLE statement.

    Read once per statement (alter_table.commands) and shared: a dozen rules and the context
    walk ask for them in turn."""
    return alter_table.commands(stmt)


def constraints(column_def: Node) -> Iterator[Node]:
    """The Constraint bodies of a ColumnDef."""
    for item in column_def.get("constraints") or []:
        kind, body = unwrap(item)
        if kind == "Constraint":
            yield body


def walk(node: Any) -> Iterator[tuple[str, Node]]:
    """Every (node type, body) below `node`, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key[:1].isupper() and isinstance(value, dict):
                yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def function_names(expr: Any) -> Iterator[str]:
    """The names of the functions an expression calls (nextval, random, now …)."""
    for kind, body in walk(expr):
        if kind == "FuncCall":
            names = strings(body.get("funcname"))
            if names:
                yield names[-1].lower()


@cache
def volatile_functions() -> frozenset[str]:
    """Functions marked VOLATILE in PostgreSQL's catalog, from data/functions.yaml."""
    return frozenset(data_file("functions.yaml")["volatile"])


@cache
def non_volatile_functions() -> frozenset[str]:
    """Built-ins whose every overload is STABLE or IMMUTABLE, from data/functions.yaml."""
    return frozenset(data_file("functions.yaml")["non_volatile"])


def unknown_functions(expr: Any) -> list[str]:
    """Functions the expression calls that are not PostgreSQL built-ins: user-defined ones,
    VOLATILE unless their CREATE FUNCTION declared otherwise."""
    known = _known_functions()
    return sorted({name for name in function_names(expr) if name not in known})


@cache
def _known_functions() -> frozenset[str]:
    return volatile_functions() | non_volatile_functions()


def is_volatile(expr: Any) -> bool:
    """True when the expression calls a volatile function (a default that forces a rewrite)."""
    volatile = volatile_functions()
    return any(name in volatile for name in function_names(expr)) or bool(unknown_functions(expr))


def column_ref(expr: Any) -> str | None:
    """The column an expression is, when it is just a column reference."""
    if not isinstance(expr, dict):
        return None
    kind, body = unwrap(expr)
    if kind != "ColumnRef":
        return None
    names = strings(body.get("fields"))
    return names[-1] if names else None


def not_null_check_column(constraint: Node) -> str | None:
    """The column of a `CHECK (col IS NOT NULL)` constraint, else None."""
    if constraint.get("contype") != "CONSTR_CHECK":
        return None
    expr = constraint.get("raw_expr") or {}
    if "NullTest" not in expr:
        return None
    test = expr["NullTest"]
    if test.get("nulltesttype") != "IS_NOT_NULL":
        return None
    return column_ref(test.get("arg"))


def setting_value(node: Node) -> str:
    """The value of a SET statement as text ('' for RESET / DEFAULT)."""
    values = []
    for item in node.get("args") or []:
        kind, body = unwrap(item)
        if kind == "A_Const":
            for key in ("sval", "ival", "fval"):
                if key in body:
                    inner = body[key]
                    values.append(str(next(iter(inner.values()), "0")))
    return " ".join(values)


def advance_postgresql(ctx: Context, stmt: Statement) -> None:
    """The effects of a PostgreSQL statement on the migration's context."""
    node = stmt.node
    kind = stmt.kind
    if kind == "TransactionStmt":
        tx = node.get("kind", "")
        if tx in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            ctx.begin()
        elif tx in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE",
                    "TRANS_STMT_COMMIT_PREPARED"):
            ctx.end()
    elif kind == "VariableSetStmt":
        name = (node.get("name") or "").lower()
        if name in ("lock_timeout", "statement_timeout"):
            value = setting_value(node)
            enabled = node.get("kind") == "VAR_SET_VALUE" and value not in ("", "0")
            if node.get("is_local"):
                if not ctx.in_transaction:  # outside a block SET LOCAL has no effect at all
                    return
                if enabled and not getattr(ctx, name):
                    ctx.local_settings.add(name)
            setattr(ctx, name, enabled)
    elif kind in ("CreateStmt", "CreateTableAsStmt"):
        target = node.get("relation") or (node.get("into") or {}).get("rel")
        name = relation(target)
        if name:
            ctx.created_tables.add(name.lower().rsplit(".", 1)[-1])
    elif kind == "CreateSchemaStmt":
        ctx.created_schemas.add((node.get("schemaname") or "").lower())
    elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt"):
        names = strings(node.get("typeName") or node.get("domainname")) or [
            (node.get("typevar") or {}).get("relname", "")]
        ctx.created_types.add(names[-1].lower())
    elif kind == "IndexStmt":
        if node.get("idxname"):
            ctx.created_indexes.add(node["idxname"].lower())
    elif kind == "AlterTableStmt":
        _advance_alter(ctx, stmt)
    elif kind == "DropStmt" and node.get("removeType") == "OBJECT_TABLE":
        for item in node.get("objects") or []:
            kind_, body = unwrap(item)
            if kind_ == "List":
                names = strings(body.get("items"))
                if names:
                    ctx.created_tables.discard(names[-1].lower())


def _advance_alter(ctx: Context, stmt: Statement) -> None:
    table = (relation(stmt.node.get("relation")) or "").lower().rsplit(".", 1)[-1]
    for cmd in alter_commands(stmt):
        subtype = cmd.get("subtype")
        definition = cmd.get("def") or {}
        if subtype == "AT_AddColumn" and "ColumnDef" in definition:
            ctx.created_columns.add((table, definition["ColumnDef"].get("colname", "")))
        if subtype == "AT_AddConstraint" and "Constraint" in definition:
            constraint = definition["Constraint"]
            name = (constraint.get("conname") or "").lower()
            if name:
                ctx.created_constraints[name] = table
            if name and ctx.in_transaction:
                ctx.added_in_transaction[name] = table
            column = not_null_check_column(constraint)
            if column and not constraint.get("skip_validation"):
                ctx.not_null_checked.add((table, column.lower()))
            elif column and name:
                ctx.pending_not_null[name] = (table, column.lower())
        if subtype == "AT_ValidateConstraint":
            pending = ctx.pending_not_null.pop((cmd.get("name") or "").lower(), None)
            if pending:
                ctx.not_null_checked.add(pending)


def qualify_columns(expr: Any, prefix: str) -> Any:
    """A pglast AST expression with bare column references qualified (`a * 2` → `new.a * 2`),
    for moving a column expression into a row trigger. Edits `expr` in place and returns it."""
    from pglast import ast
    from pglast.visitors import Visitor

    class _Qualify(Visitor):  # type: ignore[misc]
        def visit_ColumnRef(self, ancestors: Any, node: Any) -> Any:
            if len(node.fields) == 1:
                return ast.ColumnRef(fields=(ast.String(sval=prefix), *node.fields))
            return None

    _Qualify()(expr)
    return expr
