"""`dbarch review`: findings on an existing schema (a live database or a DDL file).

Its --list-rules and --explain render the review rules the way lint renders its own.
"""

from __future__ import annotations

import json

import click

from dbarch.cli import main
from dbarch.cli.conventions import EXIT_FINDINGS, EXIT_OK, handles_errors
from dbarch.errors import InputError, Problem


@main.command()
@click.argument("target", metavar="URL|DDL", required=False)
@click.option("--dialect", type=click.Choice(["postgresql", "mysql", "mariadb"]), default=None,
              help="The SQL dialect of a DDL file.  [default: postgresql]")
@click.option("--enable", multiple=True, metavar="RULE",
              help="Switch a rule on, by code or name (repeat, or comma-separate); `all` for "
              "every rule.")
@click.option("--disable", multiple=True, metavar="RULE",
              help="Switch a rule off; `--disable all --enable R101` runs R101 alone.")
@click.option("--list-rules", is_flag=True, help="List every review rule and exit.")
@click.option("--explain", metavar="RULE", help="Print a rule's documentation page and exit.")
@click.option("--emit-spec", type=click.Path(dir_okay=False), metavar="SPEC.yaml",
              help="Also write a requirements spec reverse-engineered from the schema "
              "(entities, attributes, relationships, volumes from row counts).")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default="warning",
              show_default=True, help="Exit 1 when a finding is at least this severe.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]),
              default="text", show_default=True,
              help="text for people; json for machines; markdown only with --list-rules or "
              "--explain (docs/review-rules.md is generated that way).")
@handles_errors
def review(target: str | None, dialect: str | None, enable: tuple[str, ...],
           disable: tuple[str, ...], list_rules: bool, explain: str | None,
           emit_spec: str | None, fail_on: str, fmt: str) -> int:
    """Review an existing schema: a live database or a DDL file.

    A live database (postgresql://…, mysql://… for MySQL or MariaDB, sqlite:///file.db) is
    read, never written: its schema through SQLAlchemy's inspector, and its catalog for what
    the schema does not say (rows, column statistics, sequences' values, index usage). A DDL
    file is parsed; rules that need the data are listed as not run. Every finding names the
    table and column, what is wrong, why it matters, and the SQL that fixes it.

    \b
      dbarch review postgresql://app@localhost/shop
      dbarch review schema.sql --dialect mysql --format json
      dbarch review mysql://root@localhost/shop --disable R113
      dbarch review postgresql://app@localhost/shop --emit-spec shop.yaml
      dbarch review --list-rules

    Exit code: 0 no finding at or above --fail-on, 1 such findings, 2 bad input or an
    unreachable database.
    """
    from dbarch import api
    from dbarch.lint.rule import Severity

    if list_rules or explain:
        return _review_docs(explain, fmt)
    if fmt == "markdown":
        raise InputError([Problem("--format", "markdown is for --list-rules and --explain",
                                  hint="review results: text or json")])
    if not target:
        raise InputError([Problem("dbarch review", "no URL or DDL file given",
                                  hint="dbarch review postgresql://…, or --list-rules")])
    report = api.review(target, dialect=dialect, enable=enable, disable=disable,
                        emit_spec=emit_spec)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        from dbarch.report.review_text import render

        click.echo(render(report), nl=False)
    floor = Severity.parse(fail_on)
    return EXIT_FINDINGS if any(f.severity >= floor for f in report.findings) else EXIT_OK


def _review_docs(explain: str | None, fmt: str) -> int:
    """review --list-rules and --explain, rendered as lint's are."""
    from dbarch.report import lint_docs
    from dbarch.review.rule import all_rules

    registry = all_rules()
    rules = registry.sorted()
    if explain:
        rule = registry.find(explain)
        if rule is None:
            raise InputError([Problem("--explain", f"no review rule {explain!r}",
                                      hint="dbarch review --list-rules shows every rule")])
        rules = [rule]
    if fmt == "json":
        click.echo(json.dumps([lint_docs.rule_facts(r) for r in rules], indent=2))
    elif fmt == "markdown":
        click.echo(lint_docs.page_markdown(rules[0], level=1) if explain
                   else lint_docs.reference_markdown(rules, command="review"), nl=False)
    elif explain:
        click.echo(lint_docs.explain(rules[0]), nl=False)
    else:
        click.echo(lint_docs.rules_table(rules).replace("dbarch lint", "dbarch review"),
                   nl=False)
    return EXIT_OK
