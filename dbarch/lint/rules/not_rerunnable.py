"""L906 not-rerunnable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.pg import alter_commands
from dbarch.lint.pg_spans import char_offset, statement_span, text_offset
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement
from dbarch.lint.statement_text import StatementText

# PostgreSQL statements with an IF [NOT] EXISTS form: node type → (flag field, what, clause)
_PG_FLAGS = {
    "CreateStmt": ("if_not_exists", "CREATE TABLE", "IF NOT EXISTS"),
    "IndexStmt": ("if_not_exists", "CREATE INDEX", "IF NOT EXISTS"),
    "CreateSchemaStmt": ("if_not_exists", "CREATE SCHEMA", "IF NOT EXISTS"),
    "CreateSeqStmt": ("if_not_exists", "CREATE SEQUENCE", "IF NOT EXISTS"),
    "CreateExtensionStmt": ("if_not_exists", "CREATE EXTENSION", "IF NOT EXISTS"),
    "CreateTableAsStmt": ("if_not_exists", "CREATE TABLE AS", "IF NOT EXISTS"),
    "ViewStmt": ("replace", "CREATE VIEW", "OR REPLACE"),
    "DropStmt": ("missing_ok", "DROP", "IF EXISTS"),
}
# ALTER TABLE subcommands with the same: subtype → (what, clause)
_PG_COMMANDS = {
    "AT_AddColumn": ("ADD COLUMN", "IF NOT EXISTS"),
    "AT_DropColumn": ("DROP COLUMN", "IF EXISTS"),
    "AT_DropConstraint": ("DROP CONSTRAINT", "IF EXISTS"),
}


@register
class NotRerunnable(Rule):
    """The statement fails when the migration runs a second time.

    Why: a migration that dies halfway (a lock timeout, a deploy killed, a statement that
    cannot run in a transaction) leaves the statements before the failure applied. Run again,
    CREATE TABLE fails with "already exists" and DROP with "does not exist", so someone edits
    the file or the database by hand, in production, under pressure. With IF [NOT] EXISTS each
    statement checks first and the whole file can simply be run again.

    Instead:

        CREATE TABLE IF NOT EXISTS audit_log (id bigint PRIMARY KEY, body jsonb NOT NULL);
        CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_log_body_idx ON audit_log USING gin (body);
        ALTER TABLE orders ADD COLUMN IF NOT EXISTS note text;
        DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;

    Checked on PostgreSQL: CREATE TABLE / INDEX / SCHEMA / SEQUENCE / EXTENSION / TABLE AS,
    CREATE VIEW (OR REPLACE), DROP of anything, and ALTER TABLE ADD COLUMN, DROP COLUMN, DROP
    CONSTRAINT. On MySQL/MariaDB: CREATE TABLE / DATABASE, CREATE VIEW (OR REPLACE) and DROP
    TABLE / VIEW / DATABASE, which both servers accept IF [NOT] EXISTS on (MariaDB also takes
    it on ADD COLUMN and indexes, MySQL 8.0 does not, so those are not flagged). Not flagged:
    ADD CONSTRAINT and CREATE TYPE, which have no IF NOT EXISTS (guard them in a DO block that
    checks pg_constraint / pg_type), and renames.

    Careful: CREATE INDEX CONCURRENTLY IF NOT EXISTS also skips an INVALID index left by a
    failed concurrent build; check pg_index.indisvalid and drop it first. CREATE INDEX IF NOT
    EXISTS needs an index name.

    Off by default: enable it with `enable = ["L906"]`.
    """

    code = "L906"
    name = "not-rerunnable"
    severity = Severity.WARNING
    nodes = (*_PG_FLAGS, "AlterTableStmt", "Create", "Drop")
    dialects = frozenset({"postgresql", "mysql"})
    default_enabled = False
    summary = "CREATE without IF NOT EXISTS / DROP without IF EXISTS fails when re-run"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        missing = _pg_missing(stmt) if stmt.dialect == POSTGRESQL else _mysql_missing(stmt)
        if not missing:
            return
        what = ", ".join(f"{name} without {clause}" for name, clause in missing)
        fix = _pg_fix(stmt) if stmt.dialect == POSTGRESQL else _mysql_fix(stmt)
        if stmt.kind == "IndexStmt" and not stmt.node.get("idxname"):
            fix = "-- name the index: CREATE INDEX IF NOT EXISTS requires one"
        verb = "fails" if len(missing) == 1 else "fail"
        yield self.finding(stmt, f"{what} {verb} when the migration is run again", fix=fix)


def _pg_missing(stmt: Statement) -> list[tuple[str, str]]:
    node = stmt.node
    if stmt.kind == "AlterTableStmt":
        out = []
        for cmd in alter_commands(stmt):
            known = _PG_COMMANDS.get(cmd.get("subtype", ""))
            if known and not cmd.get("missing_ok"):
                out.append(known)
        return out
    field, what, clause = _PG_FLAGS[stmt.kind]
    if node.get(field):
        return []
    if stmt.kind == "DropStmt":
        kind = (node.get("removeType") or "OBJECT_").removeprefix("OBJECT_").replace("_", " ")
        what = f"DROP {kind}"
    if stmt.kind == "CreateTableAsStmt" and node.get("objtype") == "OBJECT_MATVIEW":
        what = "CREATE MATERIALIZED VIEW"
    return [(what, clause)]


def _pg_fix(stmt: Statement) -> str | None:
    """The statement with every IF [NOT] EXISTS / OR REPLACE it lacks."""
    fix = _edited(stmt)
    return fix if fix is not None else _deparsed(stmt)


# Where the clause goes: after the keywords that open the statement. Only whitespace may
# separate them (a comment there sends the statement to the deparsing path).
_HEADS = {
    "CreateStmt": r"CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE",
    "CreateTableAsStmt": (r"CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?"
                          r"(?:TABLE|MATERIALIZED\s+VIEW)"),
    "CreateSeqStmt": r"CREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?SEQUENCE",
    "CreateSchemaStmt": r"CREATE\s+SCHEMA",
    "CreateExtensionStmt": r"CREATE\s+EXTENSION",
    "ViewStmt": r"CREATE",
}
_HEAD_PATTERNS = {kind: re.compile(pattern + r"(?=\s)", re.IGNORECASE)
                  for kind, pattern in _HEADS.items()}
# DROP's object words where they are not the removeType's name (OBJECT_MATVIEW …)
_DROP_WORDS = {"MATVIEW": "MATERIALIZED VIEW", "STATISTIC_EXT": "STATISTICS"}


def _edited(stmt: Statement) -> str | None:
    """The fix edited into the statement's own text; None when a form needs the deparser."""
    span = statement_span(stmt.text)
    if span is None:
        return None
    start, end = span
    text = stmt.text[:end]
    node = stmt.node
    if stmt.kind == "AlterTableStmt":
        inserts = _alter_inserts(stmt, text)
        if inserts is None:
            return None
    else:
        pattern = _head(stmt.kind, node)
        found = pattern.match(text, start) if pattern is not None else None
        if found is None:
            return None
        clause = "OR REPLACE" if stmt.kind == "ViewStmt" else _PG_FLAGS[stmt.kind][2]
        inserts = [(found.end(), f" {clause}")]
    for at, clause in sorted(inserts, reverse=True):
        text = text[:at] + clause + text[at:]
    return text[start:] + ";"


