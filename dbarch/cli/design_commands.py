"""The spec-to-architecture commands: recommend, design, verify, and the spec group.

They read a Spec (`dbarch/spec/`) and the designs made from it; the commands that read an
existing system (lint, migrate, review, indexes, shard) live in their own modules.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dbarch.cli import main
from dbarch.cli.conventions import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT,
    handles_errors,
    stdout_console,
)

ENGINE_HELP = (
    "A database URL to verify on; repeat for several: sqlite:// (in memory), "
    "sqlite:///path.db, postgresql://user@host/db, mysql://user@host/db (MySQL or MariaDB)."
)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@FORMAT
@handles_errors
def recommend(spec: str, fmt: str) -> int:
    """Choose the database for each part of the workload in SPEC, with reasons.

    Every paradigm (relational, document, key-value, graph, time-series, search, blob) is scored
    from signals in the spec; the workload stays in one database unless a dedicated one gains
    more than the cost of operating it, and each decision names the alternatives it rejected.
    """
    from dbarch import api

    decisions = api.recommend(spec)
    if fmt == "json":
        click.echo(decisions.model_dump_json(indent=2))
    else:
        from dbarch.console import show_decisions

        show_decisions(stdout_console(), decisions)
    return EXIT_OK


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--out", type=click.Path(file_okay=False), required=True,
              help="The folder to write ARCHITECTURE.md, adr/, schema/, diagrams/ into.")
@click.option("--engine", "engines", multiple=True, metavar="URL",
              help=ENGINE_HELP + " Default: sqlite:// only.")
@click.option("--no-verify", is_flag=True, help="Write the artifacts without running them.")
@FORMAT
@handles_errors
def design(spec: str, out: str, engines: tuple[str, ...], no_verify: bool, fmt: str) -> int:
    """Design the data architecture for SPEC and write it to OUT.

    \b
    OUT/ARCHITECTURE.md       the architecture document (eight sections)
    OUT/adr/NNNN-*.md         one decision record per significant choice
    OUT/schema/*.sql          DDL for PostgreSQL, MySQL/MariaDB, SQLite
    OUT/diagrams/er.mmd       the ER diagram (Mermaid)
    OUT/design.json           the design as data, read by `dbarch verify`

    The DDL is applied to an in-memory SQLite and every read access pattern is run through
    EXPLAIN before the document is written; add --engine to prove it on more engines.
    """
    from dbarch import api

    urls = [] if no_verify else (list(engines) or None)
    result, report, written = api.design(spec, out, urls)
    failed = report is not None and not report.ok
    if fmt == "json":
        click.echo(json.dumps({
            "out": out,
            "files": [str(p) for p in written],
            "decisions": result.decisions.model_dump(mode="json"),
            "verification": report.model_dump(mode="json") if report else None,
        }, indent=2))
    else:
        from dbarch.console import show_parts, show_verification, show_written

        console = stdout_console()
        show_parts(console, result.decisions)
        if report:
            show_verification(console, report)
        show_written(console, Path(out), written)
    return EXIT_FINDINGS if failed else EXIT_OK


@main.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--engine", "engines", multiple=True, metavar="URL",
              help=ENGINE_HELP + " Default: SQLite, plus the local PostgreSQL and MariaDB "
              "servers when they answer.")
@FORMAT
@handles_errors
def verify(out: str, engines: tuple[str, ...], fmt: str) -> int:
    """Prove the design in OUT on real engines.

    Applies the DDL, loads synthetic rows shaped by the spec (foreign keys valid, volumes scaled
    down), runs ANALYZE, then EXPLAINs every read access pattern: each must use the index designed
    for it. Exit code 1 when any engine refuses the DDL or any pattern misses its index.
    """
    from dbarch import api

    urls = list(engines) or api.default_engines()
    report = api.verify(out, urls)
    if fmt == "json":
        click.echo(report.model_dump_json(indent=2))
    else:
        from dbarch.console import show_verification

        show_verification(stdout_console(), report)
    return EXIT_OK if report.ok else EXIT_FINDINGS


@main.group()
def spec() -> None:
    """The requirements spec: its JSON Schema, and checking a spec file."""


@spec.command("schema")
@handles_errors
def spec_schema() -> int:
    """Print the spec's JSON Schema, for editors that complete and check YAML.

    \b
      dbarch spec schema > dbarch-spec.schema.json
    then, with the VS Code YAML extension, start a spec with:
      # yaml-language-server: $schema=./dbarch-spec.schema.json
    """
    from dbarch.spec import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2))
    return EXIT_OK


@spec.command("check")
@click.argument("spec_file", type=click.Path(dir_okay=False))
@FORMAT
@handles_errors
def spec_check(spec_file: str, fmt: str) -> int:
    """Validate SPEC_FILE and report every problem, located by line and column."""
    from dbarch.spec import load_spec

    loaded = load_spec(spec_file)
    summary = {
        "file": spec_file,
        "entities": len(loaded.entities),
        "relationships": len(loaded.relationships),
        "access_patterns": len(loaded.access_patterns),
    }
    if fmt == "json":
        click.echo(json.dumps({"ok": True, **summary}, indent=2))
    else:
        click.echo(
            f"{spec_file}: ok — {summary['entities']} entities, "
            f"{summary['relationships']} relationships, "
            f"{summary['access_patterns']} access patterns"
        )
    return EXIT_OK
