"""L905 identifier-too-long."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.data_files import data_file
from dbarch.lint.pg import strings
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement


@cache
def limits() -> dict[str, dict[str, Any]]:
    """Identifier limits per engine, from data/identifier_limits.yaml."""
    return data_file("identifier_limits.yaml")


@register
class IdentifierTooLong(Rule):
    """The name is longer than the engine keeps: PostgreSQL cuts it silently, MySQL refuses it.

    Why: PostgreSQL keeps 63 bytes of an identifier (NAMEDATALEN - 1) and truncates a longer
    one with only a NOTICE, where it is created and wherever it is referenced. The migration
    works, but two long names that share their first 63 bytes are now the same name (the
    second CREATE fails with "already exists", or an index name generated from them gets a
    suffix), and tools that compare the name they wrote with the catalog (ORM autogenerate,
    schema diffs) see a different object and try to create it again. Bytes, not characters:
    a name in a non-Latin script reaches the limit at 31 or 21 characters. MySQL and MariaDB
    accept 64 characters for tables, columns, indexes, constraints and databases, and fail
    the statement beyond that (ERROR 1059 "Identifier name ... is too long"; 1103 "Incorrect
    table name" for a table, 1102 for a database).

    Instead: pick a name that fits and write it yourself, so the catalog says what the code
    says:

        CREATE INDEX orders_customer_created_status_idx ON orders (customer_id, created_at, status);

    Off by default: enable it with `enable = ["L905"]`.
    """

    code = "L905"
    name = "identifier-too-long"
    severity = Severity.WARNING
    nodes = ("CreateStmt", "AlterTableStmt", "IndexStmt", "RenameStmt", "CreateSchemaStmt",
             "CreateSeqStmt", "ViewStmt", "CreateTableAsStmt", "CreateTrigStmt",
             "CreateEnumStmt", "CreateDomainStmt", "CreateFunctionStmt", "CompositeTypeStmt",
             "Create", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    default_enabled = False
    summary = "identifier over 63 bytes (PostgreSQL truncates silently) or 64 chars (MySQL fails)"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if stmt.dialect == POSTGRESQL:
            yield from self._postgresql(stmt)
        else:
            yield from self._mysql(stmt)

    def _postgresql(self, stmt: Statement) -> Iterator[Finding]:
        # PostgreSQL's scanner truncates identifiers before the parser sees them, so the tree
        # holds the 63-byte names; the full ones come from the statement's own tokens.
        limit = int(limits()["postgresql"]["max"])
        if stmt.text.isascii() and not _long_run(limit).search(stmt.text):
            return  # no name in the text is longer than the limit, quoted or not
        defined = {name: what for what, name in _pg_defined_names(stmt.kind, stmt.node, stmt)}
        # A cut name is within 3 bytes of the limit (a multibyte character is never split):
        # when no name the statement defines is that long, nothing was cut and the scan of
        # the statement's tokens, which is the expensive part, can be skipped.
        if not any(len(name) * 4 >= limit - 3 and len(name.encode("utf-8")) >= limit - 3
                   for name in defined):
            return
        seen = set()
        for name in _long_identifiers(stmt.text, limit):
            kept = truncate_bytes(name, limit)
            if kept not in defined or name in seen:
                continue
            seen.add(name)
            yield self.finding(
                stmt,
                f"{defined[kept]} name {name!r} is {len(name.encode('utf-8'))} bytes: "
                f"PostgreSQL keeps {limit} and silently stores it as {kept!r}",
                fix=_renamed(stmt.text, name, kept),
            )

    def _mysql(self, stmt: Statement) -> Iterator[Finding]:
        from sqlglot import exp

        limit = int(limits()["mysql"]["max"])
        errors = limits()["mysql"]["errors"]
        seen = set()
        for identifier in stmt.node.find_all(exp.Identifier):
            name = identifier.name
            if len(name) <= limit or name in seen:
                continue
            seen.add(name)
            yield self.finding(
                stmt,
                f"identifier {name!r} is {len(name)} characters: MySQL and MariaDB accept "
                f"{limit} and fail the statement ({errors})",
                severity=Severity.ERROR,
                fix=_renamed(stmt.text, name, name[:limit]),
            )


def _long_identifiers(text: str, limit: int) -> Iterator[str]:
    """Identifiers of the statement longer than `limit` bytes, as PostgreSQL reads them."""
    from pglast import parser

    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        return
    for token in tokens:
        if token.name != "IDENT":
            continue
        raw = text[token.start:token.end + 1]
        if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
            name = raw[1:-1].replace('""', '"')
        else:  # unquoted names fold ASCII letters only, as PostgreSQL's downcase_identifier
            name = "".join(c.lower() if c.isascii() else c for c in raw)
        if len(name.encode("utf-8")) > limit:
            yield name


@cache
def _long_run(limit: int) -> re.Pattern[str]:
    """In ASCII text: a run of identifier characters, or the inside of a double-quoted name
    ("" for one "), longer than `limit`. Every over-long identifier is one of these (a string
    or comment may be too: then the tokens are read)."""
    # the lookbehind tries each run once, from its start
    longer = limit + 1
    return re.compile(rf'(?<![A-Za-z0-9_$])[A-Za-z0-9_$]{{{longer}}}|"(?:[^"]|""){{{longer}}}')


def truncate_bytes(name: str, limit: int) -> str:
    """The name cut to `limit` bytes of UTF-8 without splitting a character, as PostgreSQL does."""
    return name.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _renamed(text: str, old: str, new: str) -> str:
    """The statement with the name written short (quoted or not), so nothing is cut silently."""
    pattern = re.compile(r'(?<![\w$])(["`]?)' + re.escape(old) + r'\1(?![\w$])',
                         re.IGNORECASE)
    body = text.strip().rstrip(";")
    return pattern.sub(lambda m: f"{m.group(1)}{new}{m.group(1)}", body, count=1) + ";"


def _pg_defined_names(kind: str, node: dict, stmt: Statement) -> Iterator[tuple[str, str]]:
    """(what, name) for each name a PostgreSQL statement creates (references are not judged:
    PostgreSQL truncates them the same way, so they still find the object)."""
    if kind == "CreateStmt":
        yield "table", (node.get("relation") or {}).get("relname", "")
        for item in node.get("tableElts") or ():
            column = item.get("ColumnDef")
            if column is not None:
                yield from _column_names(column)
            elif "Constraint" in item and item["Constraint"].get("conname"):
                yield "constraint", item["Constraint"]["conname"]
    elif kind == "AlterTableStmt":
        for cmd in alter_table.commands(stmt):
            definition = cmd.get("def") or {}
            if "ColumnDef" in definition:
                yield from _column_names(definition["ColumnDef"])
            elif "Constraint" in definition and definition["Constraint"].get("conname"):
                yield "constraint", definition["Constraint"]["conname"]
    elif kind == "IndexStmt" and node.get("idxname"):
        yield "index", node["idxname"]
    elif kind == "RenameStmt" and node.get("newname"):
        yield "new", node["newname"]
    elif kind == "CreateSchemaStmt" and node.get("schemaname"):
        yield "schema", node["schemaname"]
    elif kind == "CreateSeqStmt":
        yield "sequence", (node.get("sequence") or {}).get("relname", "")
    elif kind == "ViewStmt":
        yield "view", (node.get("view") or {}).get("relname", "")
    elif kind == "CreateTableAsStmt":
        yield "table", ((node.get("into") or {}).get("rel") or {}).get("relname", "")
    elif kind == "CreateTrigStmt" and node.get("trigname"):
        yield "trigger", node["trigname"]
    elif kind == "CompositeTypeStmt":
        yield "type", (node.get("typevar") or {}).get("relname", "")
    elif kind in _QUALIFIED:
        what, key = _QUALIFIED[kind]
        names = strings(node.get(key))
        if names:
            yield what, names[-1]


# statements whose new name is a qualified-name list: (what it names, field)
_QUALIFIED = {"CreateEnumStmt": ("type", "typeName"), "CreateDomainStmt": ("domain", "domainname"),
              "CreateFunctionStmt": ("function", "funcname")}


def _column_names(column: dict) -> Iterator[tuple[str, str]]:
    yield "column", column.get("colname", "")
    for entry in column.get("constraints") or ():
        constraint = entry.get("Constraint")
        if constraint and constraint.get("conname"):
            yield "constraint", constraint["conname"]
