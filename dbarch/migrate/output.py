"""A migration plan as files: `NN_phase.sql`, `NN_phase.rollback.sql`, `PLAN.md`, and as JSON.

The SQL files are what an operator runs, one phase at a time; PLAN.md (from the Jinja2
template `dbarch/report/templates/migration_plan.md.j2`) explains each phase: what it does,
which locks it takes, what the application must ship, and how to roll it back.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from dbarch.migrate.plan import MigrationPlan, Phase, PhaseName
from dbarch.migrate.statements import Sql

# What each phase is for, and what it may lock: printed in the SQL headers and in PLAN.md.
PURPOSE = {
    PhaseName.expand: "add what the target needs beside what the running application uses: "
                      "new tables, nullable columns, indexes CONCURRENTLY, constraints NOT "
                      "VALID, triggers that keep old and new columns in step",
    PhaseName.backfill: "fill the new columns and tables in batches keyed on the primary key, "
                        "each batch its own transaction, with a pause between batches",
    PhaseName.switch: "check the backfill is complete, build what the new application reads "
                      "through, then ship the application change",
    PhaseName.validate: "prove the new constraints on existing rows (VALIDATE CONSTRAINT, NOT "
                        "NULL through a validated CHECK) without blocking reads or writes",
    PhaseName.contract: "remove what nothing uses any more: old columns, triggers, views, "
                        "indexes and constraints; the point after which a rollback loses data "
                        "written only to the old shape",
}
RUN = {
    "postgresql": "psql -v ON_ERROR_STOP=1 -f {file}   (not --single-transaction: CREATE INDEX "
                  "CONCURRENTLY and the batched DO blocks must run outside a transaction block)",
    "mysql": "mysql --init-command='SET SESSION lock_wait_timeout = 5' < {file}",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("dbarch.report", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


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
    template = _environment().get_template("migration_plan.md.j2")
    return template.render(plan=plan, phases=numbered(plan), purpose=PURPOSE,
                           run=RUN[plan.dialect])


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
