"""L403 rename-schema."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.expand_contract import pg_name, script
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class RenameSchema(Rule):
    """Renaming a schema breaks every query that names it, in every running application.

    Why: `ALTER SCHEMA s RENAME TO t` moves every table, view, function and sequence at once.
    Code that qualifies names (`billing.invoices`), a search_path that lists the old name,
    functions whose bodies or `SET search_path` name it, and other services and reports all
    fail from the moment it commits until each of them is changed and redeployed.

    Lock: no table lock; it updates the catalog only, so it is instant. The danger is the
    names, not the lock.

    Instead: make the application reach the schema through search_path only, list both names
    there (a schema in search_path that does not exist is skipped), reconnect the pool, rename,
    and later drop the old name from search_path:

        ALTER ROLE app SET search_path = invoicing, billing, public;
        -- reconnect the application's pool; its queries use unqualified names
        ALTER SCHEMA billing RENAME TO invoicing;
        -- later:
        ALTER ROLE app SET search_path = invoicing, public;

    Functions with `SET search_path = billing` and views are not covered by this: find them
    first (`pg_proc.proconfig`, `pg_views.definition`).

    Exempt: a schema created earlier in the same migration.
    """

    code = "L403"
    name = "rename-schema"
    severity = Severity.ERROR
    nodes = ("RenameStmt",)
    summary = "ALTER SCHEMA ... RENAME breaks every query that names the schema"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        if node.get("renameType") != "OBJECT_SCHEMA":
            return
        old, new = node.get("subname", ""), node.get("newname", "")
        if old.lower() in ctx.created_schemas:
            return
        yield self.finding(
            stmt,
            f"renaming schema {old} to {new}: every query, search_path and function that names "
            f"{old} fails from the moment this commits until each is changed and redeployed",
            fix=script(
                f"ALTER ROLE <application role> SET search_path = {pg_name(new)}, "
                f"{pg_name(old)}, public",
                "-- reconnect the application's pool; queries use unqualified names",
                f"ALTER SCHEMA {pg_name(old)} RENAME TO {pg_name(new)}",
                "-- later, once nothing names the old schema:",
                f"ALTER ROLE <application role> SET search_path = {pg_name(new)}, public",
            ),
        )
