"""L407 drop-schema."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import script
from dbarch.lint.pg import strings, unwrap
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement


@register
class DropSchema(Rule):
    """Dropping a schema (a MySQL database) drops every table in it, with all their data.

    Why: `DROP SCHEMA s CASCADE` removes every table, view, sequence and function in the
    schema in one statement, and on MySQL/MariaDB `DROP DATABASE` (alias `DROP SCHEMA`) does
    the same without asking for CASCADE. Code still using any of them fails; the data is gone.
    Without CASCADE PostgreSQL refuses a schema that is not empty, which is the safe form.

    Lock: ACCESS EXCLUSIVE on every table in the schema, taken one by one, each queued behind
    the open transactions on it, with that table's traffic queued behind the drop.

    Instead: drop the tables one by one, each after the release that stopped using it (see
    L406), and drop the schema without CASCADE when it is empty:

        DROP TABLE billing.invoices;   -- after the release that stopped using it
        DROP SCHEMA billing;           -- refuses while anything is left in it

    Exempt: a schema created earlier in the same migration.
    """

    code = "L407"
    name = "drop-schema"
    severity = Severity.WARNING
    nodes = ("DropStmt", "Drop")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP SCHEMA / DROP DATABASE drops every table in it with its data"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for schema, cascade in _schemas(stmt):
            if schema.lower() in ctx.created_schemas:
                continue
            if stmt.dialect == POSTGRESQL and not cascade:
                # PostgreSQL refuses to drop a schema that still holds objects: nothing is lost
                continue
            what = "schema" if stmt.dialect == POSTGRESQL else "database"
            yield self.finding(
                stmt,
                f"dropping {what} {schema} drops every table, view and function in it with all "
                "their data; code still using any of them fails",
                fix=script(f"-- drop each table of {schema} after the release that stopped using "
                           "it, then the empty schema:",
                           f"DROP SCHEMA {schema}" if stmt.dialect == POSTGRESQL
                           else f"-- DROP DATABASE {schema} once SHOW TABLES FROM {schema} is "
                                "empty"),
            )


def _schemas(stmt: Statement) -> list[tuple[str, bool]]:
    node = stmt.node
    if stmt.dialect == POSTGRESQL:
        if node.get("removeType") != "OBJECT_SCHEMA":
            return []
        cascade = node.get("behavior") == "DROP_CASCADE"
        names = []
        for item in node.get("objects") or []:
            kind, body = unwrap(item)
            names.extend(strings(body.get("items")) if kind == "List" else strings([item]))
        return [(name, cascade) for name in names]
    from sqlglot import exp

    if (node.args.get("kind") or "").upper() not in ("DATABASE", "SCHEMA"):
        return []
    out = []
    for table in node.args.get("tables") or []:
        if isinstance(table, exp.Table):
            db = table.args.get("db")
            name = table.name or (db.name if db is not None else "")
            if name:
                out.append((name, True))
    return out
