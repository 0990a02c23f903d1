"""L406 drop-table."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import drop_table
from dbarch.lint.locks import ACCESS_EXCLUSIVE, MYSQL_METADATA
from dbarch.lint.pg import strings, unwrap
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement


@register
class DropTable(Rule):
    """Dropping a table breaks code that still uses it, and its data cannot be brought back.

    Why: the application version running when the drop commits may still query the table;
    those queries fail with `relation "carts" does not exist`. The rows are gone: a rollback
    of the code does not restore them, only a backup does. With CASCADE, views and foreign
    keys that depend on the table disappear with it.

    Lock: ACCESS EXCLUSIVE on the table, and on PostgreSQL also on every table its foreign
    keys reference (their triggers are removed); queued behind any open transaction on any of
    them, with every later query on them queued behind it. MySQL/MariaDB take an exclusive
    metadata lock.

    Instead: first ship a release that no longer reads or writes the table and check that its
    statistics stop moving (`pg_stat_user_tables.seq_scan`, `idx_scan`, `n_tup_ins`), then
    drop it in a later migration, after a backup if the data may be wanted:

        SET lock_timeout = '2s';
        DROP TABLE carts;

    Exempt: a table created earlier in the same migration.
    """

    code = "L406"
    name = "drop-table"
    severity = Severity.WARNING
    nodes = ("DropStmt", "Drop")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP TABLE breaks code that still uses the table and loses its data"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tables = _postgresql(stmt) if stmt.dialect == POSTGRESQL else _mysql(stmt)
        for table in tables:
            if ctx.created_here(table):
                continue
            referenced = " and on each table its foreign keys reference" \
                if stmt.dialect == POSTGRESQL else ""
            yield self.finding(
                stmt,
                f"dropping table {table}: code still running that queries it fails, and its "
                f"rows are gone for good; the drop takes "
                f"{'ACCESS EXCLUSIVE' if stmt.dialect == POSTGRESQL else 'a metadata lock'} "
                f"on {table}{referenced}",
                table=table,
                lock=ACCESS_EXCLUSIVE if stmt.dialect == POSTGRESQL else MYSQL_METADATA,
                fix=drop_table(stmt.dialect, table),
            )


def _postgresql(stmt: Statement) -> list[str]:
    node = stmt.node
    if node.get("removeType") not in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
        return []
    tables = []
    for item in node.get("objects") or []:
        kind, body = unwrap(item)
        names = strings(body.get("items")) if kind == "List" else strings([item])
        if names:
            tables.append(".".join(names))
    return tables


def _mysql(stmt: Statement) -> list[str]:
    from sqlglot import exp

    node = stmt.node
    if (node.args.get("kind") or "").upper() != "TABLE" or node.args.get("temporary"):
        return []
    return [table.name for table in node.args.get("tables") or [] if isinstance(table, exp.Table)]
