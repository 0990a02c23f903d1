"""The safe SQL a PostgreSQL finding suggests, written by PostgreSQL's own grammar.

Rules read the libpg_query JSON tree, which is fast. Only when a rule fires is the statement
parsed again into pglast's AST, edited (NOT VALID set, a column constraint moved out, an
option dropped) and printed back by pglast's deparser, so a fix keeps the user's names,
quoting and clauses instead of being pasted together from strings.

Default names follow PostgreSQL's makeObjectName (src/backend/commands/indexcmds.c) and
ChooseConstraintName (src/backend/catalog/pg_constraint.c): a fix names the constraint or
index PostgreSQL would have created, so later migrations that refer to it still work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast, enums, parse_sql
from pglast.stream import RawStream, maybe_double_quote_name

from dbarch.lint.context import Context, migration_tools

NAMEDATALEN = 64  # PostgreSQL's identifier limit, including the terminating byte


def parse_one(text: str) -> Any:
    """The AST of a single statement's text (pglast nodes, editable)."""
    return parse_sql(text)[0].stmt


def to_sql(node: Any) -> str:
    """A pglast AST node printed as SQL, identifiers quoted where PostgreSQL needs it."""
    return str(RawStream()(node))


def quote_name(name: str) -> str:
    """An identifier quoted only where PostgreSQL needs it (`orders`, `"Order"`, `"user"`)."""
    return str(maybe_double_quote_name(name))


def script(*statements: str) -> str:
    """Statements (and `--` comment lines) joined into a runnable script, one per line."""
    lines = []
    for item in statements:
        text = item.strip()
        if not text:
            continue
        lines.append(text if text.startswith("--") or text.endswith(";") else f"{text};")
    return "\n".join(lines)


def object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's makeObjectName: `name1_name2_label`, the names cut to fit 63 bytes."""
    first = name1.encode()
    second = (name2 or "").encode()
    overhead = (1 if name2 else 0) + (len(label) + 1 if label else 0)
    available = NAMEDATALEN - 1 - overhead
    keep1, keep2 = len(first), len(second)
    # PostgreSQL shortens the longer name one byte at a time, so both keep a recognisable stem.
    while keep1 + keep2 > available:
        if keep1 > keep2:
            keep1 -= 1
        else:
            keep2 -= 1
    parts = [_clip(first, keep1)]
    if name2:
        parts.append(_clip(second, keep2))
    if label:
        parts.append(label)
    return "_".join(parts)


def _clip(data: bytes, length: int) -> str:
    """The first `length` bytes, never splitting a multibyte character (pg_mbcliplen)."""
    return data[:length].decode("utf-8", errors="ignore")


def column_addition(columns: Iterable[str]) -> str:
    """ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: names joined by `_`."""
    out = ""
    for column in columns:
        out = f"{out}_{column}" if out else column
        if len(out.encode()) >= NAMEDATALEN:
            break
    return out


def constraint_name(table: str, contype: str, columns: list[str]) -> str:
    """The name PostgreSQL gives an unnamed constraint of this kind on `table` (bare name).

    FOREIGN KEY → `t_a_b_fkey`; UNIQUE → `t_a_b_key`; PRIMARY KEY → `t_pkey`; CHECK →
    `t_col_check` when the expression reads one column, else `t_check`.
    """
    bare = table.rsplit(".", 1)[-1]
    if contype == "CONSTR_PRIMARY":
        return object_name(bare, None, "pkey")
    label = {"CONSTR_FOREIGN": "fkey", "CONSTR_UNIQUE": "key", "CONSTR_EXCLUSION": "excl"}.get(
        contype, "check")
    addition = column_addition(columns) if columns else None
    return object_name(bare, addition, label)


def option_on(params: list[dict[str, Any]] | None, name: str) -> bool:
    """Whether a DefElem option list (VACUUM, REINDEX) switches `name` on.

    `FULL` alone means true; `FULL false|off|0` means false, as defGetBoolean reads it.
    """
    for item in params or []:
        body = item.get("DefElem") or {}
        if body.get("defname") != name:
            continue
        arg = body.get("arg")
        if not arg:
            return True
        _, value = next(iter(arg.items()))
        text = str(next(iter(value.values()), "1")).lower() if value else "0"
        return text not in ("false", "off", "0", "no")
    return False


def range_var(name: str) -> ast.RangeVar:
    """A RangeVar for `schema.table` or `table` (names as PostgreSQL folded them)."""
    schema, _, relname = name.rpartition(".")
    return ast.RangeVar(relname=relname, schemaname=schema or None, inh=True,
                        relpersistence="p")


def alter_table(table: str, *cmds: ast.AlterTableCmd) -> ast.AlterTableStmt:
    """`ALTER TABLE table cmd, cmd …` as an AST node."""
    return ast.AlterTableStmt(relation=range_var(table), cmds=cmds,
                              objtype=enums.ObjectType.OBJECT_TABLE)


