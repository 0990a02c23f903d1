"""L502 set-logged-unlogged."""

from __future__ import annotations

from collections.abc import Iterator

from dbarch.lint import alter_table
from dbarch.lint.context import Context
from dbarch.lint.locks import ACCESS_EXCLUSIVE
from dbarch.lint.pg import alter_commands, relation
from dbarch.lint.pg_fix import script
from dbarch.lint.pg_names import quote_qualified
from dbarch.lint.rule import Finding, Rule, Severity, register
from dbarch.lint.statement import Statement

SUBTYPES = {"AT_SetLogged": "LOGGED", "AT_SetUnLogged": "UNLOGGED"}


@register
class SetLoggedUnlogged(Rule):
    """ALTER TABLE ... SET LOGGED / SET UNLOGGED rewrites the whole table.

    Why: the persistence of a table is a property of its files, so PostgreSQL copies the table
    and all its indexes into new files under ACCESS EXCLUSIVE; SET LOGGED also writes the whole
    table to the WAL (and so to every replica) at once. Reads and writes stop for the whole
    copy. An UNLOGGED table is emptied after a crash and is not replicated: on a standby or
    after a failover it is empty.

    Lock: ACCESS EXCLUSIVE on the table (blocks every read and write) for the whole rewrite.

    Instead: there is no online form. Build the table with the persistence you want beside the
    old one, copy the rows in batches while a trigger copies new writes, then swap the names
    in one short transaction:

        CREATE UNLOGGED TABLE events_new (LIKE events INCLUDING ALL);
        -- trigger on events copying new writes; INSERT … SELECT in batches by id; then:
        BEGIN;
        ALTER TABLE events RENAME TO events_old;
        ALTER TABLE events_new RENAME TO events;
        COMMIT;

    or run the statement in a maintenance window sized by the table (with `--db` dbarch
    reports the size).

    Views, foreign keys and grants follow the old table through a rename: recreate them on the
    new one before the swap.

    Exempt: a table created earlier in the same migration (an empty table is copied in no
    time).
    """

    code = "L502"
    name = "set-logged-unlogged"
    severity = Severity.ERROR
    nodes = ("AlterTableStmt",)
    scales_with_table = True
    summary = "SET LOGGED/UNLOGGED rewrites the table under ACCESS EXCLUSIVE"

    def check(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if alter_table.subtypes(stmt).isdisjoint(SUBTYPES):
            return
        table = relation(stmt.node.get("relation"))
        if table is None or ctx.created_here(table):
            return
        for cmd in alter_commands(stmt):
            persistence = SUBTYPES.get(cmd.get("subtype", ""))
            if persistence is None:
                continue
            extra = (" and writes all of it to the WAL (every replica receives the copy)"
                     if persistence == "LOGGED" else
                     "; once UNLOGGED it is emptied after a crash and absent on replicas")
            yield self.finding(
                stmt,
                f"SET {persistence} rewrites {table} and its indexes under ACCESS "
                f"EXCLUSIVE{extra}",
                table=table, lock=ACCESS_EXCLUSIVE, fix=_fix(table, persistence),
            )


def _fix(table: str, persistence: str) -> str:
    old = quote_qualified(table)
    bare = table.rsplit(".", 1)[-1]
    schema = f"{table.rsplit('.', 1)[0]}." if "." in table else ""
    new = quote_qualified(f"{schema}{bare}_new")
    create = "CREATE UNLOGGED TABLE" if persistence == "UNLOGGED" else "CREATE TABLE"
    return script(
        f"{create} {new} (LIKE {old} INCLUDING ALL)",
        f"-- a trigger on {old} copying new writes to {new}, then copy in batches by primary key:",
        f"INSERT INTO {new} SELECT * FROM {old} WHERE id BETWEEN 1 AND 10000 "
        "ON CONFLICT DO NOTHING",
        "-- then swap the names in one short transaction:",
        "BEGIN",
        f"ALTER TABLE {old} RENAME TO {bare}_old",
        f"ALTER TABLE {new} RENAME TO {bare}",
        "COMMIT",
    )