def _head(kind: str, node: dict[str, Any]) -> re.Pattern[str] | None:
    if kind in _HEAD_PATTERNS:
        return _HEAD_PATTERNS[kind]
    if kind == "IndexStmt":
        words = ["CREATE", *(["UNIQUE"] if node.get("unique") else []), "INDEX",
                 *(["CONCURRENTLY"] if node.get("concurrent") else [])]
    elif kind == "DropStmt":
        removed = (node.get("removeType") or "").removeprefix("OBJECT_")
        words = ["DROP", *_DROP_WORDS.get(removed, removed).split("_"),
                 *(["CONCURRENTLY"] if node.get("concurrent") else [])]
    else:
        return None
    return _compiled(" ".join(words))


@cache
def _compiled(words: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(map(re.escape, words.split())) + r"(?=\s)", re.IGNORECASE)


def _alter_inserts(stmt: Statement, text: str) -> list[tuple[int, str]] | None:
    """IF [NOT] EXISTS for each ADD COLUMN / DROP COLUMN / DROP CONSTRAINT that lacks it."""
    wanted = [(index, cmd) for index, cmd in enumerate(alter_table.commands(stmt))
              if cmd.get("subtype") in _PG_COMMANDS and not cmd.get("missing_ok")]
    if any(cmd.get("subtype") != "AT_AddColumn" for _, cmd in wanted):
        return _alter_inserts_by_tokens(stmt, text, dict(wanted))
    # ADD COLUMN only (the common case): the column's own location says where its name is.
    offset = text_offset(stmt)
    if offset is None:
        return None
    inserts = []
    for _, cmd in wanted:
        column = (cmd.get("def") or {}).get("ColumnDef") or {}
        at = char_offset(text, offset, column.get("location", -1))
        name = column.get("colname") or ""
        if at is None or not (text.startswith('"', at) or text[at:at + len(name)].lower()
                              == name.lower()):
            return None
        inserts.append((at, "IF NOT EXISTS "))
    return inserts


