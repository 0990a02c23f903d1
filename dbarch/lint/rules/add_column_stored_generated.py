"""L305 add-column-stored-generated."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.added_columns import added_to_existing
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import constraints, unwrap
from dbarch.lint.pg_constraint_edits import column_constraint_span
from dbarch.lint.pg_fix import script
from dbarch.lint.pg_names import object_name, quote_name, quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.rules.change_column_type import qualified_text
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText


@register
class AddColumnStoredGenerated(Rule):
    """Adding a STORED generated column to an existing table rewrites the whole table.

    Why: PostgreSQL computes the expression for every existing row and writes it into a new
    copy of the table, rebuilding every index, while holding ACCESS EXCLUSIVE: reads and
    writes stop for the whole rewrite. PostgreSQL 12 to 17 only have STORED generated columns
    (VIRTUAL ones, computed on read, arrive in 18).

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write) for the whole rewrite.

    Instead: add a plain nullable column, keep it computed for new and changed rows with a
    BEFORE trigger, and fill existing rows in batches; or, when the value is only searched or
    sorted on, index the expression itself (CREATE INDEX CONCURRENTLY … ((price * qty)))
    and compute it in queries or a view.

        ALTER TABLE order_items ADD COLUMN total bigint;
        CREATE FUNCTION order_items_total_fill() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN new.total := new.price * new.qty; RETURN new; END $$;
        CREATE TRIGGER order_items_total_fill BEFORE INSERT OR UPDATE ON order_items
            FOR EACH ROW EXECUTE FUNCTION order_items_total_fill();
        UPDATE order_items SET total = price * qty WHERE id BETWEEN 1 AND 10000;  -- … batches

    The trigger column is writable, unlike a generated one; restrict writes in the application
    or revoke UPDATE on the column.

    Exempt: a table created earlier in the same migration.
    """

    code = "L305"
    name = "add-column-stored-generated"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "ADD COLUMN ... GENERATED ALWAYS AS (...) STORED rewrites the table"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if "CONSTR_GENERATED" not in alter_table.added_contypes(stmt):
            return
        for table, index, column in added_to_existing(stmt, ctx):
            stored = any(c.get("contype") == "CONSTR_GENERATED"
                         and c.get("generated_kind", "s") == "s" for c in constraints(column))
            if not stored:
                continue
            name = column.get("colname", "")
            yield self.finding(
                stmt,
                f"ADD COLUMN {name} GENERATED … STORED computes and writes it for every row of "
                f"{table}: a full rewrite under ACCESS EXCLUSIVE",
                table=table, lock=ACCESS_EXCLUSIVE, fix=_fix(stmt, index, table),
            )


def _fix(stmt: Statement, index: int, table: str) -> str:
    """A plain column filled by a BEFORE trigger, and existing rows in batches."""
    source = StatementText(stmt.text, stmt)
    _, cmd = unwrap(source.node["cmds"][index])
    definition = cmd["def"]["ColumnDef"]
    column = definition.get("colname", "")
    computed = in_trigger = ""
    for entry in definition.get("constraints") or []:
        _, constraint = unwrap(entry)
        if constraint.get("contype") not in ("CONSTR_GENERATED", "CONSTR_NOTNULL"):
            continue
        start, end = column_constraint_span(source, constraint, definition)
        if constraint.get("contype") == "CONSTR_GENERATED":
            # the expression is the parenthesised part of GENERATED ALWAYS AS ( … ) STORED
            opening = next(t for t in source.tokens if t[0] >= start and t[2] == "ASCII_40")
            closing = source.item_end(opening[1])
            computed = source.text[opening[1]:closing]
            in_trigger = qualified_text(source, constraint.get("raw_expr") or {},
                                        opening[1], closing)
        prior = source.previous_token(start)
        source.replace(prior[1] if prior else start, end, "")
    rel, col = quote_qualified(table), quote_name(column)
    bare = table.rsplit(".", 1)[-1]
    schema = f"{table.rsplit('.', 1)[0]}." if "." in table else ""
    function = quote_qualified(schema + object_name(bare, column, "fill"))
    trigger = quote_name(object_name(bare, column, "fill"))
    return script(
        source.result(),
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN new.{col} := {in_trigger}; RETURN new; END $$",
        f"CREATE TRIGGER {trigger} BEFORE INSERT OR UPDATE ON {rel} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        "-- existing rows in batches by primary key, one transaction each:",
        f"UPDATE {rel} SET {col} = {computed} WHERE id BETWEEN 1 AND 10000",
    )