def validate_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table VALIDATE CONSTRAINT name`, quoted."""
    cmd = ast.AlterTableCmd(subtype=enums.AlterTableType.AT_ValidateConstraint, name=name,
                            behavior=enums.DropBehavior.DROP_RESTRICT)
    return to_sql(alter_table(table, cmd))


def drop_constraint(table: str, name: str) -> str:
    """`ALTER TABLE table DROP CONSTRAINT name`, quoted."""
    cmd = ast.AlterTableCmd(subtype=enums.AlterTableType.AT_DropConstraint, name=name,
                            behavior=enums.DropBehavior.DROP_RESTRICT)
    return to_sql(alter_table(table, cmd))


def next_transaction(ctx: Context) -> str:
    """A comment saying where a statement must go to run in a transaction of its own."""
    if ctx.explicit_transaction:
        return "-- after the COMMIT that ends this transaction block, in a transaction of its own:"
    if ctx.in_transaction:
        return (f"-- in the next migration ({ctx.tool} runs a whole migration in one "
                "transaction, which would still hold the lock taken above):")
    return "-- then, as a statement of its own (it commits before the next one starts):"


def outside_transaction(ctx: Context) -> str:
    """A comment saying how to run a statement outside any transaction block, for this file."""
    if ctx.explicit_transaction:
        return "-- outside BEGIN … COMMIT: after the COMMIT, not inside the block:"
    if ctx.in_transaction:
        about = migration_tools()[ctx.tool]["about"]
        return f"-- outside the transaction {ctx.tool} opens for the migration ({about}):"
    return ""


def quote_qualified(name: str) -> str:
    """`schema.table` with each part quoted where needed."""
    return ".".join(quote_name(part) for part in name.split("."))


def columns_read(expr: Any) -> list[str]:
    """The distinct column names an AST expression reads, in order of appearance."""
    seen: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, ast.ColumnRef):
            fields = [f.sval for f in node.fields or () if isinstance(f, ast.String)]
            if fields and fields[-1] not in seen:
                seen.append(fields[-1])
            return
        if isinstance(node, ast.Node):
            for attr in node:
                visit(getattr(node, attr))
        elif isinstance(node, tuple | list):
            for item in node:
                visit(item)

    visit(expr)
    return seen


def make_not_valid(text: str, contype: str) -> tuple[str, str, list[str]]:
    """An ALTER TABLE whose `contype` constraints (FOREIGN KEY or CHECK) are added NOT VALID.

    Unnamed constraints get the name PostgreSQL would choose; a constraint written on a new
    column (`ADD COLUMN c int REFERENCES t`), where NOT VALID is not allowed, moves into an
    `ADD CONSTRAINT … NOT VALID` of the same statement. Returns the statement's SQL, its
    table and the constraint names to VALIDATE afterwards.
    """
    tree = parse_one(text)
    table = _relation_name(tree.relation)
    wanted = enums.ConstrType[contype]
    names: list[str] = []
    cmds: list[Any] = []
    for cmd in tree.cmds or ():
        cmds.append(cmd)
        definition = cmd.def_
        if cmd.subtype == enums.AlterTableType.AT_AddConstraint and isinstance(
                definition, ast.Constraint) and definition.contype == wanted:
            if not definition.skip_validation:
                names.append(_not_valid(definition, table, []))
        elif cmd.subtype == enums.AlterTableType.AT_AddColumn and isinstance(
                definition, ast.ColumnDef):
            keep, moved = [], []
            for constraint in definition.constraints or ():
                (moved if constraint.contype == wanted else keep).append(constraint)
            if not moved:
                continue
            definition.constraints = tuple(keep) or None
            for constraint in moved:
                if wanted == enums.ConstrType.CONSTR_FOREIGN:
                    constraint.fk_attrs = (ast.String(sval=definition.colname),)
                names.append(_not_valid(constraint, table, [definition.colname]))
                cmds.append(ast.AlterTableCmd(subtype=enums.AlterTableType.AT_AddConstraint,
                                              def_=constraint,
                                              behavior=enums.DropBehavior.DROP_RESTRICT))
    tree.cmds = tuple(cmds)
    return to_sql(tree), table, names


def _not_valid(constraint: Any, table: str, columns: list[str]) -> str:
    """Mark a FOREIGN KEY or CHECK constraint NOT VALID, naming it as PostgreSQL would."""
    if not constraint.conname:
        if constraint.contype == enums.ConstrType.CONSTR_FOREIGN:
            columns = [f.sval for f in constraint.fk_attrs or ()]
        elif not columns:
            read = columns_read(constraint.raw_expr)
            columns = read if len(read) == 1 else []
        constraint.conname = constraint_name(table, constraint.contype.name, columns)
    constraint.skip_validation = True
    constraint.initially_valid = False
    return str(constraint.conname)


def _relation_name(rangevar: Any) -> str:
    schema = getattr(rangevar, "schemaname", None)
    name = str(getattr(rangevar, "relname", ""))
    return f"{schema}.{name}" if schema else name
