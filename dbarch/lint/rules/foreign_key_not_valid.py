"""L201 foreign-key-not-valid."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from dbarch.lint.pg import relation
from dbarch.lint.pg_constraint_edits import make_not_valid
from dbarch.lint.pg_fix import next_transaction, script, validate_constraint
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement


@register
class ForeignKeyNotValid(Rule):
    """ADD FOREIGN KEY without NOT VALID blocks writes to both tables while every row is checked.

    Why: `ADD FOREIGN KEY` checks every existing row against the referenced table before it
    commits, and it holds SHARE ROW EXCLUSIVE on both tables for the whole check (it adds
    triggers to both). INSERT, UPDATE and DELETE on the referencing table and on the
    referenced one wait until the scan of the referencing table ends. Written on a new column
    (`ADD COLUMN … REFERENCES`), the check runs under the ACCESS EXCLUSIVE lock of ADD COLUMN,
    so reads of the table wait too.

    Lock: SHARE ROW EXCLUSIVE on the table and on the referenced table (blocks INSERT, UPDATE,
    DELETE on both; reads continue), ACCESS EXCLUSIVE on the table when added with a column.

    Instead: add it NOT VALID (enforced for new rows at once, no scan, a brief lock), then
    VALIDATE it in a separate transaction: VALIDATE takes SHARE UPDATE EXCLUSIVE on the table
    and ROW SHARE on the referenced one, so reads and writes continue during the scan.

        ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
            FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
        -- in a separate transaction:
        ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;

    Exempt: a table created earlier in the same migration (nothing to check yet).

    Versions: up to PostgreSQL 17, a partitioned table refuses NOT VALID foreign keys
    ("cannot add NOT VALID foreign key on partitioned table"); add the NOT VALID key to each
    partition, validate them, then add it to the parent, which then finds them valid.
    """

    code = "L201"
    name = "foreign-key-not-valid"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "ADD FOREIGN KEY without NOT VALID blocks writes to both tables during a full check"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if "CONSTR_FOREIGN" not in alter_table.added_contypes(stmt):
            return
        table = relation(stmt.node.get("relation"))
        if ctx.created_here(table):
            return
        referenced: list[str] = []
        with_column = False
        for constraint, column in alter_table.added_constraints(stmt):
            if not _validated_fk(constraint):
                continue
            with_column = with_column or column is not None
            name = relation(constraint.get("pktable")) or "?"
            if name not in referenced:
                referenced.append(name)
        if not referenced:
            return
        sql, names = make_not_valid(stmt.text, "CONSTR_FOREIGN", stmt)
        both = " and ".join(dict.fromkeys([table or "the table", *referenced]))
        lock = ACCESS_EXCLUSIVE if with_column else SHARE_ROW_EXCLUSIVE
        held = (f"ACCESS EXCLUSIVE on {table} (ADD COLUMN) and SHARE ROW EXCLUSIVE on "
                f"{', '.join(referenced)}" if with_column else f"SHARE ROW EXCLUSIVE on {both}")
        yield self.finding(
            stmt,
            f"FOREIGN KEY {', '.join(names)} is added without NOT VALID: every row of {table} "
            f"is checked against {', '.join(referenced)} while the statement holds {held}; "
            "writes to both tables wait for the whole scan",
            table=table,
            lock=lock,
            fix=script(sql, next_transaction(ctx),
                       *(validate_constraint(table or "", name) for name in names)),
        )


def _validated_fk(constraint: dict) -> bool:
    return constraint.get("contype") == "CONSTR_FOREIGN" and not constraint.get("skip_validation")
