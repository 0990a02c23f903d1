"""The lint run: files → statements → rules (with the migration's context) → findings."""

from __future__ import annotations

import contextlib
import fnmatch
import gc
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dbarch import process_exit
from dbarch.errors import InputError, Problem
from dbarch.lint import parallel
from dbarch.lint.config import LintConfig
from dbarch.lint.context import Context
from dbarch.lint.rule import Finding, Rule, Severity, all_rules
from dbarch.lint.source import ParseAhead, SourceFile, read_source
from dbarch.lint.statement import POSTGRESQL

if TYPE_CHECKING:  # the catalog (pydantic) is loaded only when --db gives one
    from dbarch.lint.catalog import Catalog


@dataclass
class LintReport:
    """The outcome of a lint run."""

    files: list[str] = field(default_factory=list)
    statements: int = 0
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # codes of the rules that ran
    # each finding as JSON text, in the order of `findings`, when the run was given `encode`
    encoded: list[str] | None = None

    @property
    def active(self) -> list[Finding]:
        """Findings not suppressed by a dbarch-ignore comment."""
        return [f for f in self.findings if f.suppressed is None]

    def failing(self, floor: Severity) -> list[Finding]:
        return [f for f in self.active if f.severity >= floor]

    def as_dict(self, findings: bool = True) -> dict[str, object]:
        """The report as plain data (`findings=False`: that list left empty, for a writer that
        has them already encoded)."""
        return {
            "files": self.files,
            "statements": self.statements,
            "rules": self.rules,
            "findings": [f.as_dict() for f in self.findings] if findings else [],
            "errors": [p.as_dict() for p in self.problems],
            "notices": [p.as_dict() for p in self.notices],
        }


def enabled_rules(config: LintConfig) -> list[Rule]:
    """The rules this configuration switches on, for its dialect, in code order."""
    registry = all_rules()
    problems = []
    for key in [*config.enable, *config.disable]:
        if key.lower() != "all" and registry.find(key) is None:
            problems.append(Problem(config.source or "command line", f"unknown rule {key!r}",
                                    hint="dbarch lint --list-rules shows every rule"))
    if problems:
        raise InputError(problems)
    enable = {registry.find(k).code for k in config.enable if k.lower() != "all"}  # type: ignore[union-attr]
    everything = any(k.lower() == "all" for k in config.enable)
    if any(k.lower() == "all" for k in config.disable):
        # --disable all --enable X: X alone
        disable = set(registry.rules) - enable
        everything = False
    else:
        disable = {registry.find(k).code for k in config.disable}  # type: ignore[union-attr]
    chosen = []
    for rule in registry.sorted():
        if config.dialect not in rule.dialects or rule.code in disable:
            continue
        if rule.default_enabled or everything or rule.code in enable:
            chosen.append(rule())
    return chosen


def collect_files(paths: list[str], config: LintConfig) -> list[Path]:
    """The files to lint: each file given, and every *.sql under each folder, in name order."""
    files: list[Path] = []
    missing = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob("*.sql"), key=_natural)
            files.extend(p for p in found if not _excluded(p, config.exclude))
        elif path.is_file() or raw == "-":
            files.append(path)
        else:
            missing.append(Problem(raw, "no such file or folder"))
    if missing:
        raise InputError(missing)
    return files


