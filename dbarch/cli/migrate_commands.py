"""`dbarch migrate`: plan a zero-downtime schema change, rehearse a migration under load.

The group and its two subcommands: plan compares two schemas (DDL files or live databases,
only read); rehearse runs a migration on a scratch database under a synthetic workload.
"""

from __future__ import annotations

import json

import click

from dbarch.cli import main
from dbarch.cli.conventions import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT,
    handles_errors,
    stderr_progress,
    stdout_console,
)


@main.group()
def migrate() -> None:
    """Zero-downtime migrations: plan a schema change, rehearse a migration under load."""


@migrate.command("rehearse")
@click.argument("migration", type=click.Path(dir_okay=False))
@click.option("--db", required=True, metavar="URL",
              help="A PostgreSQL database (postgresql://…): its schema is copied (pg_dump "
              "--schema-only) unless --schema is given, and its catalog gives the real table "
              "sizes to extrapolate to. Only read; the scratch database is made on its server "
              "unless --scratch is given.")
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False), metavar="FILE.sql",
              help="DDL to create the scratch schema from, instead of copying --db's.")
@click.option("--scratch", metavar="URL",
              help="A server to create the scratch database on (any database URL on it), when "
              "--db is a replica or a server that must not carry the rehearsal's load.")
@click.option("--rows", type=click.IntRange(min=1), default=None, metavar="N",
              help="Synthetic rows per table the migration touches.  [default: 200000]")
@click.option("--workers", type=click.IntRange(1, 64), default=None, metavar="N",
              help="Workload connections, each ~100 queries/s.  [default: 4]")
@click.option("--tolerance", "tolerance_ms", type=click.FloatRange(min=0), default=None,
              metavar="MS", help="A wait at least this long counts as blocked, as does any wait "
              "on a statement that scans or rewrites a table.  [default: 50]")
@FORMAT
@handles_errors
def migrate_rehearse(migration: str, db: str, schema_file: str | None, scratch: str | None,
                     rows: int | None, workers: int | None, tolerance_ms: float | None,
                     fmt: str) -> int:
    """Prove on a real PostgreSQL that MIGRATION does not block traffic, or show how it does.

    A scratch database (dbarch_rehearse_<random>) gets the schema and synthetic rows in the
    tables the migration touches; while worker connections read by primary key, insert and
    update those tables, the migration runs statement by statement and pg_locks is sampled
    every 5 ms. Per statement: the locks it took and how long it held them, the workload
    queries it made wait and the longest wait, whether it rewrote a table, and a verdict at
    the rehearsed size and, from --db's catalog, at the real size (an estimate). The scratch
    database is dropped at the end, on error and on Ctrl-C too.

    \b
      dbarch migrate rehearse 0042_orders.sql --db postgresql://app@localhost/shop
      dbarch migrate rehearse 0042.sql --db postgresql://ro@replica/shop \\
          --scratch postgresql://postgres@localhost/postgres --rows 1000000

    Exit code: 0 when no statement blocked the workload, 1 when one did (or would at the real
    size) or the migration failed, 2 on bad input or an unreachable server.
    """
    import signal

    from dbarch import api

    progress = stderr_progress(fmt)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a cancelled CI job: unwind, so the scratch database is dropped

    previous = signal.signal(signal.SIGTERM, interrupted)
    try:
        rehearsal = api.rehearse(migration, db, schema=schema_file, scratch=scratch, rows=rows,
                                 workers=workers, tolerance_ms=tolerance_ms, progress=progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if fmt == "json":
        click.echo(rehearsal.model_dump_json(indent=2))
    else:
        from dbarch.migrate.rehearse import show_rehearsal

        show_rehearsal(stdout_console(), rehearsal)
    return EXIT_OK if rehearsal.ok else EXIT_FINDINGS


@migrate.command("plan")
@click.option("--from", "source", required=True, metavar="DDL|URL",
              help="The schema now: a DDL file, or a database URL (postgresql://…, mysql://…) "
              "read with SQLAlchemy's inspector and never written.")
@click.option("--to", "target", required=True, metavar="DDL|URL",
              help="The schema wanted: a DDL file or a database URL.")
@click.option("-o", "--out", type=click.Path(file_okay=False),
              help="Write NN_phase.sql, NN_phase.rollback.sql and PLAN.md into this folder.")
@click.option("--dialect", type=click.Choice(["postgresql", "mysql", "mariadb"]), default=None,
              help="The SQL dialect of DDL files and of the plan.  [default: the URLs', else "
              "postgresql]")
@click.option("--rename", "renames", multiple=True, metavar="T.OLD=NEW|OLD=NEW",
              help="A rename the diff cannot tell from drop + add: table.old=new for a column, "
              "old=new for a table. Repeat for several.")
@click.option("--fill", "fills", multiple=True, metavar="T.COL=SQL",
              help="The value existing rows get where a column becomes NOT NULL, or the "
              "conversion of a type change, as SQL over the row's columns. Repeatable.")
@click.option("--pg-version", type=click.IntRange(9, 99), default=15, show_default=True,
              help="PostgreSQL major version the plan runs on.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Rows per backfill batch (one transaction each).")
@click.option("--pause", type=click.FloatRange(min=0), default=0.1, show_default=True,
              help="Seconds between backfill batches.")
@click.option("--lock-timeout", default="5s", show_default=True,
              help="How long a statement may wait for its lock before giving up.")
@FORMAT
@handles_errors
def migrate_plan(source: str, target: str, out: str | None, dialect: str | None,
                 renames: tuple[str, ...], fills: tuple[str, ...], pg_version: int,
                 batch_size: int, pause: float, lock_timeout: str, fmt: str) -> int:
    """Plan a zero-downtime migration from the schema --from to the schema --to.

    The two schemas are compared; each change becomes steps in five phases, each phase a SQL
    file with its rollback: expand (new tables, nullable columns, indexes CONCURRENTLY,
    constraints NOT VALID, triggers keeping old and new columns in step), backfill (batched,
    resumable, throttled, keyed on the primary key), switch (checks, then the application
    change to ship), validate (VALIDATE CONSTRAINT, NOT NULL through a validated CHECK),
    contract (drop what nothing uses). Renames and type changes always go through
    expand/contract. MySQL/MariaDB plans use online DDL and say where a copy is unavoidable.

    \b
      dbarch migrate plan --from schema_v1.sql --to schema_v2.sql -o plan/
      dbarch migrate plan --from postgresql://app@db/shop --to v2.sql \\
          --rename orders.total=amount_cents --fill orders.status="'new'"

    Exit code: 0 when the plan covers every difference, 1 when some are left out (listed,
    with why), 2 on bad input.
    """
    from dbarch import api

    plan, written = api.migrate_plan(source, target, dialect=dialect, renames=renames,
                                     fills=fills, out=out, pg_version=pg_version,
                                     batch_size=batch_size, pause=pause,
                                     lock_timeout=lock_timeout)
    if fmt == "json":
        from dbarch.migrate.output import plan_dict

        click.echo(json.dumps({**plan_dict(plan), "files": [str(p) for p in written]},
                              indent=2))
    else:
        from dbarch.migrate.output import plan_summary, plan_text

        click.echo(plan_summary(plan, written), nl=False)
        if out is None:
            click.echo(plan_text(plan), nl=False)
    return EXIT_FINDINGS if plan.unplanned else EXIT_OK
