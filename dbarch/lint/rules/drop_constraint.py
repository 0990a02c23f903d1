"""L408 drop-constraint."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint.alter_targets import existing_table_items, metadata_lock, named_subcommands
from dbarch.lint.context import Context
from dbarch.lint.expand_contract import LOCK_TIMEOUT, quote, script
from dbarch.lint.pg import relation
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import POSTGRESQL, Statement

_MYSQL_KINDS = {"FOREIGN KEY": "FOREIGN KEY", "CHECK": "CHECK", "CONSTRAINT": "CONSTRAINT"}
_CONSEQUENCES = {
    "PRIMARY KEY": ": its index goes with it, so lookups by the key scan the table and upserts "
                   "on it stop matching; adding it back rebuilds the table",
    "FOREIGN KEY": ": orphans can be written and cascades stop; adding it back checks every row",
    "CHECK": ": rows that break it can be written; adding it back checks every row",
    "CONSTRAINT": " (ON CONFLICT, its violation errors, cascades); a UNIQUE or PRIMARY KEY "
                  "takes its index with it, and adding any constraint back checks every row",
}


@register
class DropConstraint(Rule):
    """Dropping a constraint stops the database enforcing it, and putting it back is costly.

    Why: from the moment the drop commits, rows that break the rule can be written, and code
    that relied on it changes behaviour: `ON CONFLICT` on the columns of a UNIQUE or PRIMARY
    KEY fails (no arbiter index), handlers of its violation error never run, cascading deletes
    of a foreign key stop. Dropping a UNIQUE or PRIMARY KEY also drops its index, so queries
    that used it turn into scans. Re-adding the constraint later scans the table (and fails if
    bad rows arrived meanwhile).

    Lock: ACCESS EXCLUSIVE on the table on PostgreSQL, and for a foreign key also on the table
    it references; brief, but queued behind any open transaction on either, with their traffic
    queued behind it. MySQL/MariaDB take an exclusive metadata lock.

    Instead: check that nothing depends on it (`ON CONFLICT`, error handling, replication
    keys), keep a UNIQUE constraint's index if queries use it (create a plain index
    CONCURRENTLY first), and drop it with a lock_timeout. If it may have to come back, note the
    safe way to re-add it:

        SET lock_timeout = '2s';
        ALTER TABLE orders DROP CONSTRAINT orders_total_check;
        -- to restore without blocking: ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT

    Exempt: a table created earlier in the same migration, or a constraint added earlier in the
    same transaction.
    """

    code = "L408"
    name = "drop-constraint"
    severity = Severity.WARNING
    nodes = ("AlterTableStmt", "Alter")
    dialects = frozenset({"postgresql", "mysql"})
    summary = "DROP CONSTRAINT stops enforcing it at once; code relying on it changes behaviour"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        target = existing_table_items(stmt, ctx, "AT_DropConstraint", _postgresql, _mysql)
        if target is None:
            return
        table, dropped = target
        for kind, name in dropped:
            if name and (name.lower() in ctx.added_in_transaction
                         or name.lower() in ctx.created_constraints):
                continue  # added earlier in this migration (a helper CHECK): nobody relies on it
            label = f"{kind.lower()} {name}".strip() if name else kind.lower()
            yield self.finding(
                stmt,
                f"dropping {label} on {table}: the database stops enforcing it as soon as this "
                f"commits, and code that relies on it changes behaviour{_CONSEQUENCES[kind]}",
                table=table,
                lock=metadata_lock(stmt.dialect),
                fix=_fix(stmt.dialect, table, kind, name),
            )


def _fix(dialect: str, table: str, kind: str, name: str) -> str:
    if dialect == POSTGRESQL:
        drop = f"ALTER TABLE {quote(dialect, table)} DROP CONSTRAINT {quote(dialect, name)}"
        again = ("-- to restore it without blocking: ADD CONSTRAINT ... NOT VALID, then "
                 "VALIDATE CONSTRAINT (CHECK, FOREIGN KEY); CREATE UNIQUE INDEX CONCURRENTLY, "
                 "then ADD CONSTRAINT ... USING INDEX (UNIQUE, PRIMARY KEY)")
    else:
        target = "PRIMARY KEY" if kind == "PRIMARY KEY" else f"{kind} {quote(dialect, name)}"
        drop = f"ALTER TABLE {quote(dialect, table)} DROP {target}"
        again = "-- re-adding it later validates (or copies) the whole table"
    return script("-- first: nothing in the application relies on it any more",
                  LOCK_TIMEOUT[dialect], drop, again)


def _postgresql(stmt: Statement) -> tuple[str | None, list[tuple[str, str]]]:
    return relation(stmt.node.get("relation")), [
        ("CONSTRAINT", name) for name in named_subcommands(stmt, "AT_DropConstraint")]


def _mysql(stmt: Statement) -> tuple[str | None, list[tuple[str, str]]]:
    from sqlglot import exp

    from dbarch.lint.mysql import actions, table_of

    dropped = []
    for action in actions(stmt):
        if isinstance(action, exp.DropPrimaryKey):
            dropped.append(("PRIMARY KEY", ""))
        elif isinstance(action, exp.Drop):
            kind = _MYSQL_KINDS.get((action.args.get("kind") or "").upper())
            if kind:
                dropped.extend((kind, item.name) for item in action.args.get("tables") or [])
    return table_of(stmt), dropped
