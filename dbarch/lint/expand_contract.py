"""The expand/contract scripts lint findings suggest for renames and drops, per dialect.

A rename or a drop breaks the application version that is running while it commits. The safe
way is to spread the change over releases: expand (add the new name and keep both in step),
switch (ship code that uses the new name), contract (remove the old one once nothing running
uses it). These functions write that script with the statement's own names filled in; what
a linter cannot know (a column's type, the primary key) is left as a marked placeholder.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from dbarch.lint.statement import POSTGRESQL

# How long a migration statement may queue for its lock before giving up (and being retried).
LOCK_TIMEOUT = {POSTGRESQL: "SET lock_timeout = '2s'", "mysql": "SET SESSION lock_wait_timeout = 5"}
RETRY_NOTE = {
    POSTGRESQL: "retry the migration when it fails with lock_timeout (SQLSTATE 55P03) instead "
                "of letting traffic queue behind it",
    "mysql": "retry when it fails with ER_LOCK_WAIT_TIMEOUT (1205); the default "
             "lock_wait_timeout is a year on MySQL and a day on MariaDB",
}


# pglast.stream.maybe_double_quote_name's rule, without importing pglast's printers (slow)
_SIMPLE_NAME = re.compile(r"[a-z_][a-z0-9_]*$")


@lru_cache(maxsize=4096)
def pg_name(name: str) -> str:
    """An identifier quoted only where PostgreSQL needs it; `schema.table` part by part."""
    return ".".join(_quoted(part) for part in name.split("."))


def _quoted(name: str) -> str:
    if (not _SIMPLE_NAME.match(name) or name in RESERVED_KEYWORDS
            or name in TYPE_FUNC_NAME_KEYWORDS):
        return '"' + name.replace('"', '""') + '"'
    return name


def mysql_name(name: str) -> str:
    """A MySQL identifier, backquoted only where it needs it; `db.table` part by part."""
    return ".".join(part if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", part) else f"`{part}`"
                    for part in name.split("."))


def quote(dialect: str, name: str) -> str:
    """An identifier for `dialect`."""
    return pg_name(name) if dialect == POSTGRESQL else mysql_name(name)


def script(*steps: str) -> str:
    """Statements and `--` comments, one per line, each statement ending with `;`."""
    lines = []
    for step in steps:
        text = step.strip()
        if text:
            lines.append(text if text.startswith("--") or text.endswith(";") else f"{text};")
    return "\n".join(lines)


def with_lock_timeout(dialect: str, statement: str) -> str:
    """The statement preceded by the setting that stops it queueing traffic behind it."""
    return script(LOCK_TIMEOUT[dialect], statement)


def rename_column(dialect: str, table: str, old: str, new: str) -> str:
    """Rename `table.old` to `new` over three releases, both columns kept in step meanwhile.

    On INSERT the new column wins when it is set: it has no default, so a value there was
    written by the new release, while the old column may hold its DEFAULT (defaults are
    filled in before BEFORE triggers run). On UPDATE whichever column changed wins.
    """
    bare = table.rsplit(".", 1)[-1]
    sync = f"{bare}_{old}_{new}_sync"[:58]
    if dialect == POSTGRESQL:
        t, o, n, f = pg_name(table), pg_name(old), pg_name(new), pg_name(sync)
        return script(
            "-- release 1 (expand): the new column, kept in step with the old one",
            f"ALTER TABLE {t} ADD COLUMN {n} <type of {old}>",
            f"CREATE FUNCTION {f}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'INSERT' THEN NEW.{o} := COALESCE(NEW.{n}, NEW.{o}); NEW.{n} := NEW.{o}; "
            f"ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN NEW.{n} := NEW.{o}; "
            f"ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN NEW.{o} := NEW.{n}; "
            "END IF; RETURN NEW; END $$",
            f"CREATE TRIGGER {f} BEFORE INSERT OR UPDATE ON {t} "
            f"FOR EACH ROW EXECUTE FUNCTION {f}()",
            "-- backfill in batches of primary keys, one transaction each:",
            f"UPDATE {t} SET {n} = {o} WHERE id BETWEEN 1 AND 10000 AND {n} IS DISTINCT FROM {o}",
            f"-- release 2: the application reads and writes {new}",
            "-- release 3 (contract), in a later migration:",
            f"DROP TRIGGER {f} ON {t}",
            f"DROP FUNCTION {f}()",
            f"ALTER TABLE {t} DROP COLUMN {o}",
        )
    t, o, n = mysql_name(table), mysql_name(old), mysql_name(new)
    on_insert, on_update = mysql_name(f"{sync}_ins"), mysql_name(f"{sync}_upd")
    return script(
        "-- release 1 (expand): the new column, kept in step with the old one",
        f"ALTER TABLE {t} ADD COLUMN {n} <type of {old}>, ALGORITHM=INSTANT",
        f"CREATE TRIGGER {on_insert} BEFORE INSERT ON {t} FOR EACH ROW "
        f"SET NEW.{o} = COALESCE(NEW.{n}, NEW.{o}), NEW.{n} = NEW.{o}",
        f"CREATE TRIGGER {on_update} BEFORE UPDATE ON {t} FOR EACH ROW "
        f"SET NEW.{n} = IF(NEW.{o} <=> OLD.{o}, NEW.{n}, NEW.{o}), "
        f"NEW.{o} = IF(NEW.{n} <=> OLD.{n}, NEW.{o}, NEW.{n})",
        "-- backfill in batches of primary keys:",
        f"UPDATE {t} SET {n} = {o} WHERE id BETWEEN 1 AND 10000 AND NOT ({n} <=> {o})",
        f"-- release 2: the application reads and writes {new}",
        "-- release 3 (contract), in a later migration:",
        f"DROP TRIGGER {on_insert}",
        f"DROP TRIGGER {on_update}",
        f"ALTER TABLE {t} DROP COLUMN {o}",
    )


def rename_table(dialect: str, old: str, new: str, *, in_transaction: bool = False) -> str:
    """Rename a table while its old name keeps answering through an updatable view.

    PostgreSQL renames and creates the view in one transaction. MySQL commits each DDL
    statement, so the new name is created as a view first and one RENAME TABLE swaps view and
    table atomically. A view over one table accepts INSERT, UPDATE and DELETE.
    """
    if dialect == POSTGRESQL:
        o = pg_name(old)
        schema = old.rsplit(".", 1)[0] + "." if "." in old and "." not in new else ""
        n = pg_name(schema + new)
        steps = [] if in_transaction else ["BEGIN"]
        steps += ["SET LOCAL lock_timeout = '2s'",
                  f"ALTER TABLE {o} RENAME TO {pg_name(new.rsplit('.', 1)[-1])}",
                  f"CREATE VIEW {o} AS SELECT * FROM {n}"]
        steps += [] if in_transaction else ["COMMIT"]
        return script(*steps, f"-- release: the application uses {new}; then, in a later "
                      "migration:", f"DROP VIEW {o}")
    o, n = mysql_name(old), mysql_name(new)
    parked = mysql_name(f"{new.rsplit('.', 1)[-1]}_old_view"[:64])
    return script(
        f"CREATE VIEW {n} AS SELECT * FROM {o}",
        f"-- release: the application uses {new} (the view accepts writes); then:",
        f"RENAME TABLE {n} TO {parked}, {o} TO {n}",
        f"DROP VIEW {parked}",
    )


def drop_column(dialect: str, table: str, column: str) -> str:
    """Drop a column only after a release that no longer reads or writes it."""
    statement = f"ALTER TABLE {quote(dialect, table)} DROP COLUMN {quote(dialect, column)}"
    if dialect != POSTGRESQL:
        # instant on MySQL 8.0.29+ and MariaDB 10.4+; older servers refuse instead of copying
        statement += ", ALGORITHM=INSTANT"
    return script(
        f"-- release 1: the application stops reading and writing {column} (Rails: "
        f"self.ignored_columns += [\"{column}\"]; Django: remove the field with "
        "migrations.SeparateDatabaseAndState(state_operations=[RemoveField(...)]) so the "
        "column stays); if it is NOT NULL without a default, drop NOT NULL first so inserts "
        "that omit it still work",
        "-- release 2, once no running code knows the column:",
        LOCK_TIMEOUT[dialect],
        statement,
    )


def drop_table(dialect: str, table: str) -> str:
    """Drop a table only after a release that no longer uses it."""
    stats = ("pg_stat_user_tables: seq_scan, idx_scan, n_tup_ins" if dialect == POSTGRESQL
             else "performance_schema.table_io_waits_summary_by_table: COUNT_STAR")
    return script(
        f"-- release 1: the application no longer reads or writes {table}; confirm its "
        f"counters stop moving ({stats})",
        "-- release 2, after a backup if the rows may be wanted:",
        LOCK_TIMEOUT[dialect],
        f"DROP TABLE {quote(dialect, table)}",
    )
