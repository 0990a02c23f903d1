"""The public API: every CLI command is one call here, usable from Python too.

This module orchestrates; the reasoning lives in spec, select, design, render and report, and
only `dbarch.verify` (through `dbarch.engines`) opens connections.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from dbarch.errors import InputError, Problem

# Each command imports what it needs when it runs: `dbarch lint` on a CI runner should not pay
# for loading the designer, the product catalogue and the report templates.
if TYPE_CHECKING:
    from collections.abc import Callable

    from dbarch.advisor.advise import IndexAdvice
    from dbarch.design.parts import PartDesign
    from dbarch.design.result import Design
    from dbarch.lint.rule import Finding
    from dbarch.lint.run import LintReport
    from dbarch.migrate.plan_model import MigrationPlan
    from dbarch.migrate.rehearse import Rehearsal
    from dbarch.parse import ParsedSchema
    from dbarch.review.model import ReviewReport
    from dbarch.select.model import Decisions
    from dbarch.shard.model import ShardReport
    from dbarch.spec.model import Spec
    from dbarch.verify.model import VerifyReport

DIALECTS = ("postgresql", "mysql", "sqlite")
DESIGN_FILE = "design.json"


_LAZY = {
    "IndexAdvice": "dbarch.advisor.advise",
    "Design": "dbarch.design.result",
    "Decisions": "dbarch.select.model",
    "Spec": "dbarch.spec.model",
    "VerifyReport": "dbarch.verify.model",
}


def __getattr__(name: str) -> object:
    """The model classes, importable from here as before, loaded on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dbarch.api' has no attribute {name!r}")


def recommend(spec: Spec | str | Path) -> Decisions:
    """The database for each part of the workload described by `spec` (a Spec or a YAML path)."""
    from dbarch.select import recommend as select_databases

    return select_databases(_spec(spec))


def plan(spec: Spec | str | Path) -> Design:
    """Select the databases and design the relational schema; pure, no connection opened."""
    from dbarch.design.parts import design_parts
    from dbarch.design.relational import design_relational
    from dbarch.design.result import Design
    from dbarch.select import recommend as select_databases

    spec = _spec(spec)
    decisions = select_databases(spec)
    return Design(spec=spec, decisions=decisions, relational=design_relational(spec, decisions),
                  parts=design_parts(spec, decisions))


def render_ddls(design: Design) -> dict[str, str]:
    """The relational schema's DDL for every dialect, keyed by dialect name."""
    from dbarch.render.ddl import render_ddl

    return {dialect: render_ddl(design.relational, dialect) for dialect in DIALECTS}


def artifacts(design: Design, report: VerifyReport | None = None) -> dict[str, str]:
    """Every file `dbarch design` writes, relative path → text."""
    from dbarch.report import write_documents

    ddl = render_ddls(design)
    files = {f"schema/{dialect}.sql": text for dialect, text in ddl.items()}
    for part in design.parts:
        files.update(part.artifacts)
    files.update(write_documents(design.spec, design.decisions, design.relational, report, ddl,
                                 parts=design.parts))
    files[DESIGN_FILE] = design.to_json()
    return files


def design(
    spec: Spec | str | Path, out: str | Path, engines: list[str] | None = None
) -> tuple[Design, VerifyReport | None, list[Path]]:
    """Design the system in `spec` and write the artifacts into `out`.

    `engines` are the URLs to verify on before the document is written (default: an in-memory
    SQLite, so the main job always proves its own DDL); pass `[]` to skip verification.
    """
    from dbarch.verify.parts import verify_parts
    from dbarch.verify.run import verify as run_verify

    result = plan(spec)
    if engines is None:  # SQLite proves the DDL; the parts' local servers prove their designs
        from dbarch.engines.discover import answering_parts

        relational = ["sqlite://"]
        urls = [*relational, *(answering_parts() if result.parts else [])]
    else:
        urls = engines
        relational = _relational_urls(urls)
    report = (
        run_verify(result.relational, render_ddls(result), relational, spec=result.spec)
        if urls else None
    )
    if report is not None:
        report.parts = verify_parts(result.parts, urls)
    written = write_files(Path(out), artifacts(result, report))
    return result, report, written


