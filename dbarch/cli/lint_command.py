"""`dbarch lint`: migration files checked for statements that lock, rewrite or break production.

Separate because it is the command run on every CI push and benchmarked against squawk: its
module imports nothing beyond click at start-up, and each output format's renderer is
imported only when that format is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from dbarch.cli import main
from dbarch.cli.conventions import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, handles_errors
from dbarch.errors import InputError, Problem

LINT_FORMATS = ("text", "json", "sarif", "github", "markdown")


@main.command()
@click.argument("paths", nargs=-1, metavar="FILE|DIR ...")
@click.option("--dialect", type=click.Choice(["postgresql", "mysql"]),
              help="The SQL dialect (mysql covers MariaDB). Default: config, else postgresql; "
              "with --db, the server's.")
@click.option("--pg-version", type=int, metavar="N",
              help="The PostgreSQL major version the migration runs on (decides version-"
              "dependent rules). Default: config, else 15; with --db, the server's.")
@click.option("--tool", metavar="NAME",
              help="The migration tool that runs the files: plain, alembic, golang-migrate, "
              "flyway or django (whether each file runs inside one transaction).")
@click.option("--enable", multiple=True, metavar="RULE",
              help="Switch a rule on, by code or name (repeat, or comma-separate); `all` for "
              "every rule, hygiene included.")
@click.option("--disable", multiple=True, metavar="RULE",
              help="Switch a rule off, by code or name; `--disable all --enable L101` runs "
              "L101 alone.")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]),
              help="Exit 1 when a finding is at least this severe. Default: config, else warning.")
@click.option("--db", metavar="URL",
              help="A live database (postgresql://… or mysql://…) whose catalog gives table "
              "sizes, row estimates and the server version. Read only: nothing is written.")
@click.option("--format", "fmt", type=click.Choice(LINT_FORMATS), default="text",
              show_default=True,
              help="text for people; json; sarif for GitHub code scanning; github for workflow "
              "annotations; markdown only with --list-rules or --explain.")
@click.option("--jobs", type=click.IntRange(min=0), metavar="N",
              help="Processes to share the rules between. Default (0): one for small inputs, "
              "one per CPU (up to 4) past 256 kB of SQL. The findings are the same either way.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="RULE", help="Print a rule's documentation page and exit.")
@handles_errors
def lint(paths: tuple[str, ...], dialect: str | None, pg_version: int | None, tool: str | None,
         enable: tuple[str, ...], disable: tuple[str, ...], fail_on: str | None, db: str | None,
         fmt: str, jobs: int | None, list_rules: bool, explain: str | None) -> int:
    """Check migration files for statements that lock, rewrite or break production.

    Each FILE is one migration; each DIR is searched for *.sql, linted in migration order
    (V2 before V10). Every finding names the lock taken, what it blocks and the safe SQL
    to write instead. Silence one with a recorded reason on the line above it:
    `-- dbarch-ignore: L101 table is empty until the release`.

    \b
      dbarch lint migrations/
      dbarch lint --tool alembic --pg-version 13 versions/*.sql
      dbarch lint --db postgresql://app@replica/shop migrations/0042_orders.sql
      dbarch lint --format sarif migrations/ > dbarch.sarif
      dbarch lint --list-rules
      dbarch lint --explain L301

    Settings come from .dbarch.toml or pyproject.toml [tool.dbarch] (nearest above the
    working directory); options given here win. Exit code: 0 clean, 1 a finding at or above
    --fail-on (suppressed ones never count), 2 a usage error or a file that does not parse
    (the other files are still linted and reported).
    """
    from dbarch import api

    if list_rules or explain:
        return _lint_docs(list_rules, explain, dialect, fmt)
    if fmt == "markdown":
        raise InputError([Problem("--format", "markdown is for --list-rules and --explain",
                                  hint="lint results: text, json, sarif or github")])
    if not paths:
        raise InputError([Problem("dbarch lint", "no FILE or DIR given",
                                  hint="dbarch lint migrations/, or --list-rules")])
    encode = None
    if fmt == "json":  # each finding is encoded where it was found, in parallel
        from dbarch.report.json_lines import encode as encode_json

        def encode(finding: Any) -> str:
            return encode_json(finding.as_dict())  # type: ignore[no-any-return]

    report = api.lint(list(paths), dialect=dialect, pg_version=pg_version, tool=tool,
                      enable=enable, disable=disable, fail_on=fail_on, db=db, jobs=jobs,
                      encode=encode)
    floor = _fail_floor(fail_on)
    if fmt == "json":
        from dbarch.report.json_lines import dumps as dumps_lines

        document = report.as_dict(findings=report.encoded is None)
        encoded = {"findings": report.encoded} if report.encoded is not None else None
        click.echo(dumps_lines(document, encoded))
    elif fmt == "sarif":
        from dbarch.report.lint_sarif import render as render_sarif

        click.echo(json.dumps(render_sarif(report), indent=2))
    elif fmt == "github":
        from dbarch.report.lint_github import render as render_github

        click.echo(render_github(report), nl=False)
    else:
        from dbarch.report.lint_text import render as render_text
        from dbarch.report.lint_text import use_colour

        stream = click.get_text_stream("stdout")
        click.echo(render_text(report, floor, colour=use_colour(stream)), nl=False)
    if report.problems:
        return EXIT_INPUT
    return EXIT_FINDINGS if report.failing(floor) else EXIT_OK


def _fail_floor(fail_on: str | None) -> Any:
    """The --fail-on severity: the option, else the project's config, else warning."""
    from dbarch.lint.config import load_config

    return load_config(Path.cwd(), {"fail-on": fail_on}).severity_floor()


def _lint_docs(list_rules: bool, explain: str | None, dialect: str | None, fmt: str) -> int:
    """--list-rules and --explain: the registry as a table, JSON or Markdown."""
    from dbarch.lint.rule import all_rules
    from dbarch.report import lint_docs

    registry = all_rules()
    if explain:
        rule = registry.find(explain)
        if rule is None:
            import difflib

            keys = [*registry.rules, *(r.name for r in registry.rules.values())]
            close = difflib.get_close_matches(explain, keys, n=1)
            raise InputError([Problem("--explain", f"no rule {explain!r}",
                                      hint=f"did you mean {close[0]}?" if close
                                      else "dbarch lint --list-rules shows every rule")])
        rules = [rule]
    else:
        rules = [r for r in registry.sorted() if dialect is None or dialect in r.dialects]
    if fmt == "json":
        click.echo(json.dumps([lint_docs.rule_facts(r) for r in rules], indent=2))
    elif fmt == "markdown":
        click.echo(lint_docs.reference_markdown(rules) if list_rules and not explain
                   else lint_docs.page_markdown(rules[0], level=1), nl=False)
    elif explain:
        click.echo(lint_docs.explain(rules[0]), nl=False)
    else:
        click.echo(lint_docs.rules_table(rules), nl=False)
    return EXIT_OK
