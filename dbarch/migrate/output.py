"""A migration plan as files: `NN_phase.sql`, `NN_phase.rollback.sql`, `PLAN.md`, and as JSON.

The SQL files are what an operator runs, one phase at a time; PLAN.md (from the Jinja2
template `dbarch/report/templates/migration_plan.md.j2`) explains each phase: what it does,
which locks it takes, what the application must ship, and how to roll it back.
"""

from __future__ import annotations

from typing import Any

from dbarch.migrate.plan_model import MigrationPlan, Phase, PhaseName
from dbarch.migrate.statements import Sql

# What each phase is for, and what it may lock: printed in the SQL headers and in PLAN.md.
PURPOSE = {
    PhaseName.expand: "add what the target needs beside what the running application uses: "
                      "new tables, nullable columns, indexes built online, constraints added "
                      "without checking old rows, triggers that keep old and new columns in step",
    PhaseName.backfill: "fill the new columns and tables in batches keyed on the primary key, "
                        "each batch its own transaction, with a pause between batches",
    PhaseName.switch: "check the backfill is complete, build what the new application reads "
                      "through, then ship the application change",
    PhaseName.validate: "prove the new constraints and NOT NULLs on existing rows without "
                        "blocking reads or writes",
    PhaseName.contract: "remove what nothing uses any more: old columns, triggers, views, "
                        "indexes and constraints; the point after which a rollback loses data "
                        "written only to the old shape",
}
# Which locks each phase's statements take, and for how long.
LOCKS = {
    "postgresql": {
        PhaseName.expand: "ADD COLUMN, SET DEFAULT, CREATE TRIGGER, ADD CONSTRAINT … NOT VALID and "
                          "the rename-with-view take ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE for "
                          "a catalog update only (milliseconds, and never longer than "
                          "lock_timeout); CREATE INDEX CONCURRENTLY holds SHARE UPDATE EXCLUSIVE, "
                          "which lets reads and writes go on",
        PhaseName.backfill: "row locks only, on one batch at a time, each batch committed",
        PhaseName.switch: "the checks read (ACCESS SHARE); indexes are built CONCURRENTLY; a "
                          "column swap renames inside one short transaction (ACCESS EXCLUSIVE "
                          "for a catalog update)",
        PhaseName.validate: "VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE (reads and "
                            "writes go on); SET NOT NULL after a validated CHECK needs ACCESS "
                            "EXCLUSIVE only for a catalog update (PostgreSQL 12+)",
        PhaseName.contract: "DROP COLUMN, DROP TRIGGER and DROP CONSTRAINT take ACCESS EXCLUSIVE "
                            "for a catalog update (no rewrite); indexes are dropped CONCURRENTLY",
    },
    "mysql": {
        PhaseName.expand: "every ALTER names ALGORITHM=INSTANT or INPLACE with LOCK=NONE, so the "
                          "server refuses rather than copies; each still takes the table's "
                          "exclusive metadata lock briefly at its start and end (bounded by "
                          "lock_wait_timeout)",
        PhaseName.backfill: "row locks only, on one batch at a time, each batch committed",
        PhaseName.switch: "the checks only read; indexes are built in place (LOCK=NONE)",
        PhaseName.validate: "the checks only read; MODIFY … NOT NULL rebuilds the table in place "
                            "with LOCK=NONE",
        PhaseName.contract: "DROP COLUMN is INSTANT (MariaDB 10.4+, MySQL 8.0.29+), DROP INDEX "
                            "in place; each takes the metadata lock briefly",
    },
}
RUN = {
    "postgresql": "psql -v ON_ERROR_STOP=1 -f {file}   (not --single-transaction: CREATE INDEX "
                  "CONCURRENTLY and the batched DO blocks must run outside a transaction block)",
    "mysql": "mysql --init-command='SET SESSION lock_wait_timeout = 5' < {file}",
}


def numbered(plan: MigrationPlan) -> list[tuple[str, Phase]]:
    """The phases to run, each with its file stem (`01_expand`)."""
    return [(f"{i:02d}_{phase.name.value}", phase)
            for i, phase in enumerate(plan.active_phases(), start=1)]


