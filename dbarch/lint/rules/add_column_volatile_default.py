"""L303 add-column-volatile-default."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.added_columns import added_to_existing, non_null_default
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import function_names, unwrap
from dbarch.lint.pg import non_volatile_functions as non_volatile
from dbarch.lint.pg import volatile_functions as volatile
from dbarch.lint.pg_constraint_edits import column_constraint_span
from dbarch.lint.pg_fix import script
from dbarch.lint.pg_names import quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.set_not_null import not_null_steps
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText

# PostgreSQL 11 stores a non-volatile default in the catalog instead of writing it to each row.
FAST_DEFAULT_SINCE = 11


@register
class AddColumnVolatileDefault(Rule):
    """ADD COLUMN with a volatile DEFAULT (before PostgreSQL 11: any DEFAULT) rewrites the table.

    Why: a default that must be computed per row (`random()`, `gen_random_uuid()`,
    `clock_timestamp()`, `nextval()`) is written into every existing row: PostgreSQL rewrites
    the table and rebuilds all its indexes while holding ACCESS EXCLUSIVE, so reads and writes
    stop for the whole copy. A constant or a STABLE default such as `now()` is evaluated once
    and kept in the catalog (PostgreSQL 11+): no rewrite, every existing row reads the same
    value.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write) for the whole rewrite.

    Instead: add the column without a default, set the default for new rows in a second
    statement (both are catalog changes), then fill existing rows in batches:

        ALTER TABLE orders ADD COLUMN token uuid;
        ALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();
        UPDATE orders SET token = gen_random_uuid()
            WHERE token IS NULL AND id BETWEEN 1 AND 10000;   -- … every batch

    If the column must be NOT NULL, add that afterwards with the CHECK-first recipe (L301).

    Exempt: a table created earlier in the same migration; DEFAULT NULL.

    Versions: before PostgreSQL 11 every non-null DEFAULT on ADD COLUMN rewrites the table,
    constants included. A function that is not a PostgreSQL built-in (data/functions.yaml lists
    the built-ins by volatility) is taken as VOLATILE, PostgreSQL's own default for CREATE
    FUNCTION; a domain type with constraints also forces a rewrite, which dbarch cannot see.
    """

    code = "L303"
    name = "add-column-volatile-default"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "ADD COLUMN with a volatile DEFAULT rewrites the whole table"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if "CONSTR_DEFAULT" not in alter_table.added_contypes(stmt):
            return
        for table, index, column in added_to_existing(stmt, ctx):
            default = non_null_default(column)
            if default is None:
                continue
            name = column.get("colname", "")
            called = set(function_names(default))
            calls = sorted(called & volatile())
            # not a built-in: VOLATILE unless its CREATE FUNCTION said otherwise
            unknown = sorted(called - volatile() - non_volatile()) if called and not calls else []
            if calls:
                why = f"its DEFAULT calls volatile {', '.join(f'{c}()' for c in calls)}"
            elif unknown:
                why = (f"its DEFAULT calls {', '.join(f'{c}()' for c in unknown)}, not a "
                       "PostgreSQL built-in: functions are VOLATILE unless created STABLE or "
                       "IMMUTABLE (check with \\df+; if it is, suppress with the reason)")
            elif ctx.pg_version < FAST_DEFAULT_SINCE:
                why = (f"before PostgreSQL {FAST_DEFAULT_SINCE} every non-null DEFAULT is "
                       "written into each row")
            else:
                continue
            yield self.finding(
                stmt,
                f"ADD COLUMN {name} rewrites {table} under ACCESS EXCLUSIVE: {why}",
                table=table, lock=ACCESS_EXCLUSIVE, fix=_fix(stmt, index, table, ctx),
            )


def _fix(stmt: Statement, index: int, table: str, ctx: Context) -> str:
    """Add the column bare, set the default for new rows, fill old rows in batches."""
    source = StatementText(stmt.text, stmt)
    _, cmd = unwrap(source.node["cmds"][index])
    definition = cmd["def"]["ColumnDef"]
    column = definition.get("colname", "")
    expression = ""
    not_null = False
    for entry in definition.get("constraints") or []:
        _, constraint = unwrap(entry)
        contype = constraint.get("contype")
        if contype not in ("CONSTR_DEFAULT", "CONSTR_NOTNULL"):
            continue
        start, end = column_constraint_span(source, constraint, definition)
        if contype == "CONSTR_DEFAULT":
            keyword = next(t for t in source.tokens if t[0] >= start and t[2] == "DEFAULT")
            after = source.next_token(keyword[1])
            expression = source.text[after[0] if after else keyword[1]:end]
        else:
            not_null = True
        prior = source.previous_token(start)
        source.replace(prior[1] if prior else start, end, "")
    rel, col = quote_qualified(table), quote_name(column)
    steps = [
        source.result(),
        "-- new rows get the default from here on (a catalog change, no rewrite):",
        f"ALTER TABLE {rel} ALTER COLUMN {col} SET DEFAULT {expression}",
        "-- existing rows in batches by primary key, one transaction each:",
        f"UPDATE {rel} SET {col} = {expression} WHERE {col} IS NULL AND id BETWEEN 1 AND 10000",
    ]
    if not_null:
        steps += ["-- when every batch is done, NOT NULL without a long lock:",
                  *not_null_steps(table, column, ctx)]
    return script(*steps)
