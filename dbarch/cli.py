"""The `dbarch` command line: parses arguments, calls `dbarch.api`, renders the result.

Exit codes (every command): 0 clean, 1 findings (a failed verification), 2 usage or input error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dbarch import __version__
from dbarch.errors import EngineError, InputError, Problem

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="text for people, json for machines.",
)
ENGINE_HELP = (
    "A database URL to verify on; repeat for several: sqlite:// (in memory), "
    "sqlite:///path.db, postgresql://user@host/db, mysql://user@host/db (MySQL or MariaDB)."
)


def _out() -> Console:
    # rich is imported where output is drawn: `dbarch lint --format json` in CI never needs it.
    from rich.console import Console

    return Console(soft_wrap=False)


def handles_errors(command: Callable[..., int]) -> Callable[..., None]:
    """Turn input and engine errors into located messages and exit code 2; never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        fmt = kwargs.get("fmt", "text")
        try:
            code = command(*args, **kwargs)
        except InputError as exc:
            _report_problems(exc.problems, fmt)
            code = EXIT_INPUT
        except EngineError as exc:
            _report_problems([Problem("engine", str(exc))], fmt)
            code = EXIT_INPUT
        sys.exit(code)

    return wrapper


def _report_problems(problems: list[Problem], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps({"errors": [p.as_dict() for p in problems]}, indent=2))
    else:
        from rich.console import Console

        from dbarch.console import show_problems

        show_problems(Console(stderr=True), problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dbarch")
def main() -> None:
    """dbarch: a database architect in a box.

    Describe what your application stores and how it reads and writes it in a YAML spec
    (`dbarch spec schema` gives its JSON Schema); dbarch chooses the databases, designs the
    schema and indexes, writes the architecture document with ADRs, and verifies the DDL and
    every access pattern on real engines.

    \b
      dbarch recommend examples/shop.yaml
      dbarch design examples/shop.yaml -o out/
      dbarch verify out/ --engine postgresql://postgres@localhost/test
    """


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

        show_decisions(_out(), decisions)
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

        console = _out()
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

        show_verification(_out(), report)
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


@main.command()
@click.option("--db", required=True, metavar="URL",
              help="The PostgreSQL database to advise (postgresql://…), with HypoPG installed. "
              "Only hypothetical indexes are made there, in this session's memory; put the "
              "schema first on the search_path with ?options=-csearch_path%3Dname.")
@click.option("--workload", type=click.Path(dir_okay=False), metavar="FILE.sql",
              help="The queries, one statement each; '-- weight: N' and '-- name: label' on "
              "the lines before a statement set how often it runs and what to call it.")
@click.option("--from-stats", is_flag=True,
              help="Take the workload from pg_stat_statements (weight = calls).")
@click.option("--log", type=click.Path(dir_okay=False), metavar="FILE",
              help="Take the workload from a PostgreSQL log with log_min_duration_statement "
              "lines (weight = occurrences).")
@click.option("--budget", metavar="SIZE", help="Most disk the new indexes may take: 500MB, 2GB.")
@click.option("--max-indexes", type=click.IntRange(min=1), metavar="N",
              help="Most indexes to recommend.")
@click.option("--install-hypopg", is_flag=True,
              help="CREATE EXTENSION hypopg in --db when it is missing (needs the package).")
@click.option("--validate", is_flag=True,
              help="Build the recommended indexes for real (CONCURRENTLY), re-plan every "
              "query, then drop them. On a production database, prefer a scratch copy.")
@click.option("--keep", is_flag=True, help="With --validate, keep the indexes built.")
@FORMAT
@handles_errors
def indexes(db: str, workload: str | None, from_stats: bool, log: str | None,
            budget: str | None, max_indexes: int | None, install_hypopg: bool, validate: bool,
            keep: bool, fmt: str) -> int:
    """Recommend indexes for a workload, each proven on the PostgreSQL planner.

    Every query shape is planned with and without hypothetical indexes (HypoPG): candidates
    come from its predicates, joins, ORDER BY and GROUP BY (composite, covering, partial and
    expression indexes), and a greedy search prices each against those already chosen, within
    --budget and --max-indexes, charging each index the cost of the writes that maintain it.
    An index is recommended only when plans read it. Existing duplicate, redundant and unused
    indexes are listed with the DROP that removes each.

    \b
      dbarch indexes --db postgresql://app@localhost/shop --workload queries.sql
      dbarch indexes --db postgresql://app@localhost/shop --from-stats --budget 2GB
      dbarch indexes --db ... --log postgresql.log --max-indexes 5 --format json

    Exit code: 0 when nothing is to change, 1 when indexes are recommended or can be dropped,
    2 on bad input or an unreachable server.
    """
    from dbarch import api

    progress = None
    if fmt == "text":
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True)

        def progress(message: str) -> None:
            err.print(f"[dim]… {escape(message)}[/]", highlight=False)

    result = api.indexes(db, workload=workload, from_stats=from_stats, log=log, budget=budget,
                         max_indexes=max_indexes, install_hypopg=install_hypopg,
                         validate=validate, keep=keep, progress=progress)
    if fmt == "json":
        from dbarch.report.json_lines import dumps

        click.echo(dumps(result.as_dict()))
    else:
        from dbarch.report.indexes_text import render

        click.echo(render(result), nl=False)
    changes = result.advice.recommendations or result.advice.drops
    return EXIT_FINDINGS if changes else EXIT_OK


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

    progress = None
    if fmt == "text":
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True)

        def progress(message: str) -> None:
            err.print(f"[dim]… {escape(message)}[/]", highlight=False)

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

        show_rehearsal(_out(), rehearsal)
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


