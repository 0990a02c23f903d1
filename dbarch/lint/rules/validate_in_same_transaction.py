"""L203 validate-in-same-transaction."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from dbarch.lint.pg import alter_commands, relation
from dbarch.lint.pg_fix import next_transaction, script, validate_constraint
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement
from dbarch.lint.statement_text import StatementText

# What each ADD CONSTRAINT … NOT VALID locked, by (table, constraint), in one file's walk.
# The context says *whether* a constraint was added in the open transaction; it does not keep
# the constraint's kind, which decides the lock still held when VALIDATE runs.
_Added = dict[tuple[str, str], tuple[str, str | None]]

_ADD_OR_VALIDATE = frozenset({"AT_AddConstraint", "AT_ValidateConstraint"})


@register
class ValidateInSameTransaction(Rule):
    """VALIDATE CONSTRAINT in the transaction that added it NOT VALID keeps the strong lock on.

    Why: the point of NOT VALID is to split a constraint into a brief strong lock (the ADD)
    and a long scan under a weak one (VALIDATE, SHARE UPDATE EXCLUSIVE). Locks are held until
    the transaction ends, so a VALIDATE in the same transaction as its ADD scans the table
    while the ADD's lock is still held: ACCESS EXCLUSIVE for a CHECK (no reads or writes),
    SHARE ROW EXCLUSIVE on both tables for a FOREIGN KEY (no writes). It is as bad as adding
    the constraint without NOT VALID. The transaction may be BEGIN … COMMIT, one statement
    (`ADD … NOT VALID, VALIDATE …` in the same ALTER TABLE), or the one a migration tool
    (alembic, Flyway, golang-migrate) wraps around the file.

    Lock: the ADD's lock, held for the whole VALIDATE scan: ACCESS EXCLUSIVE (CHECK) or
    SHARE ROW EXCLUSIVE on both tables (FOREIGN KEY).

    Instead: commit between them; with a tool that wraps each migration in a transaction,
    put the VALIDATE in the next migration.

        ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
            FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
        COMMIT;
        ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;
    """

    code = "L203"
    name = "validate-in-same-transaction"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "VALIDATE CONSTRAINT in the same transaction as its ADD ... NOT VALID"

    def __init__(self) -> None:
        # The runner walks one file at a time, each with a Context of its own.
        self._walk: Context | None = None
        self._added: _Added = {}

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if self._walk is not ctx:
            self._walk, self._added = ctx, {}
        if alter_table.subtypes(stmt).isdisjoint(_ADD_OR_VALIDATE):
            return
        table = (relation(stmt.node.get("relation")) or "").lower().rsplit(".", 1)[-1]
        added = self._added
        here: set[str] = set()  # NOT VALID constraints added earlier in this same statement
        for cmd in alter_commands(stmt):
            subtype = cmd.get("subtype")
            constraint = (cmd.get("def") or {}).get("Constraint") or {}
            name = (constraint.get("conname") or cmd.get("name") or "").lower()
            if subtype == "AT_AddConstraint" and name:
                if constraint.get("skip_validation"):
                    pktable = relation(constraint.get("pktable"))
                    added[(table, name)] = (constraint.get("contype", ""), pktable)
                    here.add(name)
                else:
                    added.pop((table, name), None)
            elif subtype == "AT_ValidateConstraint" and name:
                same = name in here or ctx.added_in_transaction.get(name) == table
                if same and (table, name) in added:
                    yield self._finding(stmt, ctx, cmd.get("name") or name, added[(table, name)],
                                        name in here)

    def _finding(self, stmt: Statement, ctx: Context, name: str, kind: tuple[str, str | None],
                 one_statement: bool) -> Finding:
        table = relation(stmt.node.get("relation")) or ""
        contype, pktable = kind
        if contype == "CONSTR_FOREIGN":
            lock = SHARE_ROW_EXCLUSIVE
            held = f"SHARE ROW EXCLUSIVE on {table} and {pktable} (no writes to either)"
        else:
            lock = ACCESS_EXCLUSIVE
            held = f"ACCESS EXCLUSIVE on {table} (no reads or writes)"
        where = "the same ALTER TABLE" if one_statement else "the same transaction"
        first = _without_validate(stmt.text, name) if one_statement else ""
        return self.finding(
            stmt,
            f"VALIDATE CONSTRAINT {name} runs in {where} as the ADD … NOT VALID: the validation "
            f"scan runs while the ADD's lock is still held, {held}",
            table=table,
            lock=lock,
            fix=script(first, next_transaction(ctx), validate_constraint(table, name)),
        )


def _without_validate(text: str, name: str) -> str:
    """The ALTER TABLE without its VALIDATE CONSTRAINT of `name` (which moves after it)."""
    source = StatementText(text)
    tokens = source.tokens
    for i in range(len(tokens) - 2):
        if tokens[i][2] == "VALIDATE" and tokens[i + 1][2] == "CONSTRAINT":
            start, end, _ = tokens[i + 2]
            written = source.text[start:end]
            folded = written[1:-1].replace('""', '"') if written.startswith('"') else (
                written.lower())
            if folded == name:
                source.cut_item(tokens[i][0], end)
    return source.result()
