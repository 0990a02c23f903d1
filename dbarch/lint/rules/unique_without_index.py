"""L204 unique-without-index."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import relation, strings, type_name, unwrap
from dbarch.lint.pg_constraint_edits import added_constraints, column_constraint_span
from dbarch.lint.pg_fix import drop_constraint, outside_transaction, script, validate_constraint
from dbarch.lint.pg_names import default_name, object_name, quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText

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
        if alter_table.added_contypes(stmt).isdisjoint(_KINDS):
            return
        table = relation(stmt.node.get("relation"))
        if ctx.created_here(table):
            return
        found = [c for c, _ in alter_table.added_constraints(stmt)
                 if c.get("contype") in _KINDS and not c.get("indexname")]
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


def _fix(stmt: Statement, ctx: Context) -> str:
    """The statement without its keys, then per key: index CONCURRENTLY, attach USING INDEX."""
    source = StatementText(stmt.text, stmt)
    table = relation(source.node.get("relation")) or ""
    not_null = _declared_not_null(source.node)
    keys: list[tuple[dict, str | None, str]] = []  # (constraint, its column, WITH clause)
    remaining = len(source.node.get("cmds") or [])
    for constraint, column in added_constraints(source.node):
        if not _convertible(constraint):
            continue
        if column is None:
            start = source.char(constraint.get("location", 0))
            end = source.item_end(start)
            keys.append((constraint, None, _with_clause(source, start, end)))
            add = source.previous_token(start)
            source.cut_item(add[0] if add else start, end)
            remaining -= 1
            continue
        start, end = column_constraint_span(source, constraint, column)
        keys.append((constraint, column["colname"], _with_clause(source, start, end)))
        if constraint["contype"] == "CONSTR_PRIMARY":
            # the key's implicit NOT NULL stays on the new column
            source.replace(start, end, "NOT NULL")
        else:
            prior = source.previous_token(start)
            source.replace(prior[1] if prior else start, end, "")
    lines = [source.result()] if remaining else []
    for constraint, column, options in keys:
        lines += _attach(constraint, column, options, table, not_null, ctx)
    return script(*lines)


def _convertible(constraint: dict) -> bool:
    return constraint.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and not (
        constraint.get("indexname"))


def _declared_not_null(node: dict) -> set[str]:
    """Columns this ALTER TABLE adds as NOT NULL (declared, serial, identity or primary key)."""
    out: set[str] = set()
    for constraint, column in added_constraints(node):
        if column is not None and constraint.get("contype") in (
                "CONSTR_NOTNULL", "CONSTR_IDENTITY", "CONSTR_PRIMARY"):
            out.add(column["colname"])
    for item in node.get("cmds") or []:
        definition = (unwrap(item)[1].get("def") or {}).get("ColumnDef")
        if definition and type_name(definition.get("typeName")) in _SERIAL:
            out.add(definition["colname"])
    return out


def _with_clause(source: StatementText, start: int, end: int) -> str:
    """The constraint's `WITH (storage parameters)` text, to carry over to its index."""
    tokens, depth = source.tokens, source.depth
    for i in range(source.token_at(start), len(tokens) - 1):
        if tokens[i][0] >= end:
            break
        if tokens[i][2] == "WITH" and tokens[i + 1][2] == "ASCII_40":
            for j in range(i + 2, len(tokens)):
                if depth[j] == depth[i] and tokens[j][2] == "ASCII_41":
                    return source.text[tokens[i][0]:tokens[j][1]]
    return ""


def _attach(constraint: dict, column: str | None, options: str, table: str,
            not_null: set[str], ctx: Context) -> list[str]:
    """NOT NULL first (primary key), the index built concurrently, then the constraint on it."""
    columns = strings(constraint.get("keys")) or ([column] if column else [])
    primary = constraint["contype"] == "CONSTR_PRIMARY"
    name = default_name(constraint, table, column)
    lines: list[str] = []
    if primary:
        lines += _not_null_first([c for c in columns if c not in not_null], table, ctx)
    index = (f"CREATE UNIQUE INDEX CONCURRENTLY {quote_name(name)} ON {quote_qualified(table)} "
             f"({', '.join(map(quote_name, columns))})")
    including = strings(constraint.get("including"))
    if including:
        index += f" INCLUDE ({', '.join(map(quote_name, including))})"
    if constraint.get("nulls_not_distinct"):
        index += " NULLS NOT DISTINCT"
    if options:
        index += f" {options}"
    if constraint.get("indexspace"):
        index += f" TABLESPACE {quote_name(constraint['indexspace'])}"
    kind = "PRIMARY KEY" if primary else "UNIQUE"
    attach = (f"ALTER TABLE {quote_qualified(table)} ADD CONSTRAINT {quote_name(name)} {kind} "
              f"USING INDEX {quote_name(name)}")
    if constraint.get("deferrable"):
        attach += " DEFERRABLE"
    if constraint.get("initdeferred"):
        attach += " INITIALLY DEFERRED"
    return [*lines, outside_transaction(ctx), index + ";", attach + ";"]


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