def _alter_inserts_by_tokens(stmt: Statement, text: str,
                             wanted: dict[int, dict[str, Any]]) -> list[tuple[int, str]] | None:
    """The same, located by PostgreSQL's scanner: DROP COLUMN and DROP CONSTRAINT carry no
    location in the tree. Subcommands are the comma-separated items after the table name."""
    source = StatementText(text)
    if source.text != text:
        return None
    relation = source.node.get("relation") or {}
    i = source.token_at(source.char(relation.get("location", 0)))
    tokens, depth = source.tokens, source.depth
    # the table name: name [. name …] [*]
    i += 1
    while i + 1 < len(tokens) and tokens[i][2] == "ASCII_46":
        i += 2
    if i < len(tokens) and tokens[i][2] == "ASCII_42":
        i += 1
    items: list[list[tuple[int, int, str]]] = [[]]
    for token, level in zip(tokens[i:], depth[i:], strict=True):
        if level == 0 and token[2] == "ASCII_44":
            items.append([])
        else:
            items[-1].append(token)
    commands = list(alter_table.commands(stmt))
    if len(items) != len(commands):
        return None
    inserts = []
    for index, cmd in wanted.items():
        words = [name for _, _, name in items[index][:2]]
        subtype = cmd.get("subtype")
        if subtype == "AT_AddColumn" and words[:1] == ["ADD_P"]:
            keyword = 1 if words[1:2] == ["COLUMN"] else 0
            inserts.append((items[index][keyword][1], " IF NOT EXISTS"))
        elif subtype == "AT_DropColumn" and words[:1] == ["DROP"]:
            keyword = 1 if words[1:2] == ["COLUMN"] else 0
            inserts.append((items[index][keyword][1], " IF EXISTS"))
        elif subtype == "AT_DropConstraint" and words == ["DROP", "CONSTRAINT"]:
            inserts.append((items[index][1][1], " IF EXISTS"))
        else:
            return None
    return inserts


def _deparsed(stmt: Statement) -> str | None:
    """The fix rebuilt by pglast's printer: slow, for the forms the text edit does not know."""
    import pglast
    from pglast import ast
    from pglast.stream import RawStream

    try:
        (raw,) = pglast.parse_sql(stmt.text)
    except (pglast.parser.ParseError, ValueError):
        return None
    node: Any = raw.stmt
    if isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if cmd.subtype.name in _PG_COMMANDS:
                cmd.missing_ok = True
    else:
        setattr(node, _PG_FLAGS[type(node).__name__][0], True)
    try:
        return RawStream()(node) + ";"
    except Exception:  # pglast refuses a few exotic trees; printing no fix beats a wrong one
        return None


_MYSQL_KINDS = {"TABLE", "VIEW", "DATABASE", "SCHEMA"}


def _mysql_missing(stmt: Statement) -> list[tuple[str, str]]:
    node = stmt.node
    kind = (node.args.get("kind") or "").upper()
    if kind not in _MYSQL_KINDS:
        return []
    if stmt.kind == "Create":
        if kind == "VIEW":
            return [] if node.args.get("replace") else [("CREATE VIEW", "OR REPLACE")]
        return [] if node.args.get("exists") else [(f"CREATE {kind}", "IF NOT EXISTS")]
    return [] if node.args.get("exists") else [(f"DROP {kind}", "IF EXISTS")]


def _mysql_fix(stmt: Statement) -> str:
    node = stmt.node.copy()
    if stmt.kind == "Create" and (node.args.get("kind") or "").upper() == "VIEW":
        node.set("replace", True)
    else:
        node.set("exists", True)
    return node.sql("mysql") + ";"