def _script(plan: MigrationPlan, stem: str, phase: Phase, statements: list[Sql],
            rollback: bool) -> str:
    dialect = plan.dialect
    file = f"{stem}.rollback.sql" if rollback else f"{stem}.sql"
    head = [
        f"-- {file}: {'rollback of ' if rollback else ''}the {phase.name.value} phase of the "
        f"migration {plan.source} -> {plan.target} ({dialect}), written by dbarch migrate plan",
        f"-- {PURPOSE[phase.name]}" if not rollback else
        "-- undoes the phase's steps in reverse order; run the rollbacks of later phases first",
        "-- run: " + RUN[dialect].format(file=file),
    ]
    if phase.app and not rollback:
        head.append("-- then ship: " + "; ".join(phase.app))
    body = [s.render(dialect) for s in statements]
    if not statements:
        body = ["-- nothing to run in the database in this phase\n"]
    preamble = [s.render(dialect) for s in _preamble(plan)] if statements else []
    return "\n".join(head) + "\n\n" + "\n".join([*preamble, *body])


def _preamble(plan: MigrationPlan) -> list[Sql]:
    if plan.dialect == "mysql":
        from dbarch.migrate.mysql import MySqlWriter

        return MySqlWriter().preamble()
    from dbarch.migrate.postgresql import PostgresWriter

    return PostgresWriter(plan.options.lock_timeout).preamble()


def phase_sql(plan: MigrationPlan, stem: str, phase: Phase) -> str:
    """The SQL file of one phase."""
    return _script(plan, stem, phase, phase.statements(), rollback=False)


def rollback_sql(plan: MigrationPlan, stem: str, phase: Phase) -> str:
    """The rollback file of one phase."""
    return _script(plan, stem, phase, phase.rollback_statements(), rollback=True)


def plan_markdown(plan: MigrationPlan) -> str:
    """PLAN.md: the plan explained phase by phase."""
    from dbarch.report.documents import environment

    template = environment().get_template("migration_plan.md.j2")
    return template.render(plan=plan, phases=numbered(plan), purpose=PURPOSE,
                           locks=LOCKS[plan.dialect], run=RUN[plan.dialect])


def plan_files(plan: MigrationPlan) -> dict[str, str]:
    """Every file of the plan's folder, name → text."""
    files = {}
    for stem, phase in numbered(plan):
        files[f"{stem}.sql"] = phase_sql(plan, stem, phase)
        files[f"{stem}.rollback.sql"] = rollback_sql(plan, stem, phase)
    files["PLAN.md"] = plan_markdown(plan)
    return files


def plan_dict(plan: MigrationPlan) -> dict[str, Any]:
    """The plan as plain data, for `--format json`."""
    return {
        "source": plan.source,
        "target": plan.target,
        "dialect": plan.dialect,
        "operations": [op.as_dict() for op in plan.operations],
        "phases": [
            {
                "file": f"{stem}.sql",
                "rollback_file": f"{stem}.rollback.sql",
                "phase": phase.name.value,
                "purpose": PURPOSE[phase.name],
                "application": phase.app,
                "steps": [step.as_dict() for step in phase.steps],
            }
            for stem, phase in numbered(plan)
        ],
        "notes": plan.notes,
        "unplanned": plan.unplanned,
        "notices": plan.notices,
    }


def plan_summary(plan: MigrationPlan, written: list[Any]) -> str:
    """What the plan does, phase by phase, for the terminal."""
    lines = [f"{plan.source} -> {plan.target} ({plan.dialect}): "
             f"{len(plan.operations)} change(s) in {len(plan.active_phases())} phase(s)"]
    lines += [f"  - {op.describe()}" for op in plan.operations]
    for stem, phase in numbered(plan):
        count = len(phase.statements())
        lines.append(f"{stem}: {count} statement(s), {len(phase.steps)} step(s)")
        lines += [f"    ship: {item}" for item in phase.app]
    for note in plan.notes:
        lines.append(f"note: {note}")
    for notice in plan.notices:
        lines.append(f"skipped: {notice}")
    for item in plan.unplanned:
        lines.append(f"NOT PLANNED: {item}")
    if written:
        folder = written[0].parent
        lines.append(f"wrote {len(written)} files to {folder}/ (read PLAN.md first)")
    return "\n".join(lines) + "\n"


def plan_text(plan: MigrationPlan) -> str:
    """Every phase file and its rollback, one after the other (when no folder is given)."""
    parts = []
    for stem, phase in numbered(plan):
        parts.append(f"\n-- ==== {stem}.sql ====\n{phase_sql(plan, stem, phase)}")
        parts.append(f"\n-- ==== {stem}.rollback.sql ====\n{rollback_sql(plan, stem, phase)}")
    return "".join(parts)
