"""L906 not-rerunnable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbarch.lint.context import Context
from dbarch.lint.pg import alter_commands
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement

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
    """The statement with every IF [NOT] EXISTS / OR REPLACE it lacks, deparsed by pglast."""
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
