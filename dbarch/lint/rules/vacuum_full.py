"""L105 vacuum-full."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import relation, strings
from dbarch.lint.pg_fix import option_on, script
from dbarch.lint.pg_names import quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class VacuumFull(Rule):
    """VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: nothing reads or writes it meanwhile.

    Why: VACUUM FULL copies every live row into a new file and rebuilds every index, holding
    ACCESS EXCLUSIVE on the table the whole time; it also needs free disk for the full copy.
    On a large table that is minutes to hours of every query on the table waiting.
    Without a table name it does this to every table in the database, one after another.

    Lock: ACCESS EXCLUSIVE on each table (blocks every read and write, SELECT included).

    Instead: a plain VACUUM marks dead space reusable without blocking reads or writes
    (SHARE UPDATE EXCLUSIVE). To give the space back to the operating system online, rewrite
    the table with pg_repack or pg_squeeze, which hold ACCESS EXCLUSIVE only for moments
    at the start and for the swap at the end.

        VACUUM (ANALYZE) orders;
        -- to shrink the file online, outside the migration: pg_repack --table=orders

    Exempt: a table created earlier in the same migration.
    """

    code = "L105"
    name = "vacuum-full"
    severity = Severity.ERROR
    nodes = ("VacuumStmt",)
    scales_with_table = True
    summary = "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        node = stmt.node
        if not node.get("is_vacuumcmd") or not option_on(node.get("options"), "full"):
            return
        tables = [relation((item.get("VacuumRelation") or {}).get("relation"))
                  for item in node.get("rels") or []]
        if not tables:
            yield self.finding(
                stmt,
                "VACUUM FULL without a table rewrites every table in the database, each under "
                "ACCESS EXCLUSIVE for its whole copy",
                lock=ACCESS_EXCLUSIVE,
                fix=_fix(stmt, None),
            )
            return
        for table in tables:
            if table is None or ctx.created_here(table):
                continue
            yield self.finding(
                stmt,
                f"VACUUM FULL {table} rewrites the table and rebuilds its indexes under ACCESS "
                f"EXCLUSIVE: every read and write on {table} waits until the copy finishes",
                table=table,
                lock=ACCESS_EXCLUSIVE,
                fix=_fix(stmt, table),
            )


def _fix(stmt: Statement, table: str | None) -> str:
    """The same VACUUM without FULL, for this table, and the online way to shrink the file."""
    options = [_option(item["DefElem"]) for item in stmt.node.get("options") or []
               if item.get("DefElem", {}).get("defname") != "full"]
    command = "VACUUM" + (f" ({', '.join(options)})" if options else "")
    for item in stmt.node.get("rels") or []:
        rel = item.get("VacuumRelation") or {}
        if relation(rel.get("relation")) == table:
            columns = strings(rel.get("va_cols"))
            command += f" {quote_qualified(table)}"
            if columns:
                command += f" ({', '.join(map(quote_name, columns))})"
    target = f"--table={table}" if table else "--all"
    return script(
        command,
        "-- to return the space to the operating system without a long lock, rewrite online "
        f"outside the migration: pg_repack {target}",
    )


def _option(defelem: dict) -> str:
    """A VACUUM option as written: `ANALYZE`, `PARALLEL 4`, `INDEX_CLEANUP off`."""
    name = str(defelem.get("defname", "")).upper()
    arg = defelem.get("arg")
    if not arg:
        return name
    _, value = next(iter(arg.items()))
    return f"{name} {next(iter(value.values()), 0) if value else 0}"