def verify(out: str | Path, engines: list[str]) -> VerifyReport:
    """Apply the artifacts in `out` on each engine URL and run every read access pattern."""
    from dbarch.render.ddl import render_ddl
    from dbarch.verify.run import verify as run_verify

    result = load_design(out)
    folder = Path(out)
    ddl = {}
    for dialect in DIALECTS:
        path = folder / "schema" / f"{dialect}.sql"
        ddl[dialect] = path.read_text() if path.exists() else render_ddl(result.relational, dialect)
    from dbarch.verify.parts import verify_parts

    report = run_verify(result.relational, ddl, _relational_urls(engines), spec=result.spec)
    report.parts = verify_parts([_files_on_disk(part, folder) for part in result.parts], engines)
    return report


def _files_on_disk(part: PartDesign, folder: Path) -> PartDesign:
    """The part with each artifact read from `folder` where the file is there: what is verified
    is what the user will apply, edits included, as for the relational schema files."""
    artifacts = {name: (folder / name).read_text(encoding="utf-8")
                 if (folder / name).is_file() else text
                 for name, text in part.artifacts.items()}
    return part.model_copy(update={"artifacts": artifacts})


def _relational_urls(urls: list[str]) -> list[str]:
    """The URLs the relational schema is verified on; the others go to the parts' verifiers.
    A URL no verifier takes is an input error, not a silently ignored engine."""
    from urllib.parse import urlsplit

    from dbarch.engines import SCHEMES, redact
    from dbarch.verify.parts import part_schemes

    relational, unknown = [], []
    for url in urls:
        scheme = urlsplit(url).scheme.split("+")[0].lower()
        if scheme in SCHEMES:
            relational.append(url)
        elif scheme not in part_schemes():
            unknown.append(url)
    if unknown:
        known = sorted({*SCHEMES, *part_schemes()})
        raise InputError([Problem("--engine", f"unknown engine scheme in {redact(u)}",
                                  hint=f"expected one of {', '.join(s + '://' for s in known)}")
                          for u in unknown])
    return relational


def default_engines() -> list[str]:
    """SQLite in memory, then the local PostgreSQL and MariaDB servers that answer now."""
    from dbarch.engines.discover import default_urls

    return default_urls()


def load_design(out: str | Path) -> Design:
    """Read back `OUT/design.json`, with a located error if the folder is not a design."""
    from pydantic import ValidationError

    from dbarch.design.result import Design

    path = Path(out) / DESIGN_FILE
    if not path.is_file():
        raise InputError([Problem(
            str(path), "not found: is this a folder written by `dbarch design -o`?",
            hint=f"run `dbarch design SPEC.yaml -o {out}` first",
        )])
    try:
        return Design.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise InputError([
            Problem(str(path), e["msg"], path=".".join(str(p) for p in e["loc"]))
            for e in exc.errors()
        ]) from None


def write_files(out: Path, files: dict[str, str]) -> list[Path]:
    """Write each file under `out`, creating folders; returns the paths written."""
    written = []
    for relative, text in sorted(files.items()):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n")
        written.append(path)
    return written


def _spec(spec: Spec | str | Path) -> Spec:
    from dbarch.spec import load_spec
    from dbarch.spec.model import Spec

    return spec if isinstance(spec, Spec) else load_spec(spec)


def lint(
    paths: list[str] | tuple[str, ...],
    *,
    dialect: str | None = None,
    pg_version: int | None = None,
    tool: str | None = None,
    enable: tuple[str, ...] | list[str] = (),
    disable: tuple[str, ...] | list[str] = (),
    fail_on: str | None = None,
    db: str | None = None,
    config_start: Path | None = None,
    jobs: int | None = None,
    encode: Callable[[Finding], str] | None = None,
) -> LintReport:
    """Lint migration files and folders (`dbarch lint`); the findings and what was read.

    Settings come from the nearest `.dbarch.toml` or `pyproject.toml [tool.dbarch]` above
    `config_start` (default: the working directory); the arguments given here win. `enable`
    and `disable` add to the configured lists, and a rule enabled here is taken off the
    configured `disable` list; `disable=("all",)` with `enable=("L101",)` runs L101 alone.
    With `db`, the live catalog gives table sizes, row estimates, indexes and constraints, and
    its server version decides version-dependent rules. `encode`, when given, turns each
    finding into its output text (LintReport.encoded), in the process that found it.
    """
    from dbarch.lint.config import load_config
    from dbarch.lint.run import lint_paths, parse_ahead

    catalog = None
    if db is not None:
        from dbarch.engines.catalog import fetch_catalog

        catalog = fetch_catalog(db)
        if dialect is not None and dialect != catalog.dialect:
            raise InputError([Problem("--db", f"the database is {catalog.dialect} but "
                                      f"--dialect is {dialect}")])
        dialect = catalog.dialect
    start = Path.cwd() if config_start is None else Path(config_start)
    overrides = {"dialect": dialect, "pg-version": pg_version, "tool": tool, "fail-on": fail_on,
                 "jobs": jobs}
    config = load_config(start, overrides)
    ahead = parse_ahead(list(paths), config)  # parsed in a thread while the rules load
    enable_, disable_ = _rule_choice(config.enable, config.disable, _split(enable), _split(disable))
    config = dataclasses.replace(config, enable=enable_, disable=disable_)
    report = lint_paths(list(paths), config, catalog, ahead, encode)
    if catalog is not None:
        from dbarch.engines.base import redact

        report.notices.insert(0, Problem(
            redact(db or ""), f"{catalog.dialect} {catalog.server_version}, "
            f"{len({id(t) for t in catalog.tables.values()})} tables: sizes, row estimates and "
            "the server version come from this database"))
    return report