def _natural(path: Path) -> list[object]:
    """Migration order: V2__x before V10__y, 0002 before 0010."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _excluded(path: Path, patterns: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(text, f"*/{pattern}")
               for pattern in patterns)


def lint_paths(paths: list[str], config: LintConfig, catalog: Catalog | None = None,
               ahead: ParseAhead | None = None,
               encode: Callable[[Finding], str] | None = None) -> LintReport:
    """Lint files and folders of migrations; each file is one migration. `ahead`: the first
    file's parse, from `parse_ahead`. `encode`: turn each finding into its output text
    (LintReport.encoded), done by the process that found it when several share the rules."""
    with _no_gc():
        return _lint_paths(paths, config, catalog, ahead, encode)


def parse_ahead(paths: list[str], config: LintConfig) -> ParseAhead | None:
    """Start parsing the first PostgreSQL file in a thread, for `lint_paths`, so that choosing
    the rules meanwhile costs no time. None when there is nothing to start (the lint itself
    reports what is missing or unreadable)."""
    if config.dialect != POSTGRESQL:
        return None
    try:
        files = collect_files(paths, config)
        if not files or str(files[0]) == "-":
            return None
        text = files[0].read_text(encoding="utf-8")
    except (InputError, OSError, UnicodeDecodeError):
        return None
    return ParseAhead(text, files[0])


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: parse trees are millions of small acyclic dicts, and
    collection passes over them cost three times the parse itself on large files."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lint_paths(paths: list[str], config: LintConfig, catalog: Catalog | None,
                ahead: ParseAhead | None,
                encode: Callable[[Finding], str] | None) -> LintReport:
    rules = enabled_rules(config)
    files = collect_files(paths, config)
    stdin = any(str(path) == "-" for path in files)  # standard input can be read only once
    jobs = 1 if stdin else parallel.choose_jobs(config.jobs, _total_bytes(files))
    if jobs == 1:
        report = LintReport()
        _lint_files(files, config, rules, catalog, report, ahead=ahead)
        if encode is not None:
            report.encoded = [encode(finding) for finding in report.findings]
    else:
        if ahead is not None:
            ahead.wait()  # then every process decodes the one parse
        rank = {rule.code: number for number, rule in enumerate(rules)}
        reports: list[LintReport] = []

        def run(share: list[Rule]) -> parallel.Share:
            part = LintReport()
            keys: list[parallel.Key] = []
            _lint_files(files, config, share, catalog, part, (keys, rank), ahead)
            reports.append(part)
            encoded = None if encode is None else [encode(f) for f in part.findings]
            return parallel.Share(keys, part.findings, encoded)

        merged = parallel.merge(parallel.run_shares(parallel.deal(rules, jobs), run))
        report = reports[0]  # files, statements, problems: the same in every share
        report.findings, report.encoded = merged.findings, merged.encoded
    report.rules = [rule.code for rule in rules]
    return report


def _total_bytes(files: list[Path]) -> int:
    total = 0
    for path in files:
        with contextlib.suppress(OSError):  # reported when it is read
            total += path.stat().st_size
    return total


def _lint_files(files: list[Path], config: LintConfig, rules: list[Rule],
                catalog: Catalog | None, report: LintReport,
                keyed: tuple[list[parallel.Key], dict[str, int]] | None = None,
                ahead: ParseAhead | None = None) -> None:
    for number, path in enumerate(files):
        name = "<stdin>" if str(path) == "-" else str(path)
        if number == 0 and ahead is not None and ahead.path == path:
            text: str | None = ahead.text  # read once: read_source takes its parse too
        else:
            text = sys.stdin.read() if str(path) == "-" else _read(path, report)
        if text is None:
            continue
        report.files.append(name)
        source = read_source(name, text, config.dialect, ahead)
        lint_source(source, config, rules, catalog, report, keyed=keyed, file_number=number)
        process_exit.keep(source, len(text))  # a process about to end need not free the tree


def lint_text(text: str, config: LintConfig, catalog: Catalog | None = None,
              path: str = "<sql>") -> LintReport:
    """Lint one migration given as text (the API behind fixtures and `migrate plan`)."""
    report = LintReport(files=[path])
    rules = enabled_rules(config)
    report.rules = [rule.code for rule in rules]
    with _no_gc():
        lint_source(read_source(path, text, config.dialect), config, rules, catalog, report)
    return report


def _read(path: Path, report: LintReport) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        report.problems.append(Problem(str(path), f"not UTF-8 text: {exc.reason} at byte "
                                       f"{exc.start}"))
    except OSError as exc:
        report.problems.append(Problem(str(path), f"cannot read: {exc.strerror}"))
    return None


def lint_source(source: SourceFile, config: LintConfig, rules: list[Rule],
                catalog: Catalog | None, report: LintReport,
                keyed: tuple[list[parallel.Key], dict[str, int]] | None = None,
                file_number: int = 0) -> None:
    """Run the rules over one file's statements, walking the migration context.

    With `keyed` (a list to fill and each rule's rank among all the run's rules), every
    finding also gets the key that puts it back in order when shares of the rules ran in
    separate processes.
    """
    version = catalog.server_version if catalog and catalog.server_version else config.pg_version
    ctx = Context(dialect=config.dialect, pg_version=version, tool=config.tool, catalog=catalog,
                  statements=len(source.statements))
    dispatch: dict[str, list[Rule]] = {}
    for rule in rules:
        for node in rule.nodes:
            dispatch.setdefault(node, []).append(rule)
    report.problems.extend(source.problems)
    report.notices.extend(source.notices)
    report.statements += len(source.statements)
    # Once per statement and rule, hundreds of thousands of times on a long history: lookups
    # are hoisted, and a statement without dbarch-ignore comments skips asking them.
    found, advance, no_rules = report.findings.append, ctx.advance, ()
    keys, rank = keyed if keyed is not None else (None, {})
    for number, stmt in enumerate(source.statements):
        for rule in dispatch.get(stmt.kind, no_rules):
            for finding in rule.check(stmt, ctx):
                ignores = stmt.ignores
                if ignores:
                    reason = ignores.get(rule.code.lower()) or ignores.get(rule.name)
                    finding.suppressed = ignores.get("all") if reason is None else reason
                else:
                    finding.suppressed = None
                if rule.scales_with_table:
                    _judge_size(finding, ctx, config)
                found(finding)
                if keys is not None:
                    keys.append((file_number, number, rank[rule.code], len(keys)))
        advance(stmt)


def _judge_size(finding: Finding, ctx: Context, config: LintConfig) -> None:
    """With the live catalog, say how big the table is; a small one is not an incident."""
    stats = ctx.stats(finding.table)
    if stats is None:
        return
    size = f"~{stats.rows:,} rows, {_bytes(stats.bytes)} on the server"
    if stats.rows < config.small_table_rows and stats.bytes < config.small_table_bytes:
        finding.severity = Severity.INFO
        finding.note = f"{finding.table} is small ({size}): this takes milliseconds today"
    else:
        finding.note = f"{finding.table} holds {size}"


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} B"
