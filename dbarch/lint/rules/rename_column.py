"""L401 rename-column."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.alter_targets import column_created_here, metadata_lock
from dbarch.lint.context import Context
from dbarch.lint.expand_contract import rename_column
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement


@register
class RenameColumn(Rule):
    """Renaming a column breaks every running instance of the application that uses it.

    Why: the rename is instant, but the application version that is running when it commits
    still reads and writes the old name. From that moment until every instance runs code that
    knows the new name, its queries fail with `column "total" does not exist` (an ORM that
    lists every column in its SELECT and INSERT fails on every query of the table). A rolling
    deploy cannot make the two steps atomic, and rolling the code back breaks it again.

    Lock: ACCESS EXCLUSIVE on the table (PostgreSQL; brief, catalog only, but it queues behind
    any open transaction on the table), an exclusive metadata lock on MySQL/MariaDB.

    Instead: expand and contract over three releases. Add the new column and keep the two in
    step with a trigger, backfill in batches, ship code that reads and writes the new name,
    then drop the trigger and the old column:

        ALTER TABLE orders ADD COLUMN amount numeric(12,2);  -- the type of total
        CREATE FUNCTION orders_total_amount_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN  -- amount has no default: set means the new code wrote it
            NEW.total := COALESCE(NEW.amount, NEW.total);
            NEW.amount := NEW.total;
          ELSIF NEW.total IS DISTINCT FROM OLD.total THEN
            NEW.amount := NEW.total;
          ELSIF NEW.amount IS DISTINCT FROM OLD.amount THEN
            NEW.total := NEW.amount;
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER orders_total_amount_sync BEFORE INSERT OR UPDATE ON orders
          FOR EACH ROW EXECUTE FUNCTION orders_total_amount_sync();
        -- backfill in batches of primary keys:
        UPDATE orders SET amount = total WHERE id BETWEEN 1 AND 10000 AND amount IS NULL;
        -- release: the application reads and writes amount; then, in a later migration:
        DROP TRIGGER orders_total_amount_sync ON orders;
        DROP FUNCTION orders_total_amount_sync();
        ALTER TABLE orders DROP COLUMN total;

    On MySQL/MariaDB the same with two one-line triggers (BEFORE INSERT, BEFORE UPDATE) that
    `SET NEW.amount = ...`, and `ADD COLUMN ..., ALGORITHM=INSTANT`.

    Exempt: a table or column created earlier in the same migration (nobody uses it yet).
    """

    code = "L401"
    name = "rename-column"
    severity = Severity.ERROR
    nodes = ("RenameStmt", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "RENAME COLUMN breaks the running application until every instance is redeployed"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        renames = _postgresql(stmt) if stmt.dialect == POSTGRESQL else _mysql(stmt)
        for table, old, new in renames:
            if ctx.created_here(table) or column_created_here(ctx, table, old):
                continue
            yield self.finding(
                stmt,
                f"renaming {table}.{old} to {new}: the application version running now still "
                f"uses {old}, and its queries on {table} fail from the moment this commits until "
                "every instance runs code that knows the new name",
                table=table,
                lock=metadata_lock(stmt.dialect),
                fix=rename_column(stmt.dialect, table, old, new),
                note="expand/contract: add the new column, keep both in step, backfill, switch "
                     "reads and writes, drop the old column in a later release",
            )


def _postgresql(stmt: Statement) -> list[tuple[str, str, str]]:
    node = stmt.node
    if node.get("renameType") != "OBJECT_COLUMN":
        return []
    table = relation(node.get("relation"))
    if not table:
        return []
    return [(table, node.get("subname", ""), node.get("newname", ""))]


def _mysql(stmt: Statement) -> list[tuple[str, str, str]]:
    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    table = table_of(stmt)
    if not table:
        return []
    out = []
    for action in actions(stmt):
        if isinstance(action, exp.RenameColumn):
            out.append((table, action.this.name, action.args["to"].name))
        elif isinstance(action, exp.ModifyColumn) and action.args.get("rename_from") is not None:
            old, new = action.args["rename_from"].name, action.this.name
            if old.lower() != new.lower():  # CHANGE a a … only redefines the column
                out.append((table, old, new))
    return out