def _split(keys: tuple[str, ...] | list[str]) -> list[str]:
    """Rule keys as given, `--enable L101,L102` split on commas."""
    return [part.strip() for key in keys for part in key.split(",") if part.strip()]


def _rule_choice(
    configured_enable: list[str], configured_disable: list[str],
    enable: list[str], disable: list[str],
) -> tuple[list[str], list[str]]:
    """The enable and disable lists once command-line choices are laid over configured ones.

    `all` in a disable list switches off every rule but those enabled by name; the command
    line's enable takes a rule off the configured disable list.
    """
    from dbarch.lint.rule import all_rules

    registry = all_rules()

    def code(key: str) -> str:
        found = registry.find(key)
        return found.code if found else key.lower() if key.lower() == "all" else key

    cli_on = [code(k) for k in enable]
    configured_on = [code(k) for k in configured_enable]
    if "all" in (code(k) for k in disable):
        return cli_on, [c for c in registry.rules if c not in cli_on]
    on = [*configured_on, *cli_on]
    if "all" in (code(k) for k in configured_disable):
        off = [c for c in registry.rules if c not in on]
    else:
        off = [k for k in configured_disable if code(k) not in cli_on]
    return on, [*off, *disable]


def rehearse(
    migration: str | Path,
    db: str,
    *,
    schema: str | Path | None = None,
    scratch: str | None = None,
    rows: int | None = None,
    workers: int | None = None,
    tolerance_ms: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Rehearsal:
    """Rehearse a PostgreSQL migration file under load (`dbarch migrate rehearse`).

    A scratch database is created on the server of `scratch` (default: `db`'s), given the
    schema in the DDL file `schema` (default: `pg_dump --schema-only` of `db`), filled with
    `rows` synthetic rows per touched table, and dropped at the end. The migration runs there
    statement by statement while `workers` connections read and write the touched tables;
    each statement's locks, waits and rewrites are measured, and `db`'s catalog gives the
    real table sizes the verdicts extrapolate to. The `db` database itself is only read.
    """
    from dbarch.engines.rehearse import rehearse as run_rehearsal
    from dbarch.migrate import rehearse as model

    text = _read_text_file(migration, "migration")
    ddl = _read_text_file(schema, "--schema") if schema is not None else None
    return run_rehearsal(
        text, db=db, path=str(migration), schema=ddl,
        schema_path=str(schema) if schema is not None else None, scratch=scratch,
        rows=model.DEFAULT_ROWS if rows is None else rows,
        workers=model.DEFAULT_WORKERS if workers is None else workers,
        tolerance_ms=model.TOLERANCE_MS if tolerance_ms is None else tolerance_ms,
        progress=progress,
    )


def _read_text_file(path: str | Path, what: str) -> str:
    """A text file's content, or a located error naming what it was meant to be."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), f"cannot read the {what} file: "
                                  f"{getattr(exc, 'strerror', None) or exc}")]) from None


def migrate_plan(
    source: str,
    target: str,
    *,
    dialect: str | None = None,
    renames: list[str] | tuple[str, ...] = (),
    fills: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    pg_version: int = 15,
    batch_size: int = 1000,
    pause: float = 0.1,
    lock_timeout: str = "5s",
) -> tuple[MigrationPlan, list[Path]]:
    """Plan a zero-downtime migration from schema `source` to schema `target`
    (`dbarch migrate plan`). Each is a DDL file or a live database URL (postgresql://,
    mysql://; read with SQLAlchemy's inspector, never written).

    `renames` say what a diff cannot tell from a drop and an add (`table.old=new`,
    `old_table=new_table`); `fills` give existing rows their value where a column becomes
    NOT NULL or changes type (`table.column=SQL`). With `out`, the phases are written there as
    NN_phase.sql, NN_phase.rollback.sql and PLAN.md. Returns the plan and the files written.
    """
    from dbarch.migrate.output import plan_files
    from dbarch.migrate.plan import plan_migration
    from dbarch.migrate.plan_model import PlanOptions

    name = _plan_dialect(source, target, dialect)
    a, b = _read_schema(source, name), _read_schema(target, name)
    options = PlanOptions(dialect=name, pg_version=pg_version, batch_size=batch_size,
                          pause=pause, lock_timeout=lock_timeout)
    result = plan_migration(a.schema, b.schema, renames=list(renames), fills=list(fills),
                            options=options, source=_label(source), target=_label(target))
    result.notices = [str(p) for p in [*a.notices, *b.notices]]
    written = write_files(Path(out), plan_files(result)) if out is not None else []
    return result, written


def _plan_dialect(source: str, target: str, dialect: str | None) -> str:
    """The dialect of a plan: --dialect, else the URLs' scheme, else PostgreSQL."""
    from dbarch.engines.introspect import is_url, url_dialect
    from dbarch.parse import dialect_name

    chosen = dialect_name(dialect) if dialect else None
    for where in (source, target):
        if is_url(where):
            found = url_dialect(where)
            if chosen is not None and found != chosen:
                raise InputError([Problem(_label(where), f"a {found} database, but the plan is "
                                          f"for {chosen}", hint="drop --dialect or fix it")])
            chosen = found
    return chosen or "postgresql"


def _read_schema(where: str, dialect: str) -> ParsedSchema:
    from dbarch.engines.introspect import introspect, is_url
    from dbarch.parse import read_ddl_file

    if is_url(where):
        return introspect(where)
    if not Path(where).is_file():
        raise InputError([Problem(where, "no such DDL file (and not a database URL)",
                                  hint="give a .sql file or postgresql://… / mysql://…")])
    return read_ddl_file(where, dialect)


def _label(where: str) -> str:
    """How a schema's origin is named in the plan: a file's name, a URL without password."""
    from dbarch.engines.base import redact
    from dbarch.engines.introspect import is_url

    return redact(where) if is_url(where) else Path(where).name


def review(
    target: str,
    *,
    dialect: str | None = None,
    enable: tuple[str, ...] | list[str] = (),
    disable: tuple[str, ...] | list[str] = (),
    emit_spec: str | Path | None = None,
) -> ReviewReport:
    """Review an existing schema (`dbarch review`): a live database URL (postgresql://,
    mysql://, sqlite:///file.db; only read) or a DDL file in `dialect` (default postgresql).

    A live database adds its facts (rows, column statistics, sequences, index usage) and the
    rules that need them; on a DDL file those rules are listed as not run. `enable` and
    `disable` choose rules by code or name (`disable=("all",)`, `enable=("R101",)`: R101 alone).
    With `emit_spec`, a requirements spec reverse-engineered from the schema (entities,
    attributes, relationships, volumes from row counts, and on PostgreSQL the access patterns
    pg_stat_statements shows) is written there as YAML.
    """
    from urllib.parse import urlsplit

    from dbarch.engines.base import redact
    from dbarch.engines.introspect import is_url
    from dbarch.parse import dialect_name, read_ddl_file
    from dbarch.review.knowledge import knowledge
    from dbarch.review.run import review_schema, select_rules

    rules = select_rules(enable, disable)  # a bad rule name fails before any connection
    live = is_url(target) or urlsplit(target).scheme.lower() == "sqlite"
    if live:
        from dbarch.engines.review_facts import read_live

        data = knowledge()
        parsed, facts, found = read_live(target, sample_rows=int(data["sample_rows"]),
                                         values_upto=int(data["enum_like"]["max_distinct"]))
        if dialect is not None and dialect_name(dialect) != found:
            raise InputError([Problem("--dialect", f"the database is {found}, not {dialect}",
                                      hint="--dialect is for DDL files; drop it")])
        report = review_schema(parsed, found, facts, source=redact(target), rules=rules)
    else:
        if not Path(target).is_file():
            raise InputError([Problem(target, "no such DDL file (and not a database URL)",
                                      hint="give a .sql file, or postgresql://…, mysql://…, "
                                      "sqlite:///file.db")])
        name = dialect_name(dialect or "postgresql")
        parsed, facts = read_ddl_file(target, name), None
        report = review_schema(parsed, name, source=target, rules=rules)
    if emit_spec is not None:
        import yaml

        from dbarch.review.spec_emit import emit_spec as reverse_engineer

        spec = reverse_engineer(parsed.schema, facts,
                                money_words=frozenset(knowledge()["money_words"]))
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
        header = f"# Reverse-engineered by dbarch review from {report.source}\n"
        write_files(Path(emit_spec).parent, {Path(emit_spec).name: header + text})
        report.emitted_spec = str(emit_spec)
    return report


def indexes(
    db: str,
    *,
    workload: str | Path | None = None,
    from_stats: bool = False,
    log: str | Path | None = None,
    budget: str | int | None = None,
    max_indexes: int | None = None,
    stats_limit: int = 500,
    install_hypopg: bool = False,
    validate: bool = False,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
) -> IndexAdvice:
    """Recommend indexes for a PostgreSQL workload (`dbarch indexes`).

    The workload comes from exactly one of: a SQL file (`workload`, `-- weight: N` and
    `-- name: label` comments before a statement), pg_stat_statements (`from_stats`), or a
    log with log_min_duration_statement lines (`log`). Each query shape is planned with HypoPG's
    hypothetical indexes on `db` (nothing is created there), candidates are chosen within
    `budget` (bytes, or `2GB`) and `max_indexes`, and the existing indexes are judged. With
    `validate`, the recommended indexes are built for real (CONCURRENTLY), every query
    re-planned, and the indexes dropped again unless `keep`.
    """
    from dbarch.advisor.advise import IndexAdvice
    from dbarch.advisor.select import Limits
    from dbarch.advisor.workload import read_log, read_workload_file, workload_from_statements
    from dbarch.engines import advisor
    from dbarch.spec.quantities import parse_bytes

    sources = [name for name, given in (("--workload", workload is not None),
                                        ("--from-stats", from_stats), ("--log", log is not None))
               if given]
    if len(sources) != 1:
        what = "no workload given" if not sources else f"{' and '.join(sources)} both given"
        raise InputError([Problem("dbarch indexes", what, hint="give one of --workload "
                                  "FILE.sql, --from-stats or --log postgresql.log")])
    try:
        limit_bytes = None if budget is None else parse_bytes(budget)
    except ValueError as exc:
        raise InputError([Problem("--budget", str(exc))]) from None
    if workload is not None:
        read = read_workload_file(workload, strict=False)  # report a bad statement, go on
    elif log is not None:
        read = read_log(log)
    else:
        from dbarch.engines.index_catalog import fetch_statements

        rows = fetch_statements(db, limit=stats_limit)
        read = workload_from_statements(
            (r.queryid, r.query, r.calls, r.total_exec_time) for r in rows)
    if not read.queries:
        raise InputError([Problem(read.source or "workload", "no query to advise on",
                                  hint="the workload holds only statements that are not "
                                  "SELECT, INSERT, UPDATE or DELETE")])
    limits = Limits(budget=limit_bytes, max_indexes=max_indexes)
    advice, seconds = advisor.run_advice(db, read, limits, install=install_hypopg,
                                         progress=progress)
    result = IndexAdvice(advice=advice, seconds=seconds, source=read.source)
    if validate:
        result.validation = advisor.validate(db, advice, read.queries, keep=keep,
                                             progress=progress)
    return result


def shard(
    db: str,
    table: str,
    *,
    keys: list[str] | tuple[str, ...] = (),
    shards: int | None = None,
    workload: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> ShardReport:
    """Choose a shard key for a live PostgreSQL table (`dbarch shard`).

    Each candidate key (`keys`, each `col` or `a,b`; else proposed from the schema and the
    workload) is measured in the database with SQL aggregates (on a TABLESAMPLE for large
    tables): distinct values, the most common values, monotonicity, rows per shard over
    `shards` simulated shards by hash and by range; the workload file's queries are routed
    (single-shard, multi-shard, scatter-gather). Returns the keys ranked, the co-located and
    reference tables, and Citus, Vitess and MongoDB configuration for the best key.
    """
    from dbarch.engines.shard_stats import run_shard

    split = [[c.strip() for c in key.split(",")] for key in keys]
    for key, columns in zip(keys, split, strict=True):
        if not all(columns):
            raise InputError([Problem("--key", f"{key!r}: an empty column name",
                                      hint="a column, or columns separated by commas: a,b")])
    if shards is not None and shards < 2:
        raise InputError([Problem("--shards", f"{shards}: at least 2 shards")])
    read = None
    if workload is not None:
        from dbarch.advisor.workload import read_workload_file

        read = read_workload_file(workload, strict=False)
    return run_shard(db, table, keys=split, shards=shards, workload=read, progress=progress)