@main.command()
@click.option("--db", required=True, metavar="URL",
              help="The PostgreSQL database holding the table (postgresql://…). Only read: "
              "the session is read-only.")
@click.option("--table", required=True, metavar="T",
              help="The table to shard: name or schema.name.")
@click.option("--key", "keys", multiple=True, metavar="K",
              help="A candidate key: a column, or a,b for a composite key. Repeat for several. "
              "Default: proposed from the schema (owner/tenant columns, the primary key, "
              "foreign keys) and the workload's equality filters.")
@click.option("--shards", type=click.IntRange(min=2), default=None, metavar="N",
              help="Shards to simulate.  [default: 16]")
@click.option("--workload", type=click.Path(dir_okay=False), metavar="FILE.sql",
              help="Queries to route, one statement each; '-- weight: N' and '-- name: label' "
              "on the lines before a statement set how often it runs and what to call it.")
@FORMAT
@handles_errors
def shard(db: str, table: str, keys: tuple[str, ...], shards: int | None,
          workload: str | None, fmt: str) -> int:
    """Choose a shard key for TABLE from its data and its workload.

    For each candidate key, computed in the database with SQL aggregates (on a TABLESAMPLE for
    large tables): numDistinctValues, the most common values and their share, monotonicity
    (correlation with insertion order: a hot tail for range sharding), rows and new rows per
    shard over N simulated shards by hash and by range (max/mean), and with --workload the
    share of the queries' weight that is single-shard, multi-shard or scatter-gather, and the
    traffic per shard. Metric names follow MongoDB's analyzeShardKey. The keys are ranked with
    reasons; the tables that co-locate through foreign keys and the reference tables are
    listed, and the best key's configuration is written for Citus, Vitess and MongoDB.

    \b
      dbarch shard --db postgresql://app@localhost/shop --table orders
      dbarch shard --db ... --table orders --key tenant_id --key customer_id \\
          --workload queries.sql --shards 32 --format json

    Exit code: 0 when the recommended key (and every --key given) has no warning, 1 when one
    has (skew, a hot shard, too few values, a monotonic range key, mostly scatter-gather),
    2 on bad input (an unknown table or column) or an unreachable server.
    """
    from dbarch import api

    progress = None
    if fmt == "text":
        from rich.console import Console
        from rich.markup import escape

        err = Console(stderr=True)

        def progress(message: str) -> None:
            err.print(f"[dim]… {escape(message)}[/]", highlight=False)

    report = api.shard(db, table, keys=keys, shards=shards, workload=workload,
                       progress=progress)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        from dbarch.report.shard_text import render

        click.echo(render(report), nl=False)
    judged = report.keys if keys else report.keys[:1]
    return EXIT_FINDINGS if any(k.warnings for k in judged) else EXIT_OK


def run() -> None:
    """The `dbarch` executable: `main`, then leave at once with its exit code.

    A run that read a large input ends holding millions of small objects; tearing the
    interpreter down would free them one by one after the output is written (see
    dbarch.process_exit). When another non-daemon thread still runs, it exits normally, to
    wait for it. Tests call `main` through click's runner, which never comes here.
    """
    import threading

    from dbarch import process_exit

    process_exit.arm()
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread()
           for t in threading.enumerate()):
        raise SystemExit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit status 1
        print(code, file=sys.stderr)
        code = 1
    process_exit.leave(code)


if __name__ == "__main__":
    run()
