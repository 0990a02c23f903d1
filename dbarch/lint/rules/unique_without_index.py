"""L204 unique-without-index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, enums

from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import alter_commands, constraints, relation
from dbarch.lint.pg_fix import (
    alter_table,
    constraint_name,
    drop_constraint,
    object_name,
    outside_transaction,
    parse_one,
    quote_name,
    quote_qualified,
    range_var,
    script,
    to_sql,
    validate_constraint,
)
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement

_KINDS = {"CONSTR_UNIQUE": "UNIQUE", "CONSTR_PRIMARY": "PRIMARY KEY",
          "CONSTR_EXCLUSION": "EXCLUDE"}
_SERIAL = {"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"}


@register
class UniqueWithoutIndex(Rule):
    """ADD UNIQUE or PRIMARY KEY builds its index under ACCESS EXCLUSIVE: the table is offline.

    Why: adding a UNIQUE or PRIMARY KEY constraint builds a unique index over the whole table
    inside ALTER TABLE, which holds ACCESS EXCLUSIVE for the whole build: every query,
    SELECT included, waits. PostgreSQL has no NOT VALID for these constraints ("UNIQUE
    constraints cannot be marked NOT VALID"), so the only online path is to build the index
    first and attach it. A PRIMARY KEY also needs its columns NOT NULL; if they are not,
    attaching the index runs SET NOT NULL, a full scan under ACCESS EXCLUSIVE.

    Lock: ACCESS EXCLUSIVE on the table for the whole index build (blocks every read and
    write).

    Instead: build the unique index concurrently (outside a transaction block; SHARE UPDATE
    EXCLUSIVE, reads and writes continue), then attach it with USING INDEX, which only
    updates the catalog:

        CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
        ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;

    For a PRIMARY KEY on nullable columns, make them NOT NULL first without a long lock
    (PostgreSQL 12+: SET NOT NULL skips its scan when a validated CHECK proves it; the NOT
    VALID here is on that CHECK, which accepts it, never on the key):

        ALTER TABLE users ADD CONSTRAINT users_id_not_null CHECK (id IS NOT NULL) NOT VALID;
        ALTER TABLE users VALIDATE CONSTRAINT users_id_not_null;
        ALTER TABLE users ALTER COLUMN id SET NOT NULL;
        ALTER TABLE users DROP CONSTRAINT users_id_not_null;
        CREATE UNIQUE INDEX CONCURRENTLY users_pkey ON users (id);
        ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pkey;

    EXCLUDE constraints have neither USING INDEX nor NOT VALID: there is no online way to add
    one to a filled table; plan a maintenance window or enforce the rule in a trigger.

    Exempt: a table created earlier in the same migration.
    """

    code = "L204"
    name = "unique-without-index"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "ADD UNIQUE/PRIMARY KEY without USING INDEX builds the index under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = relation(stmt.node.get("relation"))
        if ctx.created_here(table):
            return
        found = [c for c in _added(stmt) if c.get("contype") in _KINDS and not c.get("indexname")]
        if not found:
            return
        kinds = sorted({_KINDS[c["contype"]] for c in found})
        if kinds == ["EXCLUDE"]:
            yield self.finding(
                stmt,
                f"ADD EXCLUDE on {table} builds its index under ACCESS EXCLUSIVE, and PostgreSQL "
                "has no USING INDEX or NOT VALID form for EXCLUDE: the table is blocked for the "
                "whole build; run it in a maintenance window",
                table=table,
                lock=ACCESS_EXCLUSIVE,
            )
            return
        yield self.finding(
            stmt,
            f"ADD {' / '.join(kinds)} on {table} builds a unique index under ACCESS EXCLUSIVE: "
            f"every read and write on {table} waits for the whole build (these constraints "
            "cannot be NOT VALID; build the index CONCURRENTLY and attach it USING INDEX)",
            table=table,
            lock=ACCESS_EXCLUSIVE,
            fix=_fix(stmt, ctx),
        )


def _added(stmt: Statement) -> Iterator[dict]:
    for cmd in alter_commands(stmt):
        definition = cmd.get("def") or {}
        if cmd.get("subtype") == "AT_AddConstraint" and "Constraint" in definition:
            yield definition["Constraint"]
        elif cmd.get("subtype") == "AT_AddColumn" and "ColumnDef" in definition:
            yield from constraints(definition["ColumnDef"])


def _fix(stmt: Statement, ctx: Context) -> str:
    """The statement without its keys, then per key: index CONCURRENTLY, attach USING INDEX."""
    tree = parse_one(stmt.text)
    table = _name(tree.relation)
    keep: list[Any] = []
    keys: list[Any] = []
    not_null: set[str] = set()  # columns this statement declares NOT NULL
    for cmd in tree.cmds or ():
        definition = cmd.def_
        if isinstance(definition, ast.Constraint) and _convertible(definition):
            keys.append(definition)
            continue
        if isinstance(definition, ast.ColumnDef):
            column = definition.colname
            rest = []
            for constraint in definition.constraints or ():
                if not _convertible(constraint):
                    rest.append(constraint)
                    continue
                constraint.keys = (ast.String(sval=column),)
                keys.append(constraint)
                if constraint.contype == enums.ConstrType.CONSTR_PRIMARY:
                    # the key's implicit NOT NULL stays on the new column
                    rest.append(ast.Constraint(contype=enums.ConstrType.CONSTR_NOTNULL))
            definition.constraints = tuple(rest) or None
            if _declares_not_null(definition):
                not_null.add(column)
        keep.append(cmd)
    lines: list[str] = []
    if keep:
        tree.cmds = tuple(keep)
        lines.append(to_sql(tree))
    for key in keys:
        lines += _attach(key, table, not_null, ctx)
    return script(*lines)


def _convertible(constraint: Any) -> bool:
    return (isinstance(constraint, ast.Constraint) and not constraint.indexname
            and constraint.contype in (enums.ConstrType.CONSTR_UNIQUE,
                                       enums.ConstrType.CONSTR_PRIMARY))


def _declares_not_null(column: Any) -> bool:
    type_names = [n.sval for n in (column.typeName.names if column.typeName else ())]
    if type_names and type_names[-1] in _SERIAL:
        return True
    return any(c.contype in (enums.ConstrType.CONSTR_NOTNULL, enums.ConstrType.CONSTR_IDENTITY)
               for c in column.constraints or ())


def _attach(key: Any, table: str, not_null: set[str], ctx: Context) -> list[str]:
    """NOT NULL first (primary key), the index built concurrently, then the constraint on it."""
    columns = [k.sval for k in key.keys or ()]
    primary = key.contype == enums.ConstrType.CONSTR_PRIMARY
    name = key.conname or constraint_name(table, key.contype.name, columns)
    lines: list[str] = []
    if primary:
        lines += _not_null_first([c for c in columns if c not in not_null], table, ctx)
    index = ast.IndexStmt(
        idxname=name, relation=range_var(table), accessMethod="btree",
        indexParams=tuple(ast.IndexElem(name=c, ordering=enums.SortByDir.SORTBY_DEFAULT,
                                        nulls_ordering=enums.SortByNulls.SORTBY_NULLS_DEFAULT)
                          for c in columns),
        indexIncludingParams=tuple(
            ast.IndexElem(name=c.sval, ordering=enums.SortByDir.SORTBY_DEFAULT,
                          nulls_ordering=enums.SortByNulls.SORTBY_NULLS_DEFAULT)
            for c in key.including or ()) or None,
        unique=True, concurrent=True)
    lines += [outside_transaction(ctx), _create_index(index, key) + ";"]
    attach = ast.Constraint(contype=key.contype, conname=name, indexname=name,
                            deferrable=key.deferrable, initdeferred=key.initdeferred)
    cmd = ast.AlterTableCmd(subtype=enums.AlterTableType.AT_AddConstraint, def_=attach,
                            behavior=enums.DropBehavior.DROP_RESTRICT)
    lines.append(to_sql(alter_table(table, cmd)) + ";")
    return lines


def _create_index(index: Any, key: Any) -> str:
    """CREATE INDEX with the key's NULLS NOT DISTINCT, WITH and TABLESPACE clauses.

    Printed in PostgreSQL's grammar order (INCLUDE, NULLS, WITH, TABLESPACE): pglast 8
    prints NULLS NOT DISTINCT after WITH, which PostgreSQL rejects.
    """
    base = to_sql(index)
    index.options = key.options
    with_options = to_sql(index)[len(base):]
    text = base + (" NULLS NOT DISTINCT" if key.nulls_not_distinct else "") + with_options
    if key.indexspace:
        text += f" TABLESPACE {quote_name(key.indexspace)}"
    return text


def _not_null_first(columns: list[str], table: str, ctx: Context) -> list[str]:
    """Make key columns NOT NULL without holding ACCESS EXCLUSIVE for a scan (PG 12+)."""
    if not columns:
        return []
    quoted = quote_qualified(table)
    bare = table.rsplit(".", 1)[-1]
    if ctx.pg_version < 12:
        return [f"-- PostgreSQL {ctx.pg_version}: SET NOT NULL scans under ACCESS EXCLUSIVE "
                "whatever you do; skip for columns already NOT NULL",
                *(f"ALTER TABLE {quoted} ALTER COLUMN {quote_name(c)} SET NOT NULL;"
                  for c in columns)]
    lines = [f"-- the key's columns must be NOT NULL; skip for columns already NOT NULL "
             f"({', '.join(columns)})"]
    for column in columns:
        check = object_name(bare, column, "not_null")
        lines += [
            f"ALTER TABLE {quoted} ADD CONSTRAINT {quote_name(check)} "
            f"CHECK ({quote_name(column)} IS NOT NULL) NOT VALID;",
            validate_constraint(table, check) + ";",
            f"ALTER TABLE {quoted} ALTER COLUMN {quote_name(column)} SET NOT NULL;",
            drop_constraint(table, check) + ";",
        ]
    return lines


def _name(rangevar: Any) -> str:
    schema = getattr(rangevar, "schemaname", None)
    return f"{schema}.{rangevar.relname}" if schema else str(rangevar.relname)
